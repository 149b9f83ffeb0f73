//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// manyLeases makes n leases: MAC 02:00:00:01:00:i and address .100+i.
func manyLeases(n int) []lab.Lease {
	out := make([]lab.Lease, n)
	for i := range out {
		out[i] = lab.Lease{
			MAC: net.HardwareAddr{2, 0, 0, 1, 0, byte(i)},
			IP:  netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}),
		}
	}

	return out
}

// batchLine is what the tests read of a batch's JSON lines.
type batchLine struct {
	Verdict   string `json:"verdict"`
	InputLine int    `json:"input_line"`
	Request   struct {
		MAC string `json:"mac"`
		IP  string `json:"ip"`
		XID string `json:"xid"`
	} `json:"request"`
	Summary *struct {
		Format   string         `json:"format"`
		Pairs    int            `json:"pairs"`
		Checked  int            `json:"checked"`
		Verdicts map[string]int `json:"verdicts"`
		ExitCode int            `json:"exit_code"`
	} `json:"summary"`
}

// runBatch runs `leaseprobe batch --json` on input and decodes the lines.
func runBatch(t *testing.T, e *env, input string, args ...string) (int, []batchLine) {
	t.Helper()

	path := filepath.Join(e.lab.Dir, fmt.Sprintf("input-%d", len(input)))
	if err := os.WriteFile(path, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	full := append([]string{"batch", "-i", e.client.Iface, "--json"}, args...)
	res, err := e.client.Run(ctx, probeBin, append(full, path)...)
	if err != nil {
		t.Fatal(err)
	}

	var lines []batchLine
	s := bufio.NewScanner(bytes.NewReader(res.Stdout))
	for s.Scan() {
		var l batchLine
		if err := json.Unmarshal(s.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", s.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 || lines[len(lines)-1].Summary == nil {
		t.Fatalf("no summary line; stdout %s\nstderr %s", res.Stdout, res.Stderr)
	}

	return res.ExitCode, lines
}

// TestBatchAgainstDnsmasq feeds dnsmasq's own lease file to batch: every
// lease it holds is valid, each probe with its own xid.
func TestBatchAgainstDnsmasq(t *testing.T) {
	t.Parallel()
	cfg := fullConfig()
	cfg.Leases = manyLeases(30)
	e := setup(t, cfg)
	leases, err := e.servers[0].Leases()
	if err != nil {
		t.Fatal(err)
	}

	code, lines := runBatch(t, e, leases, "-t", "700ms", "--rate", "0")
	sum := lines[len(lines)-1].Summary
	got := []any{code, sum.Format, sum.Pairs, sum.Checked,
		sum.Verdicts["valid"], len(lines) - 1}
	want := []any{0, "dnsmasq", 30, 30, 30, 30}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	xids := map[string]bool{}
	for _, l := range lines[:len(lines)-1] {
		xids[l.Request.XID] = true
		if l.Verdict != "valid" {
			t.Errorf("line %d (%s %s): %s", l.InputLine, l.Request.MAC,
				l.Request.IP, l.Verdict)
		}
	}
	if len(xids) != 30 {
		t.Errorf("%d distinct xids for 30 probes", len(xids))
	}
}

// TestBatchMixedVerdicts: known and unknown clients in one CSV, paced.
func TestBatchMixedVerdicts(t *testing.T) {
	t.Parallel()
	cfg := fullConfig()
	cfg.Leases = manyLeases(3)
	e := setup(t, cfg)

	var in strings.Builder
	in.WriteString("mac,ip\n")
	for _, l := range manyLeases(3) {
		fmt.Fprintf(&in, "%s,%s\n", l.MAC, l.IP)
	}
	fmt.Fprintf(&in, "%s,%s\n%s,%s\n", macB, freeIP, strangerMAC, otherIP)

	code, lines := runBatch(t, e, in.String(), "-t", "500ms", "--rate", "10",
		"--concurrency", "2")
	byLine := map[int]string{}
	for _, l := range lines[:len(lines)-1] {
		byLine[l.InputLine] = l.Verdict
	}
	want := map[int]string{2: "valid", 3: "valid", 4: "valid",
		5: "no-answer", 6: "no-answer"}
	if diff := cmp.Diff(want, byLine); diff != "" {
		t.Errorf("verdicts by input line (-want +got):\n%s", diff)
	}
	if code != 7 || lines[len(lines)-1].Summary.ExitCode != 7 {
		t.Errorf("exit %d, want 7 (not every pair valid)", code)
	}
}
