package probe

import (
	"bufio"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// The identities the test frames in ../testdata/frames.tsv answer.
var (
	vecXID       uint32 = 0x5eedf00d
	vecClient           = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	vecInterface        = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	vecIP               = netip.MustParseAddr("192.0.2.50")
)

// loadVectors reads ../testdata/frames.tsv into a map by name.
func loadVectors(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open("../testdata/frames.tsv")
	if err != nil {
		t.Fatalf("open vectors: %v", err)
	}
	defer f.Close()

	out := map[string][]byte{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		name, hx, ok := strings.Cut(s.Text(), "\t")
		if !ok {
			continue
		}
		b, err := hex.DecodeString(strings.TrimSpace(hx))
		if err != nil {
			t.Fatalf("vector %s: %v", name, err)
		}
		out[name] = b
	}
	if err := s.Err(); err != nil {
		t.Fatalf("read vectors: %v", err)
	}

	return out
}

// vecConfig is the probe the test frames answer.
func vecConfig() Config {
	return Config{
		Interface:    "veth0",
		InterfaceMAC: vecInterface,
		ClientMAC:    vecClient,
		IP:           vecIP,
		Timeout:      time.Second,
		Broadcast:    true,
		XID:          vecXID,
	}
}

// fakeClock is a clock that only moves when the fake transport moves it.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// timedFrame is a frame the fake delivers at a time after the probe's
// first send.
type timedFrame struct {
	after time.Duration
	frame []byte
}

// fakeTransport delivers scripted frames in time order on a fake clock.
// A read with nothing due before its deadline moves the clock to the
// deadline and times out, so tests never wait for real time.
type fakeTransport struct {
	clock    *fakeClock
	start    time.Time
	queue    []timedFrame
	deadline time.Time
	written  [][]byte
	writeAt  []time.Time
	// onWrite, when set, may add frames in answer to each write.
	onWrite func(n int, at time.Duration) []timedFrame
	// cancel, when set, is called once the clock reaches cancelAfter.
	cancelAfter time.Duration
	cancel      func()
}

func newFake(frames ...timedFrame) (*fakeTransport, *fakeClock) {
	clk := &fakeClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}

	return &fakeTransport{clock: clk, start: clk.now, queue: frames}, clk
}

func (f *fakeTransport) WriteFrame(b []byte) error {
	f.written = append(f.written, append([]byte(nil), b...))
	f.writeAt = append(f.writeAt, f.clock.now)
	if f.onWrite != nil {
		f.queue = append(f.queue,
			f.onWrite(len(f.written), f.clock.now.Sub(f.start))...)
	}

	return nil
}

func (f *fakeTransport) SetReadDeadline(t time.Time) error {
	f.deadline = t

	return nil
}

func (f *fakeTransport) ReadFrame(b []byte) (int, error) {
	limit := f.deadline.Sub(f.start)
	if f.cancel != nil && f.cancelAfter <= limit {
		limit = f.cancelAfter
	}

	best := -1
	for i, q := range f.queue {
		if q.after <= limit && (best < 0 || q.after < f.queue[best].after) {
			best = i
		}
	}
	if best < 0 && f.cancel != nil && f.cancelAfter == limit {
		f.clock.now = f.start.Add(limit)
		f.cancel()
		f.cancel = nil

		return 0, os.ErrDeadlineExceeded
	}
	if best < 0 {
		f.clock.now = f.deadline

		return 0, os.ErrDeadlineExceeded
	}

	q := f.queue[best]
	f.queue = append(f.queue[:best], f.queue[best+1:]...)
	if at := f.start.Add(q.after); at.After(f.clock.now) {
		f.clock.now = at
	}

	return copy(b, q.frame), nil
}

func (f *fakeTransport) Close() error { return nil }

func mustMAC(t testing.TB, s string) net.HardwareAddr {
	t.Helper()
	m, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}

	return m
}

func errorAsConfig(err error) (*ConfigError, bool) {
	var ce *ConfigError
	ok := errors.As(err, &ce)

	return ce, ok
}

func parseMAC(s string) ([]byte, error) {
	m, err := net.ParseMAC(s)

	return m, err
}
