package leasefile

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseMAC(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  string
	}{
		{"02:00:5e:10:00:01", "02:00:5e:10:00:01", ""},
		{"02-00-5E-10-00-01", "02:00:5e:10:00:01", ""},
		{"02005e100001", "02:00:5e:10:00:01", ""},
		{"0200.5e10.0001", "02:00:5e:10:00:01", ""},
		{"2:0:5e:10:0:1", "02:00:5e:10:00:01", ""},
		{" 02:00:5e:10:00:01 ", "02:00:5e:10:00:01", ""},
		{"", "", "no MAC address"},
		{"02:00:5e:10:00", "", `MAC address "02:00:5e:10:00" must be a ` +
			`6-byte Ethernet address like 02:00:00:00:00:01, got 5 bytes`},
		{"02:00:5e:10:00:01:02:03", "",
			`MAC address "02:00:5e:10:00:01:02:03" must be a 6-byte ` +
				`Ethernet address like 02:00:00:00:00:01, got 8 bytes`},
		{"02:00:5e:10:00:0g", "", `bad MAC address "02:00:5e:10:00:0g"`},
		{"02::5e:10:00:01", "", `bad MAC address "02::5e:10:00:01"`},
		{"020:0:5e:10:00:01", "", `bad MAC address "020:0:5e:10:00:01"`},
		{"02005e10000", "", `bad MAC address "02005e10000"`},
		{"ff:ff:ff:ff:ff:ff", "",
			`MAC address "ff:ff:ff:ff:ff:ff" must be a unicast address ` +
				`(the first byte's lowest bit clear), not multicast or ` +
				`broadcast`},
		{"01:00:5e:00:00:fb", "",
			`MAC address "01:00:5e:00:00:fb" must be a unicast address ` +
				`(the first byte's lowest bit clear), not multicast or ` +
				`broadcast`},
		{"00:00:00:00:00:00", "",
			`MAC address "00:00:00:00:00:00" must not be all zero`},
		{"000000000000", "",
			`MAC address "000000000000" must not be all zero`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			mac, err := parseMAC(tt.in)
			var got, msg string
			if err != nil {
				msg = err.Error()
			} else {
				got = mac.String()
			}
			if diff := cmp.Diff([2]string{tt.want, tt.err},
				[2]string{got, msg}); diff != "" {
				t.Errorf("parseMAC(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseIPv4(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  string
	}{
		{"192.0.2.7", "192.0.2.7", ""},
		{"169.254.1.1", "169.254.1.1", ""},
		{"", "", "no IP address"},
		{"192.0.2.256", "", `bad IP address "192.0.2.256"`},
		{"192.0.2.07", "", `bad IP address "192.0.2.07"`},
		{"2001:db8::1", "", `IP address "2001:db8::1" is not an IPv4 ` +
			`address; DHCPv4 leases are IPv4, like 192.0.2.50`},
		{"::ffff:192.0.2.7", "", `IP address "::ffff:192.0.2.7" is not an ` +
			`IPv4 address; DHCPv4 leases are IPv4, like 192.0.2.50`},
		{"0.0.0.0", "", `IP address "0.0.0.0" is the unspecified ` +
			`address; give the leased address, like 192.0.2.50`},
		{"127.0.0.1", "", `IP address "127.0.0.1" is a loopback ` +
			`address; give the leased address`},
		{"224.0.0.1", "", `IP address "224.0.0.1" is multicast; ` +
			`give a unicast address`},
		{"255.255.255.255", "", `IP address "255.255.255.255" is the ` +
			`broadcast address; give a unicast address, like 192.0.2.50`},
		{"240.0.0.1", "", `IP address "240.0.0.1" is reserved ` +
			`(240.0.0.0/4); give a unicast address`},
		{"254.1.2.3", "", `IP address "254.1.2.3" is reserved ` +
			`(240.0.0.0/4); give a unicast address`},
		{"239.255.255.255", "", `IP address "239.255.255.255" is ` +
			`multicast; give a unicast address`},
		{"223.255.255.254", "223.255.255.254", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := parseIPv4(tt.in)
			var got, msg string
			if err != nil {
				msg = err.Error()
			} else {
				got = a.String()
			}
			if diff := cmp.Diff([2]string{tt.want, tt.err},
				[2]string{got, msg}); diff != "" {
				t.Errorf("parseIPv4(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseClientID(t *testing.T) {
	tests := []struct {
		in   string
		want string // hex
		err  string
	}{
		{"", "", ""},
		{"01:02:00:5e:10:00:01", "0102005e100001", ""},
		{"01-02-00-5e-10-00-01", "0102005e100001", ""},
		{"0102005E100001", "0102005e100001", ""},
		{"1:2", "0102", ""},
		{"01", "", "client ID has 1 bytes, want 2 to 255"},
		{"010", "", `bad client ID "010": not hex bytes`},
		{"01:", "", `bad client ID "01:": empty group between separators`},
		{"01:002", "",
			`bad client ID "01:002": group "002" is longer than 2 digits`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := parseClientID(tt.in)
			var msg string
			if err != nil {
				msg = err.Error()
			}
			if diff := cmp.Diff([2]string{tt.want, tt.err},
				[2]string{hex.EncodeToString(b), msg}); diff != "" {
				t.Errorf("parseClientID(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestISCTokenize(t *testing.T) {
	type tok struct {
		Kind  string
		Text  string
		First bool
	}
	tests := []struct {
		name string
		line string
		want []tok
		err  string
	}{
		{"statement", "  binding state active;", []tok{
			{"w", "binding", false}, {"w", "state", false},
			{"w", "active", false}, {";", "", false}}, ""},
		{"block start", "lease 10.0.0.1 {", []tok{
			{"w", "lease", true}, {"w", "10.0.0.1", false},
			{"{", "", false}}, ""},
		{"no space before ;", "ends never;# comment", []tok{
			{"w", "ends", true}, {"w", "never", false}, {";", "", false}}, ""},
		{"octal escapes and printable bytes",
			`uid "\001\000\033!\254\035\012";`, []tok{
				{"w", "uid", true},
				{"s", "\x01\x00\x1b!\xac\x1d\x0a", false},
				{";", "", false}}, ""},
		{"other escapes", `x "a\"b\\c\td\x41\x4g\q";`, []tok{
			{"w", "x", true}, {"s", "a\"b\\c\tdA\x04gq", false},
			{";", "", false}}, ""},
		{"short octal", `x "\1a";`, []tok{
			{"w", "x", true}, {"s", "\x01a", false}, {";", "", false}}, ""},
		{"braces and semicolons in a string",
			`client-hostname "a;b{c}#d";`, []tok{
				{"w", "client-hostname", true}, {"s", "a;b{c}#d", false},
				{";", "", false}}, ""},
		{"unterminated string", `client-hostname "oops;`, []tok{
			{"w", "client-hostname", true}},
			"string not closed on its line"},
		{"backslash at the end", `x "ab\`, []tok{{"w", "x", true}},
			"string not closed on its line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []tok
			err := iscTokenize([]byte(tt.line), 1, func(x iscToken) {
				got = append(got, tok{string(x.kind), x.text, x.first})
			})
			var msg string
			if err != nil {
				msg = err.Error()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
			if msg != tt.err {
				t.Errorf("error %q, want %q", msg, tt.err)
			}
		})
	}
}

func TestISCTime(t *testing.T) {
	tests := []struct {
		words []string
		want  time.Time
		never bool
		err   bool
	}{
		{[]string{"3", "2023/11/15", "08:00:00"},
			time.Date(2023, 11, 15, 8, 0, 0, 0, time.UTC), false, false},
		{[]string{"3", "2023/1/5", "8:0:0"},
			time.Date(2023, 1, 5, 8, 0, 0, 0, time.UTC), false, false},
		{[]string{"epoch", "1700033200"}, time.Unix(1700033200, 0),
			false, false},
		{[]string{"never"}, time.Time{}, true, false},
		{[]string{"NEVER"}, time.Time{}, true, false},
		{nil, time.Time{}, false, true},
		{[]string{"epoch", "soon"}, time.Time{}, false, true},
		{[]string{"3", "2023-11-15", "08:00:00"}, time.Time{}, false, true},
		{[]string{"2023/11/15", "08:00:00"}, time.Time{}, false, true},
	}
	for _, tt := range tests {
		got, never, err := iscTime(tt.words)
		if (err != nil) != tt.err || never != tt.never ||
			(err == nil && !got.Equal(tt.want)) {
			t.Errorf("iscTime(%q) = %v, %t, %v; want %v, %t, error %t",
				tt.words, got, never, err, tt.want, tt.never, tt.err)
		}
	}
}
