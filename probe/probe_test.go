package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// runFake runs a probe over the fake with the vectors' identities.
func runFake(t *testing.T, ft *fakeTransport, clk *fakeClock,
	change func(*Config)) *Result {
	t.Helper()
	c := vecConfig()
	c.Now = clk.Now
	if change != nil {
		change(&c)
	}
	res, err := Run(context.Background(), ft, c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	return res
}

func TestRunCollectsEveryServer(t *testing.T) {
	v := loadVectors(t)
	ft, clk := newFake(
		timedFrame{3 * time.Millisecond, v["C04b_nak_from_B"]},
		timedFrame{5 * time.Millisecond, v["C04a_ack_from_A"]},
		timedFrame{6 * time.Millisecond, v["C10f_udp_length_field_4"]},
		// Arrives after the timeout: not part of the result.
		timedFrame{1500 * time.Millisecond, v["C07a_nak_no_server_id"]},
	)
	res := runFake(t, ft, clk, nil)

	if res.Verdict() != Disputed {
		t.Errorf("verdict = %s, want disputed", res.Verdict())
	}
	var got []string
	for _, r := range res.Replies {
		got = append(got, string(r.Type)+" "+r.ServerKey()+" "+
			r.Elapsed.String())
	}
	want := []string{"NAK 192.0.2.2 3ms", "ACK 192.0.2.1 5ms"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{SkipBadLength: 1}, res.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if res.Elapsed != time.Second || res.Interrupted {
		t.Errorf("elapsed %s interrupted %v, want 1s and false",
			res.Elapsed, res.Interrupted)
	}
	if res.Request.Sent != 1 || len(ft.written) != 1 {
		t.Errorf("sent %d, wrote %d frames, want 1", res.Request.Sent,
			len(ft.written))
	}
}

func TestRunRetriesReuseXIDAndFold(t *testing.T) {
	ack := loadVectors(t)["C00_ack_baseline"]
	ft, clk := newFake()
	// The server answers each copy of the request 2 ms after it.
	ft.onWrite = func(_ int, at time.Duration) []timedFrame {
		return []timedFrame{{at + 2*time.Millisecond, ack}}
	}
	res := runFake(t, ft, clk, func(c *Config) {
		c.Retries = 2
		c.Timeout = 3 * time.Second
	})

	if res.Request.Sent != 3 || len(ft.written) != 3 {
		t.Fatalf("sent %d, wrote %d, want 3", res.Request.Sent, len(ft.written))
	}
	var offsets []time.Duration
	for i, w := range ft.written {
		offsets = append(offsets, ft.writeAt[i].Sub(ft.start))
		if xid := binary.BigEndian.Uint32(w[42+4:]); xid != vecXID {
			t.Errorf("copy %d has xid %#x, want %#x", i, xid, vecXID)
		}
	}
	want := []time.Duration{0, time.Second, 2 * time.Second}
	if diff := cmp.Diff(want, offsets); diff != "" {
		t.Errorf("send times (-want +got):\n%s", diff)
	}
	if len(res.Replies) != 1 || res.Replies[0].Count != 3 {
		t.Fatalf("got %d replies, want one with count 3", len(res.Replies))
	}
	if res.Replies[0].Elapsed != 2*time.Millisecond {
		t.Errorf("elapsed of first copy = %s, want 2ms", res.Replies[0].Elapsed)
	}
}

func TestRunRandomXID(t *testing.T) {
	seen := map[uint32]bool{}
	for range 4 {
		ft, clk := newFake()
		res := runFake(t, ft, clk, func(c *Config) { c.XID = 0 })
		if res.Request.XID == 0 {
			t.Fatal("xid 0 was used")
		}
		seen[res.Request.XID] = true
	}
	if len(seen) < 2 {
		t.Errorf("4 probes used %d distinct xids, want random ones", len(seen))
	}
}

func TestRunCancelKeepsWhatArrived(t *testing.T) {
	ack := loadVectors(t)["C00_ack_baseline"]
	ft, clk := newFake(timedFrame{10 * time.Millisecond, ack})
	ctx, cancel := context.WithCancel(context.Background())
	ft.cancelAfter, ft.cancel = 200*time.Millisecond, cancel

	c := vecConfig()
	c.Now = clk.Now
	res, err := Run(ctx, ft, c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Interrupted || len(res.Replies) != 1 ||
		res.Elapsed != 200*time.Millisecond {
		t.Errorf("interrupted=%v replies=%d elapsed=%s, want true, 1, 200ms",
			res.Interrupted, len(res.Replies), res.Elapsed)
	}
}

// failingTransport fails every operation it is told to.
type failingTransport struct {
	fakeTransport
	writeErr, readErr error
}

func (f *failingTransport) WriteFrame(b []byte) error {
	if f.writeErr != nil {
		return f.writeErr
	}

	return f.fakeTransport.WriteFrame(b)
}

func (f *failingTransport) ReadFrame(b []byte) (int, error) {
	if f.readErr != nil {
		return 0, f.readErr
	}

	return f.fakeTransport.ReadFrame(b)
}

func TestRunTransportErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		name string
		ft   failingTransport
	}{
		{"write", failingTransport{writeErr: boom}},
		{"read", failingTransport{readErr: boom}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake, clk := newFake()
			tt.ft.fakeTransport = *fake
			c := vecConfig()
			c.Now = clk.Now
			res, err := Run(context.Background(), &tt.ft, c)
			if !errors.Is(err, boom) {
				t.Errorf("err = %v, want it to wrap boom", err)
			}
			if res == nil {
				t.Error("no partial result with the error")
			}
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	ft, clk := newFake()
	_ = clk
	c := vecConfig()
	c.Timeout = 0
	_, err := Run(context.Background(), ft, c)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "timeout" {
		t.Fatalf("err = %v, want a ConfigError for timeout", err)
	}
	if len(ft.written) != 0 {
		t.Errorf("wrote %d frames for a bad config, want none", len(ft.written))
	}
}

func TestVerdictTable(t *testing.T) {
	tests := []struct {
		types []MessageType
		want  Verdict
	}{
		{nil, NoAnswer},
		{[]MessageType{Malformed}, NoAnswer},
		{[]MessageType{ACK}, Valid},
		{[]MessageType{ACK, ACK}, Valid},
		{[]MessageType{NAK}, Invalid},
		{[]MessageType{NAK, Malformed}, Invalid},
		{[]MessageType{ACK, NAK}, Disputed},
		{[]MessageType{NAK, ACK}, Disputed},
	}
	for _, tt := range tests {
		var r Result
		for _, typ := range tt.types {
			r.Replies = append(r.Replies, &Reply{Type: typ})
		}
		if got := r.Verdict(); got != tt.want {
			t.Errorf("%v: verdict = %s, want %s", tt.types, got, tt.want)
		}
	}
}

func TestRunFirstStopsAtTheFirstAnswer(t *testing.T) {
	v := loadVectors(t)
	ft, clk := newFake(
		timedFrame{4 * time.Millisecond, v["C10f_udp_length_field_4"]},
		timedFrame{6 * time.Millisecond, v["C04b_nak_from_B"]},
		timedFrame{9 * time.Millisecond, v["C04a_ack_from_A"]},
	)
	res := runFake(t, ft, clk, func(c *Config) {
		c.First = true
		c.Retries = 2
	})

	got := []any{res.Verdict(), len(res.Replies), res.Elapsed,
		res.Request.Sent, res.Interrupted}
	want := []any{Invalid, 1, 6 * time.Millisecond, 1, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRepliesAreBounded(t *testing.T) {
	ack := loadVectors(t)["C00_ack_baseline"]
	c := vecConfig()
	col := newCollector(&c, vecXID)
	for i := range MaxReplies + 10 {
		// Distinct replies: each from another source MAC.
		f := append([]byte(nil), ack...)
		f[6+4], f[6+5] = byte(i>>8), byte(i)
		col.consider(f, time.Now())
	}
	col.consider(ack, time.Now())

	got := []any{len(col.res.Replies), col.res.Skipped[SkipTooMany],
		len(col.res.Warnings)}
	if diff := cmp.Diff([]any{MaxReplies, 10, 1}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestNoBroadcastWarns: without the broadcast flag replies go to the
// client's MAC, which a switch may deliver elsewhere; the result says so,
// and says nothing of it when the flag is set.
func TestNoBroadcastWarns(t *testing.T) {
	for _, broadcast := range []bool{true, false} {
		ft, clk := newFake()
		res := runFake(t, ft, clk, func(c *Config) { c.Broadcast = broadcast })

		warned := false
		for _, w := range res.Warnings {
			if strings.Contains(w, "broadcast flag was clear") &&
				strings.Contains(w, vecClient.String()) {
				warned = true
			}
		}
		if warned == broadcast {
			t.Errorf("broadcast %v: warned %v, want %v (warnings %q)",
				broadcast, warned, !broadcast, res.Warnings)
		}
	}
}
