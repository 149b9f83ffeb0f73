package leasefile

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// parseDnsmasq reads FormatDnsmasq. dnsmasq rewrites the whole file, so
// each address appears once. Its lines are
//
//	EXPIRY MAC IP HOSTNAME CLIENT-ID
//
// with "*" for a missing hostname or client ID. After the DHCPv4 leases
// come a "duid" line and the DHCPv6 leases (an IAID where the MAC is),
// and newer versions may add "agent-info" and "vendorclass" lines.
func parseDnsmasq(p *parser, lr *lineReader) error {
	for {
		line, long, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}

		text := strings.TrimSpace(string(line))
		if text == "" {
			continue
		}
		if long {
			p.settle(badOutcome(lr.num, text, errLongLine))

			continue
		}
		p.settle(p.dnsmasqRow(lr.num, text))
	}
}

// dnsmasqRow reads one line.
func (p *parser) dnsmasqRow(line int, text string) outcome {
	f := strings.Fields(text)
	switch f[0] {
	case "duid", "agent-info", "vendorclass":
		return outcome{}
	}
	if len(f) != 5 {
		return badOutcome(line, text, fmt.Errorf("has %d fields, want 5 "+
			"(expiry, MAC, IP, hostname, client ID)", len(f)))
	}
	if a, err := netip.ParseAddr(f[2]); err == nil && a.Is6() &&
		!a.Is4In6() {
		return outcome{skip: SkipIPv6}
	}

	expiry, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || expiry < 0 {
		return badOutcome(line, text, fmt.Errorf("bad expiry time %q",
			short(f[0])))
	}
	if expiry != 0 && p.expired(expiry) {
		return outcome{skip: SkipExpired}
	}

	mac, err := dnsmasqMAC(f[1])
	if err != nil {
		return badOutcome(line, text, err)
	}
	cid := f[4]
	if cid == "*" {
		cid = ""
	}
	e, err := newEntry(line, mac, f[2], cid)

	return entryOutcome(e, text, err)
}

// dnsmasqMAC strips the "TT-" hardware type that dnsmasq writes before
// addresses that are not plain Ethernet; type 01 (Ethernet) is accepted.
func dnsmasqMAC(s string) (string, error) {
	if len(s) < 3 || s[2] != '-' || strings.Count(s, "-") != 1 {
		return s, nil
	}

	t, err := strconv.ParseUint(s[:2], 16, 8)
	switch {
	case err != nil:
		return "", fmt.Errorf("bad hardware address %q", short(s))
	case t != 1:
		return "", fmt.Errorf("hardware type %d of %q is not Ethernet",
			t, short(s))
	}

	return s[3:], nil
}
