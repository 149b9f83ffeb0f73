package leasefile

import (
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// testNow is 2023-11-14 22:13:20 UTC, the "now" of every sample file.
var testNow = time.Unix(1700000000, 0)

// row is an Entry in a form that reads well in a table.
type row struct {
	Line     int
	MAC      string
	IP       string
	ClientID string // hex
}

// summary is a Result in a form that reads well in a table.
type summary struct {
	Format  Format
	Entries []row
	Bad     []string // BadRow.Error()
	Skipped map[string]int
}

func summarize(res *Result) summary {
	s := summary{Format: res.Format, Skipped: res.Skipped}
	for _, e := range res.Entries {
		s.Entries = append(s.Entries, row{e.Line, e.MAC.String(),
			e.IP.String(), hex.EncodeToString(e.ClientID)})
	}
	for _, b := range res.Bad {
		s.Bad = append(s.Bad, b.Error())
	}

	return s
}

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		want   summary
	}{
		{"leases.csv", FormatCSV, summary{
			Entries: []row{
				{3, "00:1b:a9:4c:11:02", "192.168.10.20", ""},
				{4, "3c:22:fb:8a:10:7e", "192.168.10.31",
					"013c22fb8a107e"},
				{5, "00:11:32:aa:bb:cc", "192.168.10.5", "01001132aabbcc"},
				{6, "00:11:32:aa:bb:cd", "192.168.10.6", ""},
				{14, "b8:27:eb:12:34:59", "192.168.10.49",
					"ff564e368d000100012c8d1122b827eb123459"},
			},
			Bad: []string{
				`line 8: MAC address "00:1b:a9:4c:11" must be a 6-byte ` +
					`Ethernet address like 02:00:00:00:00:01, got 5 bytes`,
				`line 9: bad IP address "192.168.10.300"`,
				`line 10: IP address "2001:db8::4" is not an IPv4 ` +
					`address; DHCPv4 leases are IPv4, like 192.0.2.50`,
				`line 11: MAC address "01:00:5e:00:00:fb" must be a ` +
					`unicast address (the first byte's lowest bit ` +
					`clear), not multicast or broadcast`,
				`line 12: has 3 fields, the header has 5`,
				`line 13: bad client ID "01:zz:00": 'z' is not a hex digit`,
			},
			Skipped: map[string]int{},
		}},
		{"leases.jsonl", FormatJSONL, summary{
			Entries: []row{
				{2, "00:1b:a9:4c:11:02", "192.168.10.20", ""},
				{3, "3c:22:fb:8a:10:7e", "192.168.10.31",
					"013c22fb8a107e"},
				{5, "00:11:32:aa:bb:cc", "192.168.10.5", ""},
				{6, "00:11:32:aa:bb:cd", "192.168.10.6",
					"ff00000001000100012b3c4d5e001132aabbcd"},
			},
			Bad: []string{
				`line 7: no "ip" key`,
				`line 8: "ip" is not a string`,
				`line 9: bad JSON: unexpected end of JSON input`,
				`line 10: not a JSON object`,
				`line 11: client ID has 1 bytes, want 2 to 255`,
			},
			Skipped: map[string]int{},
		}},
		{"dnsmasq.leases", FormatDnsmasq, summary{
			Entries: []row{
				{1, "3c:22:fb:8a:10:7e", "192.168.10.31",
					"013c22fb8a107e"},
				{2, "00:1b:a9:4c:11:02", "192.168.10.20", ""},
				{3, "00:11:32:aa:bb:cc", "192.168.10.5", "01001132aabbcc"},
				{5, "a4:83:e7:01:02:03", "192.168.10.45", ""},
				{9, "b8:27:eb:12:34:59", "192.168.10.49",
					"ff564e368d000100012c8d1122b827eb123459"},
			},
			Bad: []string{
				`line 6: hardware type 32 of "20-80:00:02:08:fe:80:00:00:` +
					`00:00:00:00:00:02:c9:03:00:0a:..." is not Ethernet`,
				`line 7: MAC address "b8:27:eb:12:34" must be a 6-byte ` +
					`Ethernet address like 02:00:00:00:00:01, got 5 bytes`,
				`line 8: has 4 fields, want 5 (expiry, MAC, IP, ` +
					`hostname, client ID)`,
			},
			Skipped: map[string]int{SkipExpired: 1, SkipIPv6: 2},
		}},
		{"dhcpd.leases", FormatISC, summary{
			Entries: []row{
				{24, "00:1b:21:ac:1d:0a", "192.168.20.11",
					"01001b21ac1d0a"},
				{36, "00:1b:21:ac:1d:0b", "192.168.20.12",
					"01001b21ac1d0b"},
				{54, "52:54:00:6e:41:14", "192.168.20.14", ""},
				{79, "52:54:00:6e:41:17", "192.168.20.17", ""},
				{107, "52:54:00:6e:41:99", "192.168.20.19",
					"015254006e4199"},
			},
			Bad: []string{
				`line 86: active lease has no hardware address`,
				`line 117: bad IP address "192.168.20.300"`,
				`line 123: hardware type "token-ring" is not ethernet`,
			},
			Skipped: map[string]int{SkipInactive: 3, SkipExpired: 1,
				SkipSuperseded: 2},
		}},
		{"kea-leases4.csv", FormatKea, summary{
			Entries: []row{
				{3, "00:1b:a9:4c:11:02", "192.168.30.11", ""},
				{7, "3c:22:fb:8a:10:7e", "192.168.30.10",
					"013c22fb8a107e"},
				{12, "00:11:32:aa:bb:ce", "192.168.30.18", ""},
				{13, "00:11:32:aa:bb:cf", "192.168.30.19",
					"ff00000001000100012b3c4d5e001132aabbcf"},
			},
			Bad: []string{
				`line 10: MAC address "00:11:32:aa:bb" must be a 6-byte ` +
					`Ethernet address like 02:00:00:00:00:01, got 5 bytes`,
				`line 11: has 8 fields, the header has 12`,
			},
			Skipped: map[string]int{SkipInactive: 3, SkipExpired: 1,
				SkipSuperseded: 2},
		}},
	}
	for _, tt := range tests {
		for _, given := range []Format{tt.format, ""} {
			name := tt.file + "/" + string(given)
			if given == "" {
				name = tt.file + "/detected"
			}
			t.Run(name, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join("testdata", tt.file))
				if err != nil {
					t.Fatal(err)
				}

				res, err := Parse(strings.NewReader(string(data)), given,
					testNow)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				want := tt.want
				want.Format = tt.format
				if diff := cmp.Diff(want, summarize(res)); diff != "" {
					t.Errorf("Parse (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestParseInline(t *testing.T) {
	long := strings.Repeat("x", maxLine-len("02:00:00:00:00:01,10.0.0.1,"))
	tests := []struct {
		name   string
		format Format
		input  string
		now    time.Time
		want   summary
	}{
		{"csv with bom and crlf", "",
			"\xef\xbb\xbfMAC,IP\r\n02:00:00:00:00:01,10.0.0.1\r\n",
			testNow, summary{Format: FormatCSV,
				Entries: []row{{2, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
		{"csv with semicolons, columns in any order", "",
			"ip ; Client-ID ; mac\n" +
				"10.0.0.1;;02-00-00-00-00-01\n" +
				"10.0.0.2;\"01:02:00:00:00:00:02\";020000000002\n",
			testNow, summary{Format: FormatCSV, Entries: []row{
				{2, "02:00:00:00:00:01", "10.0.0.1", ""},
				{3, "02:00:00:00:00:02", "10.0.0.2", "01020000000002"},
			}}},
		{"csv without a final newline", FormatCSV,
			"mac,ip\n02:00:00:00:00:01,10.0.0.1",
			testNow, summary{Format: FormatCSV,
				Entries: []row{{2, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
		{"csv with a bare quote", FormatCSV,
			"mac,ip,note\n02:00:00:00:00:01,10.0.0.1,5\" disk\n",
			testNow, summary{Format: FormatCSV, Bad: []string{
				`line 2: column 29: bare " in non-quoted-field`}}},
		{"line of exactly 1 MiB is read", FormatCSV,
			"mac,ip,note\n02:00:00:00:00:01,10.0.0.1," + long + "\n",
			testNow, summary{Format: FormatCSV,
				Entries: []row{{2, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
		{"longer line is a bad row, the next line counts", FormatCSV,
			"mac,ip,note\n02:00:00:00:00:01,10.0.0.1," + long + "x\r\n" +
				"02:00:00:00:00:02,10.0.0.2,\n",
			testNow, summary{Format: FormatCSV,
				Entries: []row{{3, "02:00:00:00:00:02", "10.0.0.2", ""}},
				Bad: []string{
					"line 2: line is longer than 1048576 bytes"}}},
		{"jsonl with bom", "",
			"\xef\xbb\xbf{\"ip\":\"10.0.0.1\",\"mac\":\"02:00:00:00:00:01\"}",
			testNow, summary{Format: FormatJSONL,
				Entries: []row{{1, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
		{"dnsmasq empty", FormatDnsmasq, "", testNow,
			summary{Format: FormatDnsmasq}},
		{"dnsmasq with a zero now keeps expired leases", FormatDnsmasq,
			"1 02:00:00:00:00:01 10.0.0.1 * *\n", time.Time{},
			summary{Format: FormatDnsmasq,
				Entries: []row{{1, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
		{"dnsmasq v6 only", "",
			"duid 00:01:00:01:2c:8d:10:00:52:54:00:12:34:56\n" +
				"0 12 2001:db8::12 * 00:01:00:01:2c:8d:10:00:52:54:00:12:34:57\n",
			testNow, summary{Format: FormatDnsmasq,
				Skipped: map[string]int{SkipIPv6: 1}}},
		{"dnsmasq bad expiry", FormatDnsmasq,
			"-5 02:00:00:00:00:01 10.0.0.1 * *\n", testNow,
			summary{Format: FormatDnsmasq,
				Bad: []string{`line 1: bad expiry time "-5"`}}},
		{"dnsmasq extra lines", FormatDnsmasq,
			"0 02:00:00:00:00:01 10.0.0.1 * *\n" +
				"agent-info 10.0.0.1 01:04:00:00:00:07\n" +
				"vendorclass 10.0.0.1 4d:53:46:54:20:35:2e:30\n",
			testNow, summary{Format: FormatDnsmasq,
				Entries: []row{{1, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
		{"rows a probe would refuse are bad rows", FormatCSV,
			"mac,ip\n02:00:00:00:00:01,192.0.2.50\n" +
				"02:00:00:00:00:02,240.0.0.1\n" +
				"02:00:00:00:00:03,0.0.0.0\n" +
				"03:00:00:00:00:04,192.0.2.51\n" +
				"02:00:00:00:00:05,192.0.2.52\n",
			testNow, summary{Format: FormatCSV,
				Entries: []row{
					{2, "02:00:00:00:00:01", "192.0.2.50", ""},
					{6, "02:00:00:00:00:05", "192.0.2.52", ""},
				},
				Bad: []string{
					`line 3: IP address "240.0.0.1" is reserved ` +
						`(240.0.0.0/4); give a unicast address`,
					`line 4: IP address "0.0.0.0" is the unspecified ` +
						`address; give the leased address, like 192.0.2.50`,
					`line 5: MAC address "03:00:00:00:00:04" must be a ` +
						`unicast address (the first byte's lowest bit ` +
						`clear), not multicast or broadcast`,
				}}},
		{"jsonl duplicate keys are bad rows", FormatJSONL,
			`{"mac":"02:00:00:00:00:01","ip":"10.0.0.1",` +
				`"mac":"02:00:00:00:00:09"}` + "\n" +
				`{"ip":"10.0.0.9","mac":"02:00:00:00:00:02","ip":"10.0.0.2"}` +
				"\n" +
				`{"mac":"02:00:00:00:00:03","ip":"10.0.0.3",` +
				`"m\u0061c":"02:00:00:00:00:04"}` + "\n" +
				`{"mac":"02:00:00:00:00:05","ip":"10.0.0.5",` +
				`"client_id":null,"client_id":"0102"}` + "\n" +
				`{"mac":"02:00:00:00:00:06","ip":"10.0.0.6","MAC":"x"}` + "\n" +
				`{"mac":"02:00:00:00:00:07","ip":"10.0.0.7",` +
				`"note":{"a":1,"a":2},"note":3}` + "\n",
			testNow, summary{Format: FormatJSONL,
				Entries: []row{{5, "02:00:00:00:00:06", "10.0.0.6", ""}},
				Bad: []string{
					`line 1: key "mac" appears more than once`,
					`line 2: key "ip" appears more than once`,
					`line 3: key "mac" appears more than once`,
					`line 4: key "client_id" appears more than once`,
					`line 6: key "note" appears more than once`,
				}}},
		{"jsonl keys are case-sensitive", FormatJSONL,
			`{"MAC":"02:00:00:00:00:01","ip":"10.0.0.1"}`, testNow,
			summary{Format: FormatJSONL,
				Bad: []string{`line 1: no "mac" key`}}},
		{"isc bad block replaced by a good one", FormatISC,
			"lease 10.0.0.1 {\n  binding state active;\n}\n" +
				"lease 10.0.0.1 {\n  binding state active;\n" +
				"  ends never;\n  hardware ethernet 02:00:00:00:00:01;\n}\n",
			testNow, summary{Format: FormatISC,
				Entries: []row{{4, "02:00:00:00:00:01", "10.0.0.1", ""}},
				Skipped: map[string]int{SkipSuperseded: 1}}},
		{"isc bad address is never superseded", FormatISC,
			"lease 10.0.0 {\n  binding state free;\n}\n" +
				"lease 10.0.0 {\n  binding state free;\n}\n",
			testNow, summary{Format: FormatISC, Bad: []string{
				`line 1: bad IP address "10.0.0"`,
				`line 4: bad IP address "10.0.0"`}}},
		{"isc keywords in any case", FormatISC,
			"LEASE 10.0.0.1 {\n  Binding State Active;\n" +
				"  ends Never;\n  Hardware Ethernet 02:00:00:00:00:01;\n}\n",
			testNow, summary{Format: FormatISC,
				Entries: []row{{1, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
		{"isc block never closed, next lease recovers", FormatISC,
			"lease 10.0.0.1 {\n  binding state active;\n" +
				"lease 10.0.0.2 {\n  binding state active;\n  ends never;\n" +
				"  hardware ethernet 02:00:00:00:00:02;\n}\n",
			testNow, summary{Format: FormatISC,
				Entries: []row{{3, "02:00:00:00:00:02", "10.0.0.2", ""}},
				Bad: []string{
					"line 1: block not closed before line 3"}}},
		{"isc block open at the end", FormatISC,
			"lease 10.0.0.1 {\n  binding state active;\n",
			testNow, summary{Format: FormatISC, Bad: []string{
				"line 1: block not closed at the end of the input"}}},
		{"isc skipped block open at the end", FormatISC,
			"failover peer \"x\" state {\n  my state normal;\n",
			testNow, summary{Format: FormatISC, Bad: []string{
				"line 1: block not closed at the end of the input"}}},
		{"isc unterminated string", FormatISC,
			"lease 10.0.0.1 {\n  binding state active;\n  ends never;\n" +
				"  hardware ethernet 02:00:00:00:00:01;\n" +
				"  client-hostname \"oops;\n}\n",
			testNow, summary{Format: FormatISC, Bad: []string{
				"line 1: line 5: string not closed on its line"}}},
		{"isc without binding state", FormatISC,
			"lease 10.0.0.1 {\n  ends never;\n" +
				"  hardware ethernet 02:00:00:00:00:01;\n}\n",
			testNow, summary{Format: FormatISC,
				Bad: []string{"line 1: no binding state"}}},
		{"isc bad ends", FormatISC,
			"lease 10.0.0.1 {\n  binding state active;\n" +
				"  ends 3 2023/13/45 08:00:00;\n" +
				"  hardware ethernet 02:00:00:00:00:01;\n}\n",
			testNow, summary{Format: FormatISC, Bad: []string{
				`line 1: bad end time "2023/13/45 08:00:00"`}}},
		{"isc dhcpv6 leases", "",
			"server-duid \"\\000\\001\";\n\nia-na \"\\001\\002\" {\n" +
				"  cltt 2 2023/11/14 20:00:00;\n" +
				"  iaaddr 2001:db8::5 {\n    binding state active;\n  }\n}\n",
			testNow, summary{Format: FormatISC,
				Skipped: map[string]int{SkipIPv6: 1}}},
		{"kea header only", "", "address,hwaddr,client_id,valid_lifetime," +
			"expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state\n", testNow,
			summary{Format: FormatKea}},
		{"kea good row replaced by a bad one", FormatKea,
			"address,hwaddr,client_id,valid_lifetime,expire,subnet_id," +
				"fqdn_fwd,fqdn_rev,hostname,state\n" +
				"10.0.0.1,02:00:00:00:00:01,,3600,1700003600,1,0,0,,0\n" +
				"10.0.0.1,02:00:00:00:00:01,,3600,1700007200,1,0,0,,x\n" +
				"2001:db8::1,02:00:00:00:00:01,,3600,1700007200,1,0,0,,0\n",
			testNow, summary{Format: FormatKea,
				Bad: []string{`line 3: bad state "x"`,
					`line 4: IP address "2001:db8::1" is not an IPv4 ` +
						`address; DHCPv4 leases are IPv4, like 192.0.2.50`},
				Skipped: map[string]int{SkipSuperseded: 1}}},
		{"kea 1.0 header without state", FormatKea,
			"address,hwaddr,client_id,valid_lifetime,expire,subnet_id," +
				"fqdn_fwd,fqdn_rev,hostname\n" +
				"10.0.0.1,02:00:00:00:00:01,,3600,1700003600,1,0,0,\n",
			testNow, summary{Format: FormatKea,
				Entries: []row{{2, "02:00:00:00:00:01", "10.0.0.1", ""}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(tt.input), tt.format, tt.now)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}

			want := tt.want
			if want.Skipped == nil {
				want.Skipped = map[string]int{}
			}
			if diff := cmp.Diff(want, summarize(res)); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	errRead := errors.New("disk on fire")
	tests := []struct {
		name   string
		format Format
		input  io.Reader
		is     error
		msg    string
	}{
		{"csv without ip column", FormatCSV,
			strings.NewReader("host,mac,addr\nx,02:00:00:00:00:01,10.0.0.1\n"),
			ErrHeader, `csv line 1: bad header line: no "ip" column ` +
				`(found "host", "mac", "addr")`},
		{"csv with data and no header", FormatCSV,
			strings.NewReader("02:00:00:00:00:01,10.0.0.1\n"),
			ErrHeader, `csv line 1: bad header line: no "mac" or "ip" ` +
				`column (found "02:00:00:00:00:01", "10.0.0.1")`},
		{"csv with a column twice", FormatCSV,
			strings.NewReader("mac,ip,MAC\n"),
			ErrHeader, `csv line 1: bad header line: column "mac" ` +
				`appears twice`},
		{"csv empty", FormatCSV, strings.NewReader("\n# nothing yet\n"),
			ErrHeader, "csv: bad header line: the input has no header " +
				"line naming the mac and ip columns"},
		{"kea without header", FormatKea,
			strings.NewReader("10.0.0.1,02:00:00:00:00:01,,3600\n"),
			ErrHeader, `kea line 1: bad header line: want a Kea DHCPv4 ` +
				`header starting "address,hwaddr" (found "10.0.0.1", ` +
				`"02:00:00:00:00:01", "", "3600")`},
		{"kea empty", FormatKea, strings.NewReader(""), ErrHeader,
			"kea: bad header line: the input has no header line"},
		{"unknown format", "xml", strings.NewReader(""), ErrUnknownFormat,
			`unknown lease file format "xml": want csv, jsonl, dnsmasq, ` +
				`isc or kea`},
		{"undetectable", "", strings.NewReader("hello world\n"),
			ErrUnknownFormat, `unknown lease file format: first line ` +
				`"hello world" looks like none of csv, jsonl, dnsmasq, isc ` +
				`or kea; name the format with --format`},
		{"read error while detecting", "", iotest.ErrReader(errRead),
			errRead, "read lease file: disk on fire"},
		{"read error in the middle", FormatCSV, io.MultiReader(
			strings.NewReader("mac,ip\n02:00:00:00:00:01,10.0"),
			iotest.ErrReader(errRead)),
			errRead, "read line 2: disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(tt.input, tt.format, testNow)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", summarize(res))
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("Parse error %v is not %v", err, tt.is)
			}
			if diff := cmp.Diff(tt.msg, err.Error()); diff != "" {
				t.Errorf("Parse error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		err  bool
	}{
		{"", "", false},
		{"auto", "", false},
		{" Kea ", FormatKea, false},
		{"DNSMASQ", FormatDnsmasq, false},
		{"csv", FormatCSV, false},
		{"jsonl", FormatJSONL, false},
		{"isc", FormatISC, false},
		{"json", "", true},
		{"dhcpd", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("ParseFormat(%q) error %v, want error %t", tt.in,
					err, tt.err)
			}
			if err != nil && (!errors.Is(err, ErrUnknownFormat) ||
				!strings.Contains(err.Error(), "auto, csv, jsonl, dnsmasq, "+
					"isc or kea")) {
				t.Errorf("ParseFormat(%q) error %q does not list the "+
					"formats", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseFormat(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBadRowError(t *testing.T) {
	inner := errors.New("no binding state")
	b := BadRow{Line: 12, Text: "lease 10.0.0.1 {", Err: inner}
	if diff := cmp.Diff("line 12: no binding state", b.Error()); diff != "" {
		t.Errorf("Error (-want +got):\n%s", diff)
	}
	if !errors.Is(b, inner) {
		t.Errorf("errors.Is(%v, inner) = false", b)
	}
}

func TestBadRowText(t *testing.T) {
	line := "\xff" + strings.Repeat("é", 200) + ",10.0.0.1"
	res, err := Parse(strings.NewReader("mac,ip\n"+line+"\n"), FormatCSV,
		testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Bad) != 1 {
		t.Fatalf("Bad = %v, want one row", res.Bad)
	}

	text := res.Bad[0].Text
	if len(text) > maxText+8 || !utf8.ValidString(text) ||
		!strings.HasPrefix(text, "\uFFFDé") {
		t.Errorf("Text = %q, want the line cut to about %d bytes, "+
			"valid UTF-8", text, maxText)
	}
}
