package leasefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head string
		want Format
		err  string // part of the error, when one is wanted
	}{
		{"jsonl", `{"mac":"02:00:00:00:00:01","ip":"10.0.0.1"}`, FormatJSONL, ""},
		{"jsonl after comments and blank lines",
			"# batch\n\n  {\"mac\":\"x\"}\n", FormatJSONL, ""},
		{"jsonl with bom", "\xef\xbb\xbf{}", FormatJSONL, ""},
		{"isc lease first", "lease 10.0.0.1 {\n", FormatISC, ""},
		{"isc dhcpd comments",
			"# The format of this file is documented in the dhcpd.leases(5)" +
				" manual page.\n# This lease file was written by " +
				"isc-dhcp-4.4.3\n\n", FormatISC, ""},
		{"isc comments then an odd line",
			"# This lease file was written by isc-dhcp-4.4.3\nfoo bar;\n",
			FormatISC, ""},
		{"isc authoring-byte-order",
			"authoring-byte-order little-endian;\n", FormatISC, ""},
		{"isc server-duid", "server-duid \"\\000\\001\";\n", FormatISC, ""},
		{"isc dhcpv6 ia-na", "ia-na \"\\001\" {\n", FormatISC, ""},
		{"kea", "address,hwaddr,client_id,valid_lifetime,expire,subnet_id," +
			"fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\r\n",
			FormatKea, ""},
		{"kea dhcpv6", "address,duid,valid_lifetime,expire,subnet_id," +
			"pref_lifetime,lease_type,iaid,prefix_len\n", "",
			"Kea DHCPv6 lease file"},
		{"csv", "mac,ip\n", FormatCSV, ""},
		{"csv with more columns, crlf", "Host,IP,MAC,Client_ID\r\n",
			FormatCSV, ""},
		{"csv with semicolons", "mac;ip;client_id\n", FormatCSV, ""},
		{"csv with tabs", "ip\tmac\n", FormatCSV, ""},
		{"csv with quoted names", "\"MAC\",\"IP\"\n", FormatCSV, ""},
		{"csv comment before header", "# from the sheet\nmac,ip\n",
			FormatCSV, ""},
		{"dnsmasq", "1700003600 3c:22:fb:8a:10:7e 192.168.10.31 anna *\n",
			FormatDnsmasq, ""},
		{"dnsmasq infinite lease", "0 3c:22:fb:8a:10:7e 10.0.0.1 * *\n",
			FormatDnsmasq, ""},
		{"dnsmasq duid first", "duid 00:01:00:01:2c:8d:10:00\n",
			FormatDnsmasq, ""},
		{"csv without ip column", "mac,address\n", "", "first line"},
		{"four fields", "1700003600 3c:22:fb:8a:10:7e 10.0.0.1 anna\n", "",
			"first line"},
		{"five fields, first not a number",
			"soon 3c:22:fb:8a:10:7e 10.0.0.1 anna *\n", "", "first line"},
		{"empty", "", "", "empty"},
		{"only comments", "# nothing\n\n", "", "empty"},
		{"binary", "\x00\x01\x02", "", "first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect([]byte(tt.head))
			if tt.err != "" {
				if err == nil || !errors.Is(err, ErrUnknownFormat) ||
					!strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Detect = %q, %v; want an ErrUnknownFormat "+
						"error containing %q", got, err, tt.err)
				}
				if !strings.Contains(err.Error(), "Kea") &&
					!strings.Contains(err.Error(), "--format") {
					t.Errorf("Detect error %q does not mention --format",
						err)
				}

				return
			}
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDetectSamples(t *testing.T) {
	want := map[string]Format{
		"leases.csv":      FormatCSV,
		"leases.jsonl":    FormatJSONL,
		"dnsmasq.leases":  FormatDnsmasq,
		"dhcpd.leases":    FormatISC,
		"kea-leases4.csv": FormatKea,
	}
	got := map[string]Format{}
	for name := range want {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}

		got[name], err = Detect(data)
		if err != nil {
			t.Errorf("Detect(%s): %v", name, err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Detect (-want +got):\n%s", diff)
	}
}
