//go:build linux

package probe

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestDefaultFromRouteTable(t *testing.T) {
	const header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	tests := []struct {
		name  string
		table string
		want  string
		err   error
	}{
		{"one default", header +
			"eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
			"eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n",
			"eth0", nil},
		{"lowest metric wins", header +
			"wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
			"eth1\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
			"eth1", nil},
		{"down route ignored", header +
			"eth0\t00000000\t0102A8C0\t0002\t0\t0\t100\t00000000\t0\t0\t0\n",
			"", ErrNoDefaultRoute},
		{"unreachable default ignored", header +
			"*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n" +
			"eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
			"eth0", nil},
		{"only an unreachable default", header +
			"*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n",
			"", ErrNoDefaultRoute},
		{"no default", header +
			"eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n",
			"", ErrNoDefaultRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultFromRouteTable(
				bufio.NewScanner(strings.NewReader(tt.table)))
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}
