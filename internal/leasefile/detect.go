package leasefile

import (
	"bytes"
	"fmt"
	"strings"
)

// Detect tells the format of a lease file from its first bytes (Parse
// passes SniffSize of them). It looks at the first line that is neither
// blank nor a '#' comment:
//
//   - jsonl if it starts with '{';
//   - isc if it is a "lease ADDRESS {" line or starts with
//     authoring-byte-order, server-duid, failover or ia-na/ia-ta/ia-pd;
//   - kea if it is a header starting "address,hwaddr";
//   - csv if it is a header with mac and ip columns;
//   - dnsmasq if it has five fields and the first is a number, or is
//     dnsmasq's "duid" line.
//
// When that line fits none of these, or there is none, a file with the
// comments dhcpd writes at the top of dhcpd.leases is isc; anything else
// is an error wrapping ErrUnknownFormat.
func Detect(head []byte) (Format, error) {
	head = bytes.TrimPrefix(head, []byte(bom))
	iscComment := false
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		text := strings.TrimSpace(string(line))
		if text == "" {
			continue
		}
		if text[0] == '#' {
			lower := strings.ToLower(text)
			if strings.Contains(lower, "dhcpd.leases") ||
				strings.Contains(lower, "isc-dhcp") {
				iscComment = true
			}

			continue
		}

		f, err := detectLine(text)
		if err != nil && iscComment {
			return FormatISC, nil
		}

		return f, err
	}
	if iscComment {
		return FormatISC, nil
	}

	return "", fmt.Errorf("%w: the input is empty or only comments; "+
		"name one of %s with --format", ErrUnknownFormat, formatList())
}

// detectLine tells the format from the first significant line.
func detectLine(text string) (Format, error) {
	lower := strings.ToLower(text)
	fields := strings.Fields(lower)
	switch {
	case text[0] == '{':
		return FormatJSONL, nil
	case fields[0] == "lease" && len(fields) > 1 &&
		strings.Contains(text, "{"):
		return FormatISC, nil
	case fields[0] == "authoring-byte-order", fields[0] == "server-duid",
		fields[0] == "failover", fields[0] == "ia-na",
		fields[0] == "ia-ta", fields[0] == "ia-pd":
		return FormatISC, nil
	case strings.HasPrefix(lower, "address,hwaddr"):
		return FormatKea, nil
	case strings.HasPrefix(lower, "address,duid"):
		return "", fmt.Errorf("%w: this is a Kea DHCPv6 lease file; "+
			"only DHCPv4 leases can be probed", ErrUnknownFormat)
	case hasCSVColumns(text):
		return FormatCSV, nil
	case len(fields) == 5 && isDigits(fields[0]),
		len(fields) == 2 && fields[0] == "duid":
		return FormatDnsmasq, nil
	}

	return "", fmt.Errorf("%w: first line %q looks like none of %s; "+
		"name the format with --format", ErrUnknownFormat, short(text),
		formatList())
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return s != ""
}
