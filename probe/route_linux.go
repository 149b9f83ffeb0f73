//go:build linux

package probe

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNoDefaultRoute is returned by DefaultInterface when no IPv4 default
// route exists.
var ErrNoDefaultRoute = errors.New("no IPv4 default route")

// DefaultInterface returns the name of the interface that holds the IPv4
// default route with the lowest metric, read from /proc/net/route.
func DefaultInterface() (string, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return "", fmt.Errorf("read routing table: %w", err)
	}
	defer f.Close()

	return defaultFromRouteTable(bufio.NewScanner(f))
}

// defaultFromRouteTable picks the default route from the lines of
// /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask …
func defaultFromRouteTable(s *bufio.Scanner) (string, error) {
	best, bestMetric := "", -1
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		var flags, metric int
		if _, err := fmt.Sscanf(f[3]+" "+f[6], "%x %d", &flags, &metric); err != nil {
			continue
		}
		// RTF_UP; RTF_REJECT marks unreachable, prohibit and blackhole
		// routes, which name no interface ("*").
		const routeUp, routeReject = 0x1, 0x200
		if flags&routeUp == 0 || flags&routeReject != 0 || f[0] == "*" {
			continue
		}
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("read routing table: %w", err)
	}
	if best == "" {
		return "", ErrNoDefaultRoute
	}

	return best, nil
}
