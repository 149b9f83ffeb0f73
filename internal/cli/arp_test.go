package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestARPBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		flag string
	}{
		{"no address", []string{"arp", "-i", "veth0"}, "--ip"},
		{"zero count", []string{"arp", "-i", "veth0", "-a", "192.0.2.50",
			"--count", "0"}, "--count"},
		{"huge count", []string{"arp", "-i", "veth0", "-a", "192.0.2.50",
			"--count", "1000"}, "--count"},
		{"bad owner", []string{"arp", "-i", "veth0", "-a", "192.0.2.50",
			"--mac", "ff:ff:ff:ff:ff:ff"}, "--mac"},
		{"bad timeout", []string{"arp", "-i", "veth0", "-a", "192.0.2.50",
			"-t", "10m"}, "--timeout"},
		{"check with zero arp probes", append(append([]string{}, probeArgs...),
			"--arp", "--arp-count", "0"), "--arp-count"},
		{"check with too many arp probes", append(append([]string{},
			probeArgs...), "--arp", "--arp-count", "99"), "--arp-count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			code := te.run(tt.args...)
			msg := te.stderr.String()
			if code != ExitUsage || !strings.Contains(msg, tt.flag) ||
				strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line naming %s",
					code, msg, tt.flag)
			}
			if te.listened != 0 || te.transport.sent != 0 {
				t.Errorf("opened %d sockets, sent %d frames", te.listened,
					te.transport.sent)
			}
		})
	}
}

func TestARPExitCodes(t *testing.T) {
	v := vectors(t)
	tests := []struct {
		name   string
		frames []string
		mac    string
		code   int
		status string
	}{
		{"free", nil, "", ExitValid, "free"},
		{"stranger", []string{"C16_b_reply_broadcast"}, "02:00:00:00:00:01",
			ExitConflict, "conflict"},
		{"owner", []string{"C16_h_reply_with_sha_equal_probed_client_MAC"},
			"02:00:00:00:00:01", ExitValid, "owner"},
		{"owner not named is a conflict",
			[]string{"C16_h_reply_with_sha_equal_probed_client_MAC"}, "",
			ExitConflict, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var frames [][]byte
			for _, n := range tt.frames {
				frames = append(frames, v[n])
			}
			te := newTestEnv(frames...)
			args := []string{"arp", "-i", "veth0", "-a", "192.0.2.50",
				"-t", "30ms", "--count", "2", "--json"}
			if tt.mac != "" {
				args = append(args, "--mac", tt.mac)
			}
			code := te.run(args...)

			var doc struct {
				SchemaVersion int    `json:"schema_version"`
				IP            string `json:"ip"`
				ExitCode      int    `json:"exit_code"`
				ARP           struct {
					ProbesSent int    `json:"probes_sent"`
					Status     string `json:"status"`
				} `json:"arp"`
			}
			if err := json.Unmarshal(te.stdout.Bytes(), &doc); err != nil {
				t.Fatalf("stdout is not JSON: %v; stderr %q", err,
					te.stderr.String())
			}
			got := []any{code, doc.SchemaVersion, doc.IP, doc.ExitCode,
				doc.ARP.ProbesSent, doc.ARP.Status, te.transport.sent}
			want := []any{tt.code, 1, "192.0.2.50", tt.code, 2, tt.status, 2}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckWithARP(t *testing.T) {
	v := vectors(t)
	tests := []struct {
		name    string
		frames  []string
		code    int
		verdict string
	}{
		{"ack and a stranger", []string{"C00_ack_baseline",
			"C16_b_reply_broadcast"}, ExitConflict, "conflict"},
		{"ack and the owner", []string{"C00_ack_baseline",
			"C16_h_reply_with_sha_equal_probed_client_MAC"}, ExitValid, "valid"},
		{"nak and a stranger", []string{"C04b_nak_from_B",
			"C16_b_reply_broadcast"}, ExitInvalid, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var frames [][]byte
			for _, n := range tt.frames {
				frames = append(frames, v[n])
			}
			te := newTestEnv(frames...)
			code := te.run(append(append([]string{}, probeArgs...),
				"--arp", "--json")...)
			var doc struct {
				Verdict string `json:"verdict"`
				ARP     *struct {
					ProbesSent int `json:"probes_sent"`
				} `json:"arp"`
			}
			if err := json.Unmarshal(te.stdout.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if code != tt.code || doc.Verdict != tt.verdict || doc.ARP == nil ||
				doc.ARP.ProbesSent != 3 {
				t.Errorf("exit %d verdict %s arp %+v; want %d %s with 3 probes",
					code, doc.Verdict, doc.ARP, tt.code, tt.verdict)
			}
		})
	}
}
