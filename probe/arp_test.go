package probe

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestARPClassifier(t *testing.T) {
	v := loadVectors(t)
	// What each frame from ../testdata/frames.tsv must give: a responder
	// "mac kind", or an ignore reason.
	tests := []struct {
		frame     string
		responder string
		ignored   string
	}{
		{"C16_a_reply_from_other_host_unicast_to_us",
			"02:00:00:00:00:aa conflict", ""},
		{"C16_b_reply_broadcast", "02:00:00:00:00:aa conflict", ""},
		{"C16_c_announcement_gratuitous_request",
			"02:00:00:00:00:aa conflict", ""},
		{"C16_e_router_who-has_not_conflict", "", ARPIgnoreUnrelated},
		{"C16_h_reply_with_sha_equal_probed_client_MAC",
			"02:00:00:00:00:01 owner", ""},
		{"C16_our_probe_own_echo", "", ARPIgnoreOwn},
		{"C16_x_malformed_plen0", "", ARPIgnoreMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.frame, func(t *testing.T) {
			w := newARPWatcher(vecIP, vecInterface, vecClient,
				func(string, ...any) {})
			_, body, ok := etherPayload(v[tt.frame])
			if !ok {
				t.Fatal("frame does not decode")
			}
			w.consider(body, time.Now())

			var got []string
			for _, r := range w.res.Responders {
				got = append(got, r.MAC.String()+" "+string(r.Kind))
			}
			var want []string
			if tt.responder != "" {
				want = []string{tt.responder}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("responders (-want +got):\n%s", diff)
			}
			wantIgnored := map[string]int{}
			if tt.ignored != "" {
				wantIgnored[tt.ignored] = 1
			}
			if diff := cmp.Diff(wantIgnored, w.res.Ignored); diff != "" {
				t.Errorf("ignored (-want +got):\n%s", diff)
			}
		})
	}
}

func TestARPClassifierWithoutExpectedOwner(t *testing.T) {
	// Without --mac the client's own answer is just another claim.
	w := newARPWatcher(vecIP, vecInterface, nil, func(string, ...any) {})
	_, body, _ := etherPayload(
		loadVectors(t)["C16_h_reply_with_sha_equal_probed_client_MAC"])
	w.consider(body, time.Now())
	if w.res.Status() != ARPConflict {
		t.Errorf("status %s, want conflict", w.res.Status())
	}
}

func TestARPOtherHostProbing(t *testing.T) {
	// Another host's probe for the same address: sender IP 0.0.0.0.
	frame, err := BuildARPProbe(mustMAC(t, "02:00:00:00:00:bb"), vecIP)
	if err != nil {
		t.Fatal(err)
	}
	w := newARPWatcher(vecIP, vecInterface, vecClient, func(string, ...any) {})
	_, body, _ := etherPayload(frame)
	w.consider(body, time.Now())
	w.consider(body, time.Now())

	if len(w.res.Responders) != 1 {
		t.Fatalf("got %d responders, want 1", len(w.res.Responders))
	}
	r := w.res.Responders[0]
	got := []any{r.MAC.String(), r.Kind, r.Count, w.res.Status()}
	want := []any{"02:00:00:00:00:bb", KindProbe, 2, ARPFree}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBuildARPProbeFields(t *testing.T) {
	frame, err := BuildARPProbe(vecInterface, vecIP)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // Ethernet destination: broadcast
		2, 0, 0, 0, 0, 2, // Ethernet source: the interface
		0x08, 0x06, // EtherType ARP
		0, 1, // hardware type Ethernet
		0x08, 0x00, // protocol IPv4
		6, 4, // address lengths
		0, 1, // request
		2, 0, 0, 0, 0, 2, // sender hardware: the interface
		0, 0, 0, 0, // sender IP 0.0.0.0 (RFC 5227 §2.1.1)
		0, 0, 0, 0, 0, 0, // target hardware: zero
		192, 0, 2, 50, // target IP: the probed address
	}
	want = append(want, make([]byte, 60-len(want))...)
	if diff := cmp.Diff(want, frame); diff != "" {
		t.Errorf("probe frame (-want +got):\n%s", diff)
	}
}

func TestVerdictWithARP(t *testing.T) {
	conflict := &ARPResult{Responders: []*ARPResponder{{Kind: KindConflict}}}
	owner := &ARPResult{Responders: []*ARPResponder{{Kind: KindOwner}}}
	free := &ARPResult{}
	tests := []struct {
		name  string
		types []MessageType
		arp   *ARPResult
		want  Verdict
	}{
		{"ack and conflict", []MessageType{ACK}, conflict, Conflict},
		{"ack and owner", []MessageType{ACK}, owner, Valid},
		{"ack and free", []MessageType{ACK}, free, Valid},
		{"nak and conflict", []MessageType{NAK}, conflict, Invalid},
		{"silence and conflict", nil, conflict, NoAnswer},
		{"dispute and conflict", []MessageType{ACK, NAK}, conflict, Disputed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Result{ARP: tt.arp}
			for _, typ := range tt.types {
				r.Replies = append(r.Replies, &Reply{Type: typ})
			}
			if got := r.Verdict(); got != tt.want {
				t.Errorf("verdict %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRunWithARPProbes(t *testing.T) {
	v := loadVectors(t)
	ft, clk := newFake(
		timedFrame{2 * time.Millisecond, v["C00_ack_baseline"]},
		timedFrame{4 * time.Millisecond, v["C16_our_probe_own_echo"]},
		timedFrame{7 * time.Millisecond, v["C16_b_reply_broadcast"]},
		timedFrame{700 * time.Millisecond, v["C16_b_reply_broadcast"]},
	)
	res := runFake(t, ft, clk, func(c *Config) { c.ARPProbes = 3 })

	if res.ARP == nil {
		t.Fatal("no ARP result")
	}
	var arpAt []time.Duration
	for i, w := range ft.written {
		if w[12] == 0x08 && w[13] == 0x06 {
			arpAt = append(arpAt, ft.writeAt[i].Sub(ft.start))
		}
	}
	third := time.Second / 3
	if diff := cmp.Diff([]time.Duration{0, third, 2 * third}, arpAt); diff != "" {
		t.Errorf("ARP probe times (-want +got):\n%s", diff)
	}
	got := []any{res.Verdict(), res.ARP.ProbesSent, res.ARP.Status(),
		len(res.ARP.Responders), res.ARP.Responders[0].Count,
		res.ARP.Responders[0].Elapsed, res.ARP.Ignored[ARPIgnoreOwn],
		res.Request.Sent, res.Elapsed}
	want := []any{Conflict, 3, ARPConflict, 1, 2, 7 * time.Millisecond, 1, 1,
		time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRunARPAlone(t *testing.T) {
	v := loadVectors(t)
	ft, clk := newFake(
		timedFrame{5 * time.Millisecond, v["C00_ack_baseline"]},
		timedFrame{6 * time.Millisecond,
			v["C16_h_reply_with_sha_equal_probed_client_MAC"]},
		timedFrame{9 * time.Millisecond, v["C16_x_malformed_plen0"]},
	)
	c := Config{Interface: "veth0", InterfaceMAC: vecInterface,
		ClientMAC: vecClient, IP: vecIP, Timeout: 500 * time.Millisecond,
		ARPProbes: 2, Now: clk.Now}
	rep, err := RunARP(context.Background(), ft, c)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{rep.ARP.Status(), rep.ARP.ProbesSent, len(ft.written),
		rep.ARP.Ignored[ARPIgnoreMalformed], rep.Elapsed}
	want := []any{ARPOwner, 2, 2, 1, 500 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRunARPRejectsBadConfig(t *testing.T) {
	ft, _ := newFake()
	c := Config{InterfaceMAC: vecInterface, IP: netip.MustParseAddr("224.0.0.1"),
		Timeout: time.Second, ARPProbes: 1}
	if _, err := RunARP(context.Background(), ft, c); err == nil {
		t.Error("RunARP accepted a multicast address")
	}
	c.IP = vecIP
	c.ARPProbes = 0
	if _, err := RunARP(context.Background(), ft, c); err == nil {
		t.Error("RunARP accepted zero probes")
	}
	if len(ft.written) != 0 {
		t.Errorf("sent %d frames for bad configs", len(ft.written))
	}
}

func TestARPOwnHostTrafficIsNotAConflict(t *testing.T) {
	// This host holds the address and asks for its router: sender IP is
	// the probed address, sender MAC our own interface's.
	body := append(append([]byte{0, 1, 8, 0, 6, 4, 0, 1}, vecInterface...),
		192, 0, 2, 50, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1)
	w := newARPWatcher(vecIP, vecInterface, nil, func(string, ...any) {})
	w.consider(body, time.Now())

	got := []any{w.res.Status(), len(w.res.Responders), w.res.Ignored[ARPIgnoreOwn]}
	if diff := cmp.Diff([]any{ARPFree, 0, 1}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
