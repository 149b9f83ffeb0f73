package output

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
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
