package probe

import (
	"context"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Offsets of xid and chaddr in a frame with a 20-byte IPv4 header.
const (
	frameXID    = 14 + 20 + 8 + 4
	frameChaddr = 14 + 20 + 8 + chaddrOff
)

// answer copies a reply vector and makes it answer request: its xid, its
// client and, for an ACK, the address it asked for.
func answer(request, reply []byte) []byte {
	c := append([]byte(nil), reply...)
	copy(c[frameXID:frameXID+4], request[frameXID:frameXID+4])
	copy(c[frameChaddr:frameChaddr+6], request[frameChaddr:frameChaddr+6])

	const yiaddr = 14 + 20 + 8 + 16
	if !isZero(c[yiaddr : yiaddr+4]) {
		opts, _ := readOptions(request[14+20+8:])
		for _, o := range opts {
			if o.Code == 50 {
				copy(c[yiaddr:yiaddr+4], o.Data)
			}
		}
	}

	return c
}

func batchJobs(n int) []Job {
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = Job{ClientMAC: net.HardwareAddr{2, 0, 0, 0, 1, byte(i + 1)},
			IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)})}
	}

	return jobs
}

// runBatchFake runs jobs over a fake whose server ACKs every request 2 ms
// after it (and NAKs those for the second job).
func runBatchFake(t *testing.T, b BatchConfig, jobs []Job,
	cancelAfter time.Duration) (*fakeTransport, map[int]*Result, *BatchStats) {
	t.Helper()
	v := loadVectors(t)
	ft, clk := newFake()
	ft.onWrite = func(n int, at time.Duration) []timedFrame {
		req := ft.written[n-1]
		if req[12] != 0x08 || req[13] != 0x00 {
			return nil
		}
		reply := v["C00_ack_baseline"]
		if req[frameChaddr+5] == 2 {
			reply = v["C04b_nak_from_B"]
		}

		return []timedFrame{{at + 2*time.Millisecond, answer(req, reply)}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cancelAfter > 0 {
		ft.cancelAfter, ft.cancel = cancelAfter, cancel
	}

	b.Template.Interface = "veth0"
	b.Template.InterfaceMAC = vecInterface
	b.Template.Broadcast = true
	b.Template.Now = clk.Now
	results := map[int]*Result{}
	stats, err := RunBatch(ctx, ft, b, jobs, func(i int, r *Result) {
		if _, dup := results[i]; dup {
			t.Errorf("job %d reported twice", i)
		}
		results[i] = r
	})
	if err != nil {
		t.Fatalf("RunBatch: %v", err)
	}

	return ft, results, stats
}

func TestBatchRoutesRepliesByXID(t *testing.T) {
	jobs := batchJobs(5)
	ft, results, stats := runBatchFake(t, BatchConfig{
		Template:    Config{Timeout: time.Second, Retries: 1},
		Concurrency: 64}, jobs, 0)

	if len(results) != 5 || stats.Completed != 5 || stats.Started != 5 {
		t.Fatalf("%d results, stats %+v; want 5", len(results), stats)
	}
	xids := map[uint32]bool{}
	for i, r := range results {
		want := Valid
		if i == 1 {
			want = Invalid
		}
		if r.Verdict() != want || r.Request.IP != jobs[i].IP ||
			r.Request.Sent != 2 || r.Replies[0].Count != 2 {
			t.Errorf("job %d: verdict %s ip %s sent %d, want %s %s 2 with "+
				"both copies folded", i, r.Verdict(), r.Request.IP,
				r.Request.Sent, want, jobs[i].IP)
		}
		xids[r.Request.XID] = true
	}
	if len(xids) != 5 {
		t.Errorf("%d distinct xids among 5 probes", len(xids))
	}
	if len(ft.written) != 10 || stats.Elapsed != time.Second {
		t.Errorf("wrote %d frames in %s, want 10 in 1s", len(ft.written),
			stats.Elapsed)
	}
}

func TestBatchPacing(t *testing.T) {
	tests := []struct {
		name        string
		rate        float64
		concurrency int
		starts      []time.Duration
	}{
		{"rate", 10, 64, []time.Duration{0, 100 * time.Millisecond,
			200 * time.Millisecond, 300 * time.Millisecond}},
		{"concurrency", 0, 2, []time.Duration{0, 0, 500 * time.Millisecond,
			500 * time.Millisecond}},
		{"both", 20, 1, []time.Duration{0, 500 * time.Millisecond,
			time.Second, 1500 * time.Millisecond}},
		{"lowest rate", MinRate, 64, []time.Duration{0, 1000 * time.Second,
			2000 * time.Second, 3000 * time.Second}},
		{"fractional rate", 0.5, 64, []time.Duration{0, 2 * time.Second,
			4 * time.Second, 6 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft, results, _ := runBatchFake(t, BatchConfig{
				Template: Config{Timeout: 500 * time.Millisecond},
				Rate:     tt.rate, Concurrency: tt.concurrency},
				batchJobs(4), 0)
			var starts []time.Duration
			for i := range 4 {
				starts = append(starts, results[i].StartedAt.Sub(ft.start))
			}
			if diff := cmp.Diff(tt.starts, starts); diff != "" {
				t.Errorf("probe starts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBatchCancelWaitsForProbesInFlight(t *testing.T) {
	ft, results, stats := runBatchFake(t, BatchConfig{
		Template: Config{Timeout: time.Second, Retries: 3},
		Rate:     10, Concurrency: 64}, batchJobs(10), 150*time.Millisecond)

	// Two probes started (0 and 100 ms); after the cancel at 150 ms no
	// probe starts and no retransmission goes out, but both run to their
	// timeouts and report.
	got := []any{stats.Started, stats.Completed, len(results),
		stats.Interrupted, len(ft.written), stats.Elapsed}
	want := []any{2, 2, 2, true, 2, 1100 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBatchARPRoutedByAddress(t *testing.T) {
	v := loadVectors(t)
	jobs := batchJobs(2)
	jobs[0].IP = vecIP // the address the conflict vector claims
	ft, clk := newFake(timedFrame{50 * time.Millisecond,
		v["C16_b_reply_broadcast"]})
	results := map[int]*Result{}
	_, err := RunBatch(context.Background(), ft, BatchConfig{
		Template: Config{Interface: "veth0", InterfaceMAC: vecInterface,
			Timeout: 200 * time.Millisecond, ARPProbes: 2, Now: clk.Now},
		Concurrency: 8}, jobs, func(i int, r *Result) { results[i] = r })
	if err != nil {
		t.Fatal(err)
	}
	got := []any{results[0].ARP.Status(), results[1].ARP.Status(),
		results[0].ARP.ProbesSent}
	want := []any{ARPConflict, ARPFree, 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBatchRejectsBadSettings(t *testing.T) {
	base := Config{Interface: "veth0", InterfaceMAC: vecInterface,
		Timeout: time.Second}
	tests := []struct {
		name  string
		b     BatchConfig
		jobs  []Job
		field string
	}{
		{"no concurrency", BatchConfig{Template: base}, nil, "concurrency"},
		{"negative rate", BatchConfig{Template: base, Rate: -1,
			Concurrency: 1}, nil, "rate"},
		{"NaN rate", BatchConfig{Template: base, Rate: math.NaN(),
			Concurrency: 1}, nil, "rate"},
		{"infinite rate", BatchConfig{Template: base, Rate: math.Inf(1),
			Concurrency: 1}, nil, "rate"},
		{"minus infinite rate", BatchConfig{Template: base,
			Rate: math.Inf(-1), Concurrency: 1}, nil, "rate"},
		{"rate whose interval overflows", BatchConfig{Template: base,
			Rate: 1e-11, Concurrency: 1}, nil, "rate"},
		{"rate just below the lowest", BatchConfig{Template: base,
			Rate: math.Nextafter(MinRate, 0), Concurrency: 1}, nil, "rate"},
		{"zero timeout", BatchConfig{Template: Config{InterfaceMAC: vecInterface},
			Concurrency: 1}, nil, "timeout"},
		{"bad job", BatchConfig{Template: base, Concurrency: 1},
			[]Job{{ClientMAC: net.HardwareAddr{1, 0, 0, 0, 0, 1}, IP: vecIP}},
			"mac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft, _ := newFake()
			_, err := RunBatch(context.Background(), ft, tt.b, tt.jobs, nil)
			ce, ok := errorAsConfig(err)
			if !ok || ce.Field != tt.field {
				t.Errorf("err %v, want a ConfigError for %s", err, tt.field)
			}
			if len(ft.written) != 0 {
				t.Errorf("sent %d frames", len(ft.written))
			}
		})
	}
}

func TestBatchRateLimits(t *testing.T) {
	base := Config{Interface: "veth0", InterfaceMAC: vecInterface,
		Timeout: time.Second}
	tests := []struct {
		rate     float64
		interval time.Duration
	}{
		{MinRate, 1000 * time.Second},
		{1, time.Second},
		{20, 50 * time.Millisecond},
		{1e9, time.Nanosecond},
	}
	for _, tt := range tests {
		b := BatchConfig{Template: base, Rate: tt.rate, Concurrency: 1}
		got := []any{b.Validate(), startInterval(tt.rate)}
		want := []any{nil, tt.interval}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("rate %v: validate, interval (-want +got):\n%s",
				tt.rate, diff)
		}
	}
	// The interval at MinRate is far from what a Duration holds.
	limit := float64(time.Second) / float64(math.MaxInt64)
	if MinRate < 1e6*limit {
		t.Errorf("MinRate %v is within 1e6 of the overflow limit %v",
			MinRate, limit)
	}
}
