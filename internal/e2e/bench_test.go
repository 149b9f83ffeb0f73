//go:build linux

package e2e

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCheckWallTime measures one whole `leaseprobe check` run against
// a real dnsmasq, with and without --arp, as the wall time of the process
// beyond its timeout: --arp runs within the same timeout and must not add
// to it. Run with: sudo go test -run '^$' -bench CheckWallTime ./internal/e2e
func BenchmarkCheckWallTime(b *testing.B) {
	const timeout = 300 * time.Millisecond
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"check", nil},
		{"check-arp", []string{"--arp", "--arp-count", "3"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := setup(b, fullConfig())
			args := append([]string{"check", "-i", e.client.Iface,
				"-m", macA.String(), "-a", leasedIP.String(),
				"-t", timeout.String(), "--json"}, bc.args...)

			var over time.Duration
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(),
					runTimeout)
				res, err := e.client.Run(ctx, probeBin, args...)
				cancel()
				if err != nil || res.ExitCode != exitValid {
					b.Fatalf("run: %v, exit %d: %s", err, res.ExitCode,
						res.Stderr)
				}
				over += res.Elapsed - timeout
			}
			b.ReportMetric(float64(over.Microseconds())/1000/float64(b.N),
				"ms-over-timeout/op")
		})
	}
}
