package probe

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// withXID returns a copy of a test frame carrying another xid.
func withXID(frame []byte, xid uint32) []byte {
	c := append([]byte(nil), frame...)
	binary.BigEndian.PutUint32(c[14+20+8+4:], xid)

	return c
}

// requestFrame is the frame of the test probe's request for ip, as sent
// from the probe interface with transaction id xid.
func requestFrame(t *testing.T, ip netip.Addr, xid uint32) []byte {
	t.Helper()
	c := vecConfig()
	c.IP = ip
	req, err := BuildRequest(&c, xid)
	if err != nil {
		t.Fatal(err)
	}

	return BuildRequestFrame(vecInterface, req)
}

func TestAnalyze(t *testing.T) {
	v := loadVectors(t)
	request := requestFrame(t, vecIP, vecXID)

	// A SELECTING request (option 54 set) from another exchange: its ACK
	// is not a probe's and not an orphan either.
	sel := vecConfig()
	selPayload, err := BuildRequest(&sel, 0x0badcafe)
	if err != nil {
		t.Fatal(err)
	}
	selPayload = addServerID(t, selPayload)
	selecting := BuildRequestFrame(vecInterface, selPayload)

	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time {
		return t0.Add(time.Duration(ms) * time.Millisecond)
	}
	frames := []Frame{
		{Time: at(0), Data: request},
		{Time: at(3), Data: v["C04a_ack_from_A"]},
		{Time: at(4), Data: selecting},
		{Time: at(5), Data: withXID(v["C00_ack_baseline"], 0x0badcafe)},
		{Time: at(6), Data: v["C04b_nak_from_B"]},
		{Time: at(500), Data: request},
		{Time: at(502), Data: v["C04a_ack_from_A"]},
		{Time: at(700), Data: withXID(v["C07a_nak_no_server_id"], 0x01020304)},
		{Time: at(900), Data: v["C10f_udp_length_field_4"]},
		{Time: at(1000), Data: v["C16_b_reply_broadcast"]},
	}
	results := Analyze(frames)

	type summary struct {
		XID      uint32
		IP       string
		Sent     int
		Verdict  Verdict
		Replies  []string
		Elapsed  time.Duration
		Warnings int
	}
	var got []summary
	for _, r := range results {
		s := summary{XID: r.Request.XID, IP: r.Request.IP.String(),
			Sent: r.Request.Sent, Verdict: r.Verdict(), Elapsed: r.Elapsed,
			Warnings: len(r.Warnings)}
		for _, rep := range r.Replies {
			s.Replies = append(s.Replies, fmt.Sprintf("%s %s x%d",
				rep.Type, rep.ServerKey(), rep.Count))
		}
		got = append(got, s)
	}
	want := []summary{
		{XID: vecXID, IP: "192.0.2.50", Sent: 2, Verdict: Disputed,
			Replies: []string{"ACK 192.0.2.1 x2", "NAK 192.0.2.2 x1"},
			Elapsed: time.Second},
		{XID: 0x01020304, IP: "invalid IP", Sent: 0, Verdict: Invalid,
			Replies: []string{"NAK 192.0.2.1 x1"},
			Elapsed: 300 * time.Millisecond, Warnings: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	req0 := results[0].Request
	if req0.InterfaceMAC.String() != vecInterface.String() || !req0.Broadcast ||
		req0.ClientMAC.String() != vecClient.String() {
		t.Errorf("request read back as %+v", req0)
	}
}

// addServerID inserts option 54 before END, making a SELECTING request.
func addServerID(t *testing.T, payload []byte) []byte {
	t.Helper()
	end := optionsOff
	for i := optionsOff; i < len(payload); {
		if payload[i] == optEnd {
			end = i
			break
		}
		if payload[i] == optPad {
			i++
			continue
		}
		i += 2 + int(payload[i+1])
	}
	out := append([]byte(nil), payload[:end]...)
	out = append(out, 54, 4, 192, 0, 2, 1, optEnd)

	return out
}

func TestAnalyzeEmpty(t *testing.T) {
	if got := Analyze(nil); len(got) != 0 {
		t.Errorf("Analyze(nil) = %d results, want none", len(got))
	}
}

func TestAnalyzeARP(t *testing.T) {
	v := loadVectors(t)
	request := requestFrame(t, vecIP, vecXID)
	ourProbe, err := BuildARPProbe(vecInterface, vecIP)
	if err != nil {
		t.Fatal(err)
	}
	otherProbe, err := BuildARPProbe(mustMAC(t, "02:00:00:00:00:99"), vecIP)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time {
		return t0.Add(time.Duration(ms) * time.Millisecond)
	}
	stranger := v["C16_b_reply_broadcast"]
	owner := v["C16_h_reply_with_sha_equal_probed_client_MAC"]

	type arpSummary struct {
		Sent       int
		Status     ARPStatus
		Responders []string
		Ignored    map[string]int
	}
	tests := []struct {
		name    string
		frames  []Frame
		verdict Verdict
		arp     *arpSummary
	}{
		{"probes and a stranger's replies", []Frame{
			{Time: at(0), Data: request},
			{Time: at(0), Data: ourProbe},
			{Time: at(0).Add(50 * time.Microsecond), Data: ourProbe}, // its echo
			{Time: at(3), Data: v["C00_ack_baseline"]},
			{Time: at(7), Data: stranger},
			{Time: at(333), Data: ourProbe},
			{Time: at(340), Data: stranger},
			{Time: at(500), Data: v["C16_e_router_who-has_not_conflict"]},
			{Time: at(666), Data: ourProbe},
		}, Conflict, &arpSummary{Sent: 3, Status: ARPConflict,
			Responders: []string{"02:00:00:00:00:aa conflict x2 7ms"},
			Ignored: map[string]int{ARPIgnoreOwn: 1,
				ARPIgnoreUnrelated: 1}}},
		{"the client answers", []Frame{
			{Time: at(0), Data: ourProbe},
			{Time: at(1), Data: request},
			{Time: at(3), Data: v["C00_ack_baseline"]},
			{Time: at(9), Data: owner},
		}, Valid, &arpSummary{Sent: 1, Status: ARPOwner,
			Responders: []string{"02:00:00:00:00:01 owner x1 8ms"},
			Ignored:    map[string]int{}}},
		{"no probes of ours", []Frame{
			{Time: at(0), Data: request},
			{Time: at(1), Data: otherProbe},
			{Time: at(3), Data: v["C00_ack_baseline"]},
			{Time: at(7), Data: stranger},
		}, Valid, nil},
		{"our probes long before the request", []Frame{
			{Time: at(0), Data: ourProbe},
			{Time: at(5000), Data: request},
			{Time: at(5003), Data: v["C00_ack_baseline"]},
			{Time: at(5007), Data: stranger},
		}, Valid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := Analyze(tt.frames)
			if len(results) != 1 {
				t.Fatalf("%d results, want 1", len(results))
			}
			res := results[0]
			var got *arpSummary
			if a := res.ARP; a != nil {
				got = &arpSummary{Sent: a.ProbesSent, Status: a.Status(),
					Ignored: a.Ignored}
				for _, r := range a.Responders {
					got.Responders = append(got.Responders, fmt.Sprintf(
						"%s %s x%d %s", r.MAC, r.Kind, r.Count, r.Elapsed))
				}
			}
			if diff := cmp.Diff(tt.arp, got); diff != "" {
				t.Errorf("arp (-want +got):\n%s", diff)
			}
			if got := res.Verdict(); got != tt.verdict {
				t.Errorf("verdict %s, want %s", got, tt.verdict)
			}
		})
	}
}

func TestAnalyzeKeepsAnUnrecordedDestinationUnknown(t *testing.T) {
	v := loadVectors(t)
	req := requestFrame(t, vecIP, vecXID)
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		noDst bool
		want  string
	}{
		{"ethernet", false, "ff:ff:ff:ff:ff:ff"},
		{"cooked, sent by us", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := Analyze([]Frame{
				{Time: t0, Data: req},
				{Time: t0.Add(time.Millisecond), Data: v["C00_ack_baseline"],
					NoDestination: tt.noDst},
			})
			if len(results) != 1 || len(results[0].Replies) != 1 {
				t.Fatalf("got %d results", len(results))
			}
			dst := results[0].Replies[0].DestinationMAC
			if got := []any{dst.String(), dst == nil}; !cmp.Equal(got,
				[]any{tt.want, tt.noDst}) {
				t.Errorf("destination %q (nil %v), want %q", got[0], got[1],
					tt.want)
			}
		})
	}
}

// TestAnalyzeBatchARP: a batch sends the probes of several addresses from
// one MAC at the same moment; each address keeps its own ARP probes and
// answers, so a stranger on one address is that pair's conflict only.
func TestAnalyzeBatchARP(t *testing.T) {
	v := loadVectors(t)
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time {
		return t0.Add(time.Duration(ms) * time.Millisecond)
	}
	second := netip.MustParseAddr("192.0.2.60")
	var frames []Frame
	var probes [2][]byte
	for i, ip := range []netip.Addr{vecIP, second} {
		frames = append(frames, Frame{Time: at(0),
			Data: requestFrame(t, ip, vecXID+uint32(i))})
		var err error
		if probes[i], err = BuildARPProbe(vecInterface, ip); err != nil {
			t.Fatal(err)
		}
	}
	for _, ms := range []int{0, 100, 200} {
		frames = append(frames, Frame{Time: at(ms), Data: probes[0]},
			Frame{Time: at(ms), Data: probes[1]})
	}
	frames = append(frames,
		Frame{Time: at(2), Data: v["C00_ack_baseline"]},
		Frame{Time: at(5), Data: v["C16_b_reply_broadcast"]},
		Frame{Time: at(300), Data: v["C16_e_router_who-has_not_conflict"]})

	var got []string
	for _, res := range Analyze(frames) {
		if res.ARP == nil {
			t.Fatalf("%s: no ARP part", res.Request.IP)
		}
		got = append(got, fmt.Sprintf("%s %s sent %d responders %d "+
			"ignored %v", res.Request.IP, res.Verdict(), res.ARP.ProbesSent,
			len(res.ARP.Responders), res.ARP.Ignored))
	}
	want := []string{
		"192.0.2.50 conflict sent 3 responders 1 ignored map[unrelated:1]",
		"192.0.2.60 no-answer sent 3 responders 0 ignored map[]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

// TestAnalyzeFramesOutOfTimeOrder: a capture whose times run backwards
// (merged files, a clock stepped back) ends at its latest frame, so no
// duration comes out negative.
func TestAnalyzeFramesOutOfTimeOrder(t *testing.T) {
	req := requestFrame(t, vecIP, vecXID)
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	res := Analyze([]Frame{
		{Time: t0.Add(10 * time.Millisecond),
			Data: req},
		{Time: t0, Data: loadVectors(t)["C00_ack_baseline"]},
	})
	if len(res) != 1 || res[0].Elapsed != 0 || res[0].Timeout != 0 ||
		res[0].Verdict() != Valid {
		t.Fatalf("results %d, elapsed %v, timeout %v; want one valid "+
			"result with 0 and 0", len(res), res[0].Elapsed, res[0].Timeout)
	}
}

// TestAnalyzeReplyBeforeItsRequest: a capture that starts between a
// request and its retransmission holds a reply first; the request that
// follows is still paired with it, not reported missing.
func TestAnalyzeReplyBeforeItsRequest(t *testing.T) {
	req := requestFrame(t, vecIP, vecXID)
	ack := loadVectors(t)["C00_ack_baseline"]
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	res := Analyze([]Frame{
		{Time: t0, Data: ack},
		{Time: t0.Add(time.Second), Data: req},
		{Time: t0.Add(time.Second + 2*time.Millisecond), Data: ack},
	})
	if len(res) != 1 {
		t.Fatalf("%d results, want 1", len(res))
	}
	r := res[0]
	got := []any{r.Verdict(), r.Request.Sent, r.Request.IP.String(),
		len(r.Replies), r.Replies[0].Count, r.Replies[0].Elapsed,
		len(r.Warnings) == 1 &&
			strings.Contains(r.Warnings[0], "captured before the first request")}
	want := []any{Valid, 1, "192.0.2.50", 1, 2, time.Duration(0), true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s\nwarnings %q", diff, r.Warnings)
	}
}
