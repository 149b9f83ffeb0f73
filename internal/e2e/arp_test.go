//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/layers"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// strangerMAC is a host that is not the lease holder.
var strangerMAC = mustMAC("02:00:00:00:cc:03")

// arpDocument is the JSON of `leaseprobe arp`, as documented.
type arpDocument struct {
	SchemaVersion int    `json:"schema_version"`
	IP            string `json:"ip"`
	MAC           *string
	ExitCode      int     `json:"exit_code"`
	ElapsedMS     int64   `json:"elapsed_ms"`
	ARP           arpInfo `json:"arp"`
}

type arpInfo struct {
	ProbesSent int    `json:"probes_sent"`
	Status     string `json:"status"`
	Responders []struct {
		MAC   string `json:"mac"`
		Kind  string `json:"kind"`
		Count int    `json:"count"`
	} `json:"responders"`
	Ignored map[string]int `json:"ignored"`
}

// responders lists "mac kind" for each responder.
func (a arpInfo) responders() []string {
	var out []string
	for _, r := range a.Responders {
		out = append(out, r.MAC+" "+r.Kind)
	}

	return out
}

var arpFields = []string{"probes_sent", "status", "responders", "ignored"}

// checkARPObject checks the documented fields of an "arp" object.
func checkARPObject(t *testing.T, arp map[string]any) {
	t.Helper()

	hasFields(t, "arp", arp, arpFields)
	for _, r := range list(t, arp, "responders") {
		m, _ := r.(map[string]any)
		hasFields(t, "arp.responders[]", m,
			[]string{"mac", "kind", "elapsed_ms", "count"})
		matches(t, "arp.responders[].mac", m["mac"], macRe)
	}
}

// addHolder adds a host that has ip configured on its interface, as a
// machine using the address would.
func addHolder(t *testing.T, l *lab.Lab, name string, mac net.HardwareAddr,
	ip netip.Addr) *lab.Host {
	t.Helper()

	h, err := l.AddHost(name, lab.HostConfig{MAC: mac,
		Prefix: netip.PrefixFrom(ip, 24)})
	if err != nil {
		t.Fatal(err)
	}

	return h
}

// runARP runs `leaseprobe arp` on the client and decodes its JSON.
func runARP(t *testing.T, client *lab.Host, want int, args ...string) arpDocument {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	full := append([]string{"arp", "-i", client.Iface, "--json"}, args...)
	res, err := client.Run(ctx, probeBin, full...)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != want {
		t.Fatalf("leaseprobe %s: exit %d, want %d\n%s\n%s",
			strings.Join(full, " "), res.ExitCode, want, res.Stdout, res.Stderr)
	}

	raw := singleDocument(t, res.Stdout)
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	checkARPObject(t, object(t, top, "arp"))
	var doc arpDocument
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	return doc
}

func TestARPAlone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		holderMAC  net.HardwareAddr // nil: nobody holds the address
		exit       int
		status     string
		responders []string
	}{
		{"a stranger holds the address", strangerMAC, 5, "conflict",
			[]string{strangerMAC.String() + " conflict"}},
		{"the client holds it", macA, 0, "owner",
			[]string{macA.String() + " owner"}},
		{"nobody holds it", nil, 0, "free", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			if c.holderMAC != nil {
				addHolder(t, e.lab, "holder", c.holderMAC, leasedIP)
			}

			doc := runARP(t, e.client, c.exit, "--ip", leasedIP.String(),
				"--mac", macA.String(), "-t", "1s", "--count", "2")
			got := []any{doc.SchemaVersion, doc.IP, doc.ExitCode,
				doc.ARP.ProbesSent, doc.ARP.Status, doc.ARP.responders()}
			want := []any{1, leasedIP.String(), c.exit, 2, c.status,
				c.responders}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckARPConflictWithRealServer: dnsmasq ACKs the lease while a
// stranger uses the address: the verdict is conflict, exit 5.
func TestCheckARPConflictWithRealServer(t *testing.T) {
	t.Parallel()
	e := setup(t, fullConfig())
	addHolder(t, e.lab, "stranger", strangerMAC, leasedIP)

	doc := e.runJSON(t, 5, "-m", macA.String(), "-a", leasedIP.String(),
		"-t", "1s", "--arp", "--arp-count", "2")
	var arp arpInfo
	if err := json.Unmarshal(doc.ARP, &arp); err != nil {
		t.Fatalf("arp object: %v", err)
	}
	got := []any{doc.Verdict, len(doc.Replies), arp.Status, arp.ProbesSent,
		arp.responders()}
	want := []any{"conflict", 1, "conflict", 2,
		[]string{strangerMAC.String() + " conflict"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if doc.Replies[0].Type != "ACK" {
		t.Errorf("reply %s, want the server's ACK", doc.Replies[0].Type)
	}
}

// TestARPProbesOnTheWire captures every ARP frame the probe sends: each
// must be an RFC 5227 probe with sender IP 0.0.0.0, also when the probing
// interface has an IPv4 address of its own.
func TestARPProbesOnTheWire(t *testing.T) {
	t.Parallel()
	for _, withAddr := range []bool{false, true} {
		name := "probe interface without address"
		if withAddr {
			name = "probe interface with an address"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := lab.ForTest(t)
			if buildErr != nil {
				t.Fatalf("leaseprobe did not build: %v", buildErr)
			}
			cfg := lab.HostConfig{MAC: lab.ClientMAC}
			if withAddr {
				cfg.Prefix = netip.MustParsePrefix("192.0.2.99/24")
			}
			client, err := l.AddHost("client", cfg)
			if err != nil {
				t.Fatal(err)
			}
			addHolder(t, l, "stranger", strangerMAC, leasedIP)

			capture, err := client.Capture(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			runARP(t, client, 5, "--ip", leasedIP.String(), "-t", "600ms",
				"--count", "3")
			frames, err := capture.Frames()
			if err != nil {
				t.Fatal(err)
			}

			probes := 0
			for _, f := range frames {
				a, ok := f.Packet.Layer(layers.LayerTypeARP).(*layers.ARP)
				eth, _ := f.Packet.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
				if eth == nil || !bytes.Equal(eth.SrcMAC, client.MAC) {
					continue
				}
				if !ok {
					t.Errorf("the probe sent a non-ARP frame: %v", f.Packet)
					continue
				}
				probes++
				got := []any{net.HardwareAddr(eth.DstMAC).String(), a.Operation,
					net.HardwareAddr(a.SourceHwAddress).String(),
					net.IP(a.SourceProtAddress).String(),
					net.HardwareAddr(a.DstHwAddress).String(),
					net.IP(a.DstProtAddress).String()}
				want := []any{"ff:ff:ff:ff:ff:ff", uint16(layers.ARPRequest),
					client.MAC.String(), "0.0.0.0", "00:00:00:00:00:00",
					leasedIP.String()}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("probe frame (-want +got):\n%s", diff)
				}
			}
			if probes != 3 {
				t.Errorf("captured %d probes from %s, want 3", probes, client.MAC)
			}
		})
	}
}
