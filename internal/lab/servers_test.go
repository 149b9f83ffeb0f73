//go:build linux

package lab_test

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

var (
	seededMAC = mustMAC("02:00:00:00:aa:01")
	seededIP  = netip.MustParseAddr("192.0.2.50")
	seededCID = append([]byte{1}, seededMAC...)
)

// Every server program starts in its own host, each with its seeded lease
// in its own lease database, and Close stops them all.
func TestLabStartsEveryServerProgram(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramKea, lab.ProgramDhcpd)
	l := newLab(t)

	opts := lab.ServerOptions{
		Leases: []lab.Lease{{MAC: seededMAC, IP: seededIP, ClientID: seededCID}},
	}
	var started []lab.Server
	for _, program := range []string{lab.ProgramDnsmasq, lab.ProgramKea, lab.ProgramDhcpd} {
		h, err := l.AddServer(strings.ReplaceAll(program, "-", ""))
		noErr(t, err)
		s, err := h.StartServer(t.Context(), program, opts)
		noErr(t, err)
		started = append(started, s)
	}

	leases := map[string]func() (string, error){
		"dnsmasq":   started[0].(*lab.Dnsmasq).Leases,
		"kea-dhcp4": started[1].(*lab.Kea).Leases,
		"dhcpd":     started[2].(*lab.Dhcpd).Leases,
	}
	// Each store names the MAC and the client identifier in its own way.
	want := map[string][]string{
		"dnsmasq": {"02:00:00:00:aa:01 192.0.2.50", "01:02:00:00:00:aa:01"},
		"kea-dhcp4": {"192.0.2.50,02:00:00:00:aa:01,01:02:00:00:00:aa:01",
			"address,hwaddr,client_id"},
		"dhcpd": {"lease 192.0.2.50 {", "hardware ethernet 02:00:00:00:aa:01;",
			"binding state active;"},
	}
	for program, read := range leases {
		text, err := read()
		noErr(t, err)
		for _, w := range want[program] {
			if !strings.Contains(text, w) {
				t.Errorf("%s lease file lacks %q:\n%s", program, w, text)
			}
		}
	}
	if n := len(l.Servers()); n != 3 {
		t.Errorf("lab lists %d servers, want 3", n)
	}

	namespaces, pids := l.Namespaces(), l.PIDs()
	noErr(t, l.Close())
	assertGone(t, namespaces, pids)
}

// A relay host joins two segments; a server on the second one, with a
// route back to the first, is reached through it.
func TestLabRelayJoinsTwoSegments(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramRelay)
	l := newLab(t)

	far, err := l.AddSegment("far", netip.MustParsePrefix("203.0.113.0/24"))
	noErr(t, err)
	relay, err := l.AddHost("relay", lab.HostConfig{
		MAC:    mustMAC("02:00:00:00:02:01"),
		Prefix: netip.MustParsePrefix("192.0.2.254/24"),
	})
	noErr(t, err)
	up, err := relay.AddLink(lab.HostConfig{
		Segment: far,
		MAC:     mustMAC("02:00:00:00:02:02"),
		Prefix:  netip.MustParsePrefix("203.0.113.254/24"),
	})
	noErr(t, err)
	srv, err := far.AddServer("server")
	noErr(t, err)
	if got := srv.Addr().String(); got != "203.0.113.1" {
		t.Errorf("first server of the far segment at %s, want 203.0.113.1", got)
	}
	noErr(t, srv.AddRoute(lab.Subnet, up.Addr()))

	// The server reaches the client segment through the relay.
	res, err := srv.Run(t.Context(), "ip", "-o", "route", "get", "192.0.2.9")
	noErr(t, err)
	if !strings.Contains(string(res.Stdout), "via 203.0.113.254 dev "+srv.Iface) {
		t.Errorf("server's route to the client segment: %s%s", res.Stdout, res.Stderr)
	}

	r, err := relay.StartRelay(t.Context(), lab.RelayConfig{
		Up:      up.Iface,
		Servers: []netip.Addr{srv.Addr()},
	})
	noErr(t, err)
	if r.Process().Exited() {
		t.Fatalf("dhcrelay exited:\n%s", r.Log())
	}

	// Addresses outside the documentation ranges are refused.
	if _, err := l.AddSegment("bad", netip.MustParsePrefix("10.0.0.0/24")); err == nil {
		t.Errorf("AddSegment accepted 10.0.0.0/24")
	}
	if err := srv.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), up.Addr()); err == nil {
		t.Errorf("AddRoute accepted a default route")
	}

	namespaces, pids := l.Namespaces(), l.PIDs()
	noErr(t, l.Close())
	assertGone(t, namespaces, pids)
}

func mustMAC(s string) net.HardwareAddr {
	mac, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}

	return mac
}

// tbRecorder stands in for a test to see what Require does with it.
type tbRecorder struct {
	testing.TB
	skipped, failed string
}

func (r *tbRecorder) Helper() {}

func (r *tbRecorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
}

func (r *tbRecorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

// Require names each missing program; it skips outside CI and fails
// under CI=true. (Not parallel: it sets CI.)
func TestRequireNamesMissingPrograms(t *testing.T) {
	const absent = "leaseprobe-absent-program"
	if got := lab.Missing(absent); !slices.Contains(got, absent) {
		t.Errorf("Missing(%q) = %q, want it listed", absent, got)
	}

	t.Setenv("CI", "")
	rec := &tbRecorder{TB: t}
	lab.Require(rec, absent)
	if !strings.Contains(rec.skipped, "lab needs") ||
		!strings.Contains(rec.skipped, absent) || rec.failed != "" {
		t.Errorf("outside CI: skipped %q, failed %q; want a skip naming %s",
			rec.skipped, rec.failed, absent)
	}

	t.Setenv("CI", "true")
	rec = &tbRecorder{TB: t}
	lab.Require(rec, absent)
	if !strings.Contains(rec.failed, absent) || !strings.Contains(rec.failed, "CI=true") {
		t.Errorf("under CI: failed %q, want a failure naming %s", rec.failed, absent)
	}
}

// A server that rejects its configuration fails StartKea or StartDhcpd
// with its own complaint, and leaves no process behind.
func TestLabBadServerConfigReportsLogAndCleansUp(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramKea, lab.ProgramDhcpd)
	l := newLab(t)

	kh, err := l.AddServer("kea")
	noErr(t, err)
	_, err = kh.StartKea(t.Context(), lab.KeaConfig{
		Global: map[string]any{"valid-lifetime": "not a number"},
	})
	// Kea names the line of its configuration file, not the key.
	if err == nil || !strings.Contains(err.Error(), "DHCP4_CONFIG_LOAD_FAIL") {
		t.Errorf("StartKea with a bad valid-lifetime: %v", err)
	}

	dh, err := l.AddServer("dhcpd")
	noErr(t, err)
	_, err = dh.StartDhcpd(t.Context(), lab.DhcpdConfig{
		Extra: []string{"no-such-statement 1;"},
	})
	if err == nil || !strings.Contains(err.Error(), "no-such-statement") {
		t.Errorf("StartDhcpd with a bad statement: %v", err)
	}

	namespaces, pids := l.Namespaces(), l.PIDs()
	if len(pids) != 2 {
		t.Errorf("pids = %v, want kea-dhcp4's and dhcpd's", pids)
	}
	noErr(t, l.Close())
	assertGone(t, namespaces, pids)
}
