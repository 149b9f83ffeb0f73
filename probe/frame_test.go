package probe

import (
	"testing"
)

// TestDecodeUDPFragments: a fragmented reply is skipped as a fragment,
// whichever piece arrives, and a reply with only don't-fragment set is
// decoded.
func TestDecodeUDPFragments(t *testing.T) {
	base := loadVectors(t)["C00_ack_baseline"]
	tests := []struct {
		name   string
		flags  [2]byte // IPv4 flags and fragment offset
		reason string
	}{
		{"whole datagram", [2]byte{0x00, 0x00}, ""},
		{"don't fragment", [2]byte{0x40, 0x00}, ""},
		{"first fragment", [2]byte{0x20, 0x00}, SkipFragment},
		{"later fragment", [2]byte{0x00, 0x10}, SkipFragment},
		{"last fragment", [2]byte{0x00, 0xb9}, SkipFragment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame := append([]byte(nil), base...)
			frame[ethHeaderLen+6] = tt.flags[0]
			frame[ethHeaderLen+7] = tt.flags[1]
			f, reason := decodeUDP(frame)
			if reason != tt.reason {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
			if reason == "" && (f.srcPort != serverPort || f.dstPort != clientPort) {
				t.Errorf("ports %d -> %d, want 67 -> 68", f.srcPort, f.dstPort)
			}
		})
	}
}
