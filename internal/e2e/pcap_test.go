//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readDocs runs `leaseprobe read --json FILE` and decodes the array.
func readDocs(t *testing.T, e *env, path string, wantExit int) []document {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	res, err := e.client.Run(ctx, probeBin, "read", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != wantExit {
		t.Fatalf("read exit %d, want %d\n%s", res.ExitCode, wantExit, res.Stderr)
	}

	raw := singleDocument(t, res.Stdout)
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("read --json is not an array: %v", err)
	}
	docs := make([]document, len(list))
	for i, d := range list {
		checkContract(t, d)
		if err := json.Unmarshal(d, &docs[i]); err != nil {
			t.Fatal(err)
		}
	}

	return docs
}

// summary is what a check and a read of its capture must agree on.
func summary(d document) []any {
	out := []any{d.Verdict, d.Request.XID, d.Request.MAC, d.Request.IP,
		d.Request.Sent, d.Interface.MAC}
	for _, r := range d.Replies {
		out = append(out, r.Type, str(r.ServerID), r.SourceMAC, r.Count,
			num(r.LeaseSeconds), str(r.Message))
	}

	return out
}

// TestPcapRoundTrip: check --pcap writes what it sent and saw; read finds
// the same probe in that file and in a tcpdump capture of the same run
// (Ethernet framing, and Linux cooked framing from -i any), with the same
// verdict and replies.
func TestPcapRoundTrip(t *testing.T) {
	t.Parallel()
	nak := fullConfig()
	nak.Authoritative = true
	nak.Leases = leaseFor(macA, otherIP)
	e := setup(t, fullConfig(), nak)

	eth, err := e.client.Capture(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cooked, err := e.client.CaptureOn(t.Context(), "any")
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(e.lab.Dir, "own.pcap")
	doc := e.runJSON(t, exitDisputed, "-m", macA.String(), "-a",
		leasedIP.String(), "-t", "700ms", "--retries", "1", "--pcap", own)
	for _, c := range []interface{ Stop() error }{eth, cooked} {
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
	}

	for name, path := range map[string]string{"own": own,
		"tcpdump": eth.Path, "tcpdump -i any": cooked.Path} {
		t.Run(name, func(t *testing.T) {
			docs := readDocs(t, e, path, exitDisputed)
			if len(docs) != 1 {
				t.Fatalf("read found %d probes, want 1", len(docs))
			}
			// The summary leaves out the destination MAC, which a
			// cooked capture does not keep.
			if diff := cmp.Diff(summary(*doc), summary(docs[0])); diff != "" {
				t.Errorf("read of the capture differs from check "+
					"(-check +read):\n%s", diff)
			}
		})
	}
}
