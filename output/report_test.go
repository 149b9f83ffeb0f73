package output

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/probe"
)

func TestWriteReport(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteReport(&buf, tc.res, ReportOptions{}); err != nil {
				t.Fatalf("WriteReport: %v", err)
			}

			checkGolden(t, tc.name+".txt", buf.Bytes())
		})
	}
}

func TestWriteReportOptions(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		opts   ReportOptions
	}{
		{
			name:   "colour",
			golden: "disputed-color.txt",
			opts:   ReportOptions{Color: true},
		},
		{
			name:   "verbose",
			golden: "disputed-verbose.txt",
			opts:   ReportOptions{Verbose: true},
		},
		{
			name:   "time zone",
			golden: "disputed-tz.txt",
			opts:   ReportOptions{Location: time.FixedZone("CET", 3600)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteReport(&buf, disputedResult(), tc.opts)
			if err != nil {
				t.Fatalf("WriteReport: %v", err)
			}

			checkGolden(t, tc.golden, buf.Bytes())
		})
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) {
	return 0, errWrite
}

func TestWriteErrors(t *testing.T) {
	res := validResult()
	tests := []struct {
		name  string
		write func() error
	}{
		{
			name: "report",
			write: func() error {
				return WriteReport(failingWriter{}, res, ReportOptions{})
			},
		},
		{
			name: "json",
			write: func() error {
				return WriteJSON(failingWriter{}, res, Meta{})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.write(); !errors.Is(err, errWrite) {
				t.Errorf("error = %v, want one wrapping %v", err, errWrite)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{name: "hours", in: 12 * time.Hour, want: "12h"},
		{name: "hours and minutes", in: 90 * time.Minute, want: "1h30m"},
		{name: "minutes", in: 10 * time.Minute, want: "10m"},
		{name: "seconds kept", in: time.Hour + 5*time.Second, want: "1h0m5s"},
		{name: "fraction", in: 1250 * time.Millisecond, want: "1.25s"},
		{name: "zero", in: 0, want: "0s"},
		{name: "infinite", in: 0xffffffff * time.Second, want: "infinite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, shortDuration(tc.in)); diff != "" {
				t.Errorf("shortDuration(%v) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "example.net", want: "example.net"},
		{name: "unicode kept", in: "bücher.example", want: "bücher.example"},
		{name: "escape quoted", in: "a\x1b[2Jb", want: `"a\x1b[2Jb"`},
		{name: "newline quoted", in: "a\nb", want: `"a\nb"`},
		{name: "C1 CSI byte quoted", in: "boot\x9b2J.img",
			want: `"boot\x9b2J.img"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, printable(tc.in)); diff != "" {
				t.Errorf("printable(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestDescribeServerID(t *testing.T) {
	id := netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name  string
		reply probe.Reply
		want  string
	}{
		{
			name: "present",
			reply: probe.Reply{
				ServerID: id, ServerIDState: probe.ServerIDPresent,
			},
			want: "192.0.2.1",
		},
		{
			name:  "absent",
			reply: probe.Reply{ServerIDState: probe.ServerIDAbsent},
			want:  "absent",
		},
		{
			name: "malformed",
			reply: probe.Reply{
				ServerIDState: probe.ServerIDMalformed,
				ServerIDRaw:   []byte{1, 2},
			},
			want: "malformed (0102)",
		},
		{
			name: "malformed and empty",
			reply: probe.Reply{
				ServerIDState: probe.ServerIDMalformed,
				Options:       []probe.Option{{Code: 54}},
			},
			want: "malformed (empty)",
		},
		{
			name: "duplicated, copies equal",
			reply: probe.Reply{
				ServerID: id, ServerIDState: probe.ServerIDDuplicated,
			},
			want: "192.0.2.1 (duplicated)",
		},
		{
			name: "duplicated, raw taken from options",
			reply: probe.Reply{
				ServerIDState: probe.ServerIDDuplicated,
				Options: []probe.Option{
					{Code: 54, Data: []byte{192, 0, 2, 1}},
					{Code: 53, Data: []byte{5}},
					{Code: 54, Data: []byte{192, 0, 2, 2}},
				},
			},
			want: "duplicated (c0000201c0000202)",
		},
		{name: "state unset", want: "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := describeServerID(&tc.reply)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("describeServerID (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNextServerAlone: a bare siaddr, as dnsmasq sends on every reply,
// is shown only with --verbose, and then not as a boot line.
func TestNextServerAlone(t *testing.T) {
	res := validResult()
	res.Replies[0].NextServer = netip.MustParseAddr("192.0.2.1")

	for _, tc := range []struct {
		verbose bool
		want    string
	}{
		{false, ""},
		{true, "  next-server 192.0.2.1\n"},
	} {
		var buf bytes.Buffer
		err := WriteReport(&buf, res, ReportOptions{Verbose: tc.verbose})
		if err != nil {
			t.Fatalf("WriteReport: %v", err)
		}
		out := buf.String()
		if bytes.Contains(buf.Bytes(), []byte("boot")) {
			t.Errorf("verbose=%v: a bare next server shown as boot:\n%s",
				tc.verbose, out)
		}
		got := ""
		for _, l := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
			if bytes.Contains(l, []byte("next-server")) {
				got = string(l)
			}
		}
		if got != tc.want {
			t.Errorf("verbose=%v: next-server line = %q, want %q",
				tc.verbose, got, tc.want)
		}
	}
}

// TestARPConflictSentenceFollowsTheDHCPAnswer: only a client holding an
// ACK would decline the address; after a NAK the report says the address
// is in use and nothing about declining.
func TestARPConflictSentenceFollowsTheDHCPAnswer(t *testing.T) {
	withNAK := nakNoServerIDResult()
	withNAK.ARP = arpConflictResult().ARP

	for _, tc := range []struct {
		name        string
		res         *probe.Result
		decline     bool
		description string
	}{
		{"ACK", arpConflictResult(), true, "a client with an ACK declines"},
		{"NAK", withNAK, false, "nothing to decline after a NAK"},
	} {
		var buf bytes.Buffer
		if err := WriteReport(&buf, tc.res, ReportOptions{}); err != nil {
			t.Fatalf("%s: WriteReport: %v", tc.name, err)
		}
		out := buf.String()
		if got := bytes.Contains(buf.Bytes(), []byte("DHCPDECLINE")); got != tc.decline {
			t.Errorf("%s (%s): mentions DHCPDECLINE = %v, want %v:\n%s",
				tc.name, tc.description, got, tc.decline, out)
		}
		if !bytes.Contains(buf.Bytes(), []byte("answers ARP for ")) {
			t.Errorf("%s: conflict not explained:\n%s", tc.name, out)
		}
	}
}

// TestCaptureHeaderDoesNotClaimListening: a result read from a capture
// (no interface) says where the capture ends, not how long anyone
// listened.
func TestCaptureHeaderDoesNotClaimListening(t *testing.T) {
	res := validResult()
	res.Request.Interface = ""
	res.Elapsed = 1500 * time.Millisecond

	var buf bytes.Buffer
	if err := WriteReport(&buf, res, ReportOptions{}); err != nil {
		t.Fatalf("WriteReport: %v", err)
	}
	want := "  sent       1 request; the capture ends 1.5s after the first\n"
	if !bytes.Contains(buf.Bytes(), []byte(want)) {
		t.Errorf("report lacks %q:\n%s", want, buf.String())
	}
	if bytes.Contains(buf.Bytes(), []byte("listened")) {
		t.Errorf("capture report claims a listening time:\n%s", buf.String())
	}
}
