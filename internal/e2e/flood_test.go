//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

var (
	benchOnce sync.Once
	benchBin  string
	benchErr  error
)

// buildBench builds internal/bench, whose flood and measure subcommands
// the flood test runs inside the lab.
func buildBench(t *testing.T) string {
	t.Helper()
	benchOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			benchErr = err

			return
		}
		benchBin = filepath.Join(workDir, "bench")
		cmd := exec.Command("go", "build", "-o", benchBin, "./internal/bench")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			benchErr = err
			t.Logf("%s", out)
		}
	})
	if benchErr != nil {
		t.Fatalf("build internal/bench: %v", benchErr)
	}

	return benchBin
}

// TestFloodKeepsTheVerdict: while another host sends 100,000 junk and
// near-miss frames as fast as it can (DHCP replies with other xids and
// clients, truncated frames, random bytes, unrelated broadcast), the
// probe still reports the server's ACK, and its memory stays bounded.
func TestFloodKeepsTheVerdict(t *testing.T) {
	t.Parallel()
	e := setup(t, fullConfig())
	bench := buildBench(t)
	flooder, err := e.lab.AddHost("flooder", lab.HostConfig{
		MAC: mustMAC("02:00:00:00:f1:00")})
	if err != nil {
		t.Fatal(err)
	}

	// The probe starts first, under measure for its peak RSS; the flood
	// starts once the probe has sent its request, and runs as fast as the
	// flooder can send.
	var out bytes.Buffer
	sent := newMarker("sent DHCPREQUEST")
	probe, err := e.client.Start(&out, sent, bench, "measure", "-n", "1",
		"-stdout", "--", probeBin, "check", "-i", e.client.Iface, "-m",
		macA.String(), "-a", leasedIP.String(), "-t", "2s", "--json", "-v")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	select {
	case <-sent.seen:
	case <-ctx.Done():
		t.Fatal("the probe never sent its request")
	}
	// Half the near-miss replies carry the probe's own xid, so that only
	// their client address sets them apart.
	xid := probeXID(t, sent)
	flood, err := flooder.Run(ctx, bench, "flood", "-i", flooder.Iface,
		"-kind", "junk", "-rate", "0", "-count", "100000", "-xid", xid)
	if err != nil || flood.ExitCode != 0 {
		t.Fatalf("flood: %v %s", err, flood.Stderr)
	}
	if err := probe.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	res := struct{ Stdout []byte }{out.Bytes()}

	var m struct {
		MaxRSSKB int64  `json:"max_rss_kb"`
		Exit     int    `json:"exit"`
		Stdout   string `json:"stdout"`
	}
	sc := bufio.NewScanner(bytes.NewReader(res.Stdout))
	sc.Buffer(nil, 16<<20)
	if !sc.Scan() {
		t.Fatalf("no measurement: %s", sent.buf.String())
	}
	if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var doc document
	if err := json.Unmarshal([]byte(m.Stdout), &doc); err != nil {
		t.Fatalf("check output: %v\n%s", err, m.Stdout)
	}

	skipped := 0
	for _, n := range doc.Skipped {
		skipped += n
	}
	t.Logf("flood: verdict %s, %d frames skipped %v, peak RSS %d KiB",
		doc.Verdict, skipped, doc.Skipped, m.MaxRSSKB)
	if m.Exit != exitValid || doc.Verdict != "valid" || len(doc.Replies) != 1 ||
		str(doc.Replies[0].ServerID) != e.servers[0].Host.Addr().String() {
		t.Errorf("exit %d verdict %s replies %+v; want the server's ACK",
			m.Exit, doc.Verdict, doc.Replies)
	}
	// Each kind of near miss reached the probe and was set aside for
	// what it is; random bytes and unrelated broadcast never pass the
	// kernel filter.
	for _, reason := range []string{"other-xid", "other-chaddr", "bad-length"} {
		if doc.Skipped[reason] == 0 {
			t.Errorf("no frame skipped as %s: %v", reason, doc.Skipped)
		}
	}
	// Memory must not grow with the flood: set aside frames are counted,
	// not kept.
	if m.MaxRSSKB > 64<<10 {
		t.Errorf("peak RSS %d KiB under flood, want under 64 MiB", m.MaxRSSKB)
	}
}

// probeXID reads the xid of the probe's request from its verbose output.
func probeXID(t *testing.T, m *marker) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()

	_, after, ok := strings.Cut(m.buf.String(), "xid ")
	xid, _, _ := strings.Cut(after, ",")
	if !ok || !strings.HasPrefix(xid, "0x") {
		t.Fatalf("no xid in the probe's output:\n%s", m.buf.String())
	}

	return xid
}

// marker is a writer that closes seen once text has been written to it.
type marker struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	text string
	seen chan struct{}
}

func newMarker(text string) *marker {
	return &marker{text: text, seen: make(chan struct{})}
}

func (m *marker) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	was := bytes.Contains(m.buf.Bytes(), []byte(m.text))
	m.buf.Write(p)
	if !was && bytes.Contains(m.buf.Bytes(), []byte(m.text)) {
		close(m.seen)
	}

	return len(p), nil
}
