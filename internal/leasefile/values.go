package leasefile

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/leaseprobe/leaseprobe/probe"
)

// newEntry checks the text of a record's fields and builds its Entry.
// An empty cid means no client identifier. On error the returned Entry
// still carries line.
func newEntry(line int, mac, ip, cid string) (Entry, error) {
	e := Entry{Line: line}
	var err error
	if e.MAC, err = parseMAC(mac); err != nil {
		return e, err
	}
	if e.IP, err = parseIPv4(ip); err != nil {
		return e, err
	}
	if e.ClientID, err = parseClientID(cid); err != nil {
		return e, err
	}

	return e, nil
}

// parseMAC reads a client hardware address written as hex bytes with
// ':' or '-' between them (one or two digits each), as 12 bare hex
// digits, or in Cisco's dotted form (0011.2233.4455).
func parseMAC(s string) (net.HardwareAddr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no MAC address")
	}

	var b []byte
	var err error
	if strings.Contains(s, ".") {
		b, err = net.ParseMAC(s)
	} else {
		b, err = parseHex(s)
	}
	if err != nil {
		return nil, fmt.Errorf("bad MAC address %q", short(s))
	}
	// The rules of check --mac, so that every entry can be probed.
	if err := probe.ValidateClientMAC(b); err != nil {
		return nil, fmt.Errorf("MAC address %q %w", short(s), err)
	}

	return net.HardwareAddr(b), nil
}

// parseIPv4 reads a dotted-quad address that a client could lease, by
// the rules probe.ValidateIP sets.
func parseIPv4(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, errors.New("no IP address")
	}

	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("bad IP address %q", short(s))
	}
	// The rules of check --ip, so that every entry can be probed.
	if err := probe.ValidateIP(a); err != nil {
		return a, fmt.Errorf("IP address %q %w", short(s), err)
	}

	return a, nil
}

// parseClientID reads a client identifier written in hex; "" gives nil.
// RFC 2132 section 9.14 sets its minimum length to 2, and an option
// holds at most 255 bytes.
func parseClientID(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}

	b, err := parseHex(s)
	if err != nil {
		return nil, fmt.Errorf("bad client ID %q: %w", short(s), err)
	}

	return checkClientID(b)
}

// checkClientID checks the length of a decoded client identifier.
func checkClientID(b []byte) ([]byte, error) {
	if len(b) < 2 || len(b) > 255 {
		return nil, fmt.Errorf("client ID has %d bytes, want 2 to 255",
			len(b))
	}

	return b, nil
}

// parseHex reads bytes written as hex: either groups of one or two
// digits separated by ':' or '-', or an even number of bare digits.
func parseHex(s string) ([]byte, error) {
	if !strings.ContainsAny(s, ":-") {
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, errors.New("not hex bytes")
		}

		return b, nil
	}

	groups := strings.FieldsFunc(s, func(r rune) bool {
		return r == ':' || r == '-'
	})
	if len(groups) != strings.Count(s, ":")+strings.Count(s, "-")+1 {
		return nil, errors.New("empty group between separators")
	}
	b := make([]byte, 0, len(groups))
	for _, g := range groups {
		if len(g) > 2 {
			return nil, fmt.Errorf("group %q is longer than 2 digits",
				short(g))
		}

		var v byte
		for i := 0; i < len(g); i++ {
			d, ok := hexDigit(g[i])
			if !ok {
				return nil, fmt.Errorf("%q is not a hex digit", g[i])
			}
			v = v<<4 | d
		}
		b = append(b, v)
	}

	return b, nil
}

// hexDigit returns the value of the hex digit c.
func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}

	return 0, false
}

// short cuts s to 60 bytes for an error message.
func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}

	return s
}
