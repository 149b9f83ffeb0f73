package output

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/probe"
)

func TestWriteJSON(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			meta := Meta{Version: "1.2.3-test", ExitCode: tc.exitCode}
			if err := WriteJSON(&buf, tc.res, meta); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}

			checkGolden(t, tc.name+".json", buf.Bytes())
		})
	}
}

// TestDocumentRoundTrip checks that a document read back into Document
// is written out again byte for byte, so Document can be used to parse it.
func TestDocumentRoundTrip(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			var first bytes.Buffer
			if err := WriteJSON(&first, tc.res, Meta{}); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}

			var doc Document
			if err := json.Unmarshal(first.Bytes(), &doc); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}

			var second bytes.Buffer
			if err := encodeDocument(&second, &doc); err != nil {
				t.Fatalf("encode: %v", err)
			}

			if diff := cmp.Diff(first.String(), second.String()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOptionsHexOrder(t *testing.T) {
	tests := []struct {
		name string
		in   OptionsHex
		want string
	}{
		{name: "empty", in: OptionsHex{}, want: `{}`},
		{name: "nil", in: nil, want: `{}`},
		{
			name: "numeric order",
			in:   OptionsHex{"54": "c0000201", "3": "c00002fe", "12": "6869"},
			want: `{"3":"c00002fe","12":"6869","54":"c0000201"}`,
		},
		{
			name: "non-numeric keys last",
			in:   OptionsHex{"x": "00", "255": "", "1": "ff"},
			want: `{"1":"ff","255":"","x":"00"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}

			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("MarshalJSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteJSONNilResult(t *testing.T) {
	if err := WriteJSON(&bytes.Buffer{}, nil, Meta{}); err == nil {
		t.Error("WriteJSON(nil) = nil error, want an error")
	}
}

// TestUnknownsFromACaptureAreNull checks that what a capture did not
// record is written as null and left out of the report, never made up.
func TestUnknownsFromACaptureAreNull(t *testing.T) {
	cooked := validResult()
	cooked.Request.Interface = ""
	cooked.Replies[0].DestinationMAC = nil

	orphan := validResult()
	orphan.Request = probe.Request{ClientMAC: orphan.Request.ClientMAC,
		XID: orphan.Request.XID}

	tests := []struct {
		name   string
		res    *probe.Result
		want   map[string]any
		report string // a line the report must not have
	}{
		{"reply without its destination", cooked, map[string]any{
			"interface.mac":             "00:00:5e:00:53:aa",
			"request.broadcast":         false,
			"replies.0.destination_mac": nil,
			"replies.0.broadcast":       nil,
		}, "  to "},
		{"replies without their request", orphan, map[string]any{
			"interface.mac":             nil,
			"request.broadcast":         nil,
			"replies.0.destination_mac": "00:00:5e:00:53:10",
			"replies.0.broadcast":       false,
		}, "broadcast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJSON(&buf, tt.res, Meta{}); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for path := range tt.want {
				got[path] = lookup(doc, path)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("document (-want +got):\n%s", diff)
			}

			buf.Reset()
			if err := WriteReport(&buf, tt.res, ReportOptions{
				Verbose: true}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(buf.String(), tt.report) {
				t.Errorf("report has %q:\n%s", tt.report, buf.String())
			}
		})
	}
}

// lookup follows a dotted path of keys and list indexes into v.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return "missing " + path
			}
			v = x[i]
		default:
			return "missing " + path
		}
	}

	return v
}
