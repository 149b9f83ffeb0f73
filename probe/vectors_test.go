package probe

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// want is what one test frame must produce.
type want struct {
	skip      string // a skip reason, or "" for a reply
	typ       MessageType
	key       string
	idState   ServerIDState
	message   *string
	lease     time.Duration
	warnings  int
	yourIP    string
	sourceMAC string
}

func str(s string) *string { return &s }

func TestVectorsOneByOne(t *testing.T) {
	ack := want{typ: ACK, key: "192.0.2.1", idState: ServerIDPresent,
		lease: time.Hour, yourIP: "192.0.2.50", sourceMAC: "02:00:00:00:00:fe"}
	withWarn := func(w want, n int) want { w.warnings = n; return w }
	dup := withWarn(ack, 1)
	dup.idState = ServerIDDuplicated

	tests := map[string]want{
		"C00_ack_baseline": ack,
		"C04a_ack_from_A":  ack,
		"C04b_nak_from_B": {typ: NAK, key: "192.0.2.2",
			idState: ServerIDPresent, message: str("address not available"),
			yourIP: "0.0.0.0", sourceMAC: "02:00:00:00:00:fd"},
		"C07a_nak_no_server_id": {typ: NAK, key: "192.0.2.1",
			idState: ServerIDAbsent, yourIP: "0.0.0.0",
			sourceMAC: "02:00:00:00:00:fe"},
		"C07b_nak_no_server_id_msg_with_trailing_nul_sent_twice": {typ: NAK,
			key: "192.0.2.1", idState: ServerIDAbsent,
			message: str("no session"), yourIP: "0.0.0.0",
			sourceMAC: "02:00:00:00:00:fe"},
		"C07c_ack_option54_twice_same":              dup,
		"C09a_ack_no_end_zero_padded":               withWarn(ack, 1),
		"C09b_ack_no_end_unpadded":                  withWarn(ack, 1),
		"C10a_ack_262_bytes":                        ack,
		"C10b_trailing_bytes_after_ip_total_length": ack,
		"C10c_ff_padding_after_end":                 ack,
		"C10e_ip_total_length_24_no_room_for_udp":   {skip: SkipBadLength},
		"C10f_udp_length_field_4":                   {skip: SkipBadLength},
		"C10g_udp_length_exceeds_ip_payload":        {skip: SkipBadLength},
		"C11a_udp_checksum_zero":                    ack,
		"C11b_udp_checksum_partial_offload":         ack,
		"C16_a_reply_from_other_host_unicast_to_us": {skip: SkipNotIPv4UDP},
		"C16_e_router_who-has_not_conflict":         {skip: SkipNotIPv4UDP},
	}

	vectors := loadVectors(t)
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			frame, ok := vectors[name]
			if !ok {
				t.Fatalf("vector %s missing from testdata", name)
			}
			c := vecConfig()
			col := newCollector(&c, vecXID)
			col.consider(frame, time.Now())

			if w.skip != "" {
				if diff := cmp.Diff(map[string]int{w.skip: 1},
					col.res.Skipped); diff != "" {
					t.Errorf("skipped (-want +got):\n%s", diff)
				}
				if len(col.res.Replies) != 0 {
					t.Errorf("got %d replies, want none", len(col.res.Replies))
				}

				return
			}
			if len(col.res.Replies) != 1 {
				t.Fatalf("got %d replies (skipped %v), want 1",
					len(col.res.Replies), col.res.Skipped)
			}
			got := toWant(col.res.Replies[0])
			if diff := cmp.Diff(w, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

func toWant(r *Reply) want {
	w := want{typ: r.Type, key: r.ServerKey(), idState: r.ServerIDState,
		message: r.Message, warnings: len(r.Warnings),
		yourIP: r.YourIP.String(), sourceMAC: r.SourceMAC.String()}
	if r.LeaseTime != nil {
		w.lease = *r.LeaseTime
	}

	return w
}

func TestVectorsCombined(t *testing.T) {
	vectors := loadVectors(t)
	tests := []struct {
		name    string
		frames  []string
		verdict Verdict
		servers []string
		counts  []int
	}{
		{"ack then nak is disputed",
			[]string{"C04a_ack_from_A", "C04b_nak_from_B"},
			Disputed, []string{"192.0.2.1", "192.0.2.2"}, []int{1, 1}},
		{"nak then ack is disputed",
			[]string{"C04b_nak_from_B", "C04a_ack_from_A"},
			Disputed, []string{"192.0.2.2", "192.0.2.1"}, []int{1, 1}},
		{"a nak sent twice is one reply counted twice",
			[]string{"C07b_nak_no_server_id_msg_with_trailing_nul_sent_twice",
				"C07b_nak_no_server_id_msg_with_trailing_nul_sent_twice"},
			Invalid, []string{"192.0.2.1"}, []int{2}},
		{"acks of different framing from one server fold into one",
			[]string{"C00_ack_baseline", "C10b_trailing_bytes_after_ip_total_length",
				"C11b_udp_checksum_partial_offload"},
			Valid, []string{"192.0.2.1"}, []int{3}},
		{"only impossible lengths is no answer",
			[]string{"C10e_ip_total_length_24_no_room_for_udp",
				"C10f_udp_length_field_4"},
			NoAnswer, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := vecConfig()
			col := newCollector(&c, vecXID)
			for _, name := range tt.frames {
				col.consider(vectors[name], time.Now())
			}
			if got := col.res.Verdict(); got != tt.verdict {
				t.Errorf("verdict = %s, want %s", got, tt.verdict)
			}

			var keys []string
			var counts []int
			for _, s := range col.res.Servers() {
				keys = append(keys, s.Key)
				n := 0
				for _, r := range s.Replies {
					n += r.Count
				}
				counts = append(counts, n)
			}
			if diff := cmp.Diff(tt.servers, keys); diff != "" {
				t.Errorf("servers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.counts, counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVectorsForOtherProbesAreSkipped(t *testing.T) {
	frame := loadVectors(t)["C00_ack_baseline"]
	tests := []struct {
		name string
		xid  uint32
		mac  string
		want string
	}{
		{"other xid", 0x01020304, "02:00:00:00:00:01", SkipOtherXID},
		{"other client", vecXID, "02:00:00:00:00:99", SkipOtherChaddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := vecConfig()
			c.ClientMAC = mustMAC(t, tt.mac)
			col := newCollector(&c, tt.xid)
			col.consider(frame, time.Now())
			if diff := cmp.Diff(map[string]int{tt.want: 1},
				col.res.Skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestYourIPMismatchWarns(t *testing.T) {
	c := vecConfig()
	c.IP = netip.MustParseAddr("192.0.2.77")
	col := newCollector(&c, vecXID)
	col.consider(loadVectors(t)["C00_ack_baseline"], time.Now())

	if len(col.res.Replies) != 1 {
		t.Fatalf("got %d replies, want 1", len(col.res.Replies))
	}
	want := []string{"ACK offers 192.0.2.50, not the requested 192.0.2.77: " +
		"it does not confirm the binding"}
	if diff := cmp.Diff(want, col.res.Replies[0].Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	// An ACK for another address refuses the binding asked about.
	if v := col.res.Verdict(); v != Invalid {
		t.Errorf("verdict %s, want invalid", v)
	}

}

func TestUnusableServerIDFallsBackToSource(t *testing.T) {
	v := loadVectors(t)
	zeroID := func(frame []byte) []byte {
		c := append([]byte(nil), frame...)
		i := bytes.Index(c, []byte{54, 4, 192, 0, 2})
		copy(c[i+2:i+6], []byte{0, 0, 0, 0})

		return c
	}
	// Two servers that both send option 54 = 0.0.0.0 stay two servers.
	c := vecConfig()
	col := newCollector(&c, vecXID)
	col.consider(zeroID(v["C04a_ack_from_A"]), time.Now())
	col.consider(zeroID(v["C04b_nak_from_B"]), time.Now())

	var got []string
	for _, r := range col.res.Replies {
		got = append(got, fmt.Sprintf("%s %s %s", r.ServerKey(),
			r.ServerIDState, hex.EncodeToString(r.ServerIDRaw)))
	}
	want := []string{"192.0.2.1 malformed 00000000",
		"192.0.2.2 malformed 00000000"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAckWithoutAddressDoesNotConfirm(t *testing.T) {
	frame := append([]byte(nil), loadVectors(t)["C00_ack_baseline"]...)
	copy(frame[14+20+8+16:], []byte{0, 0, 0, 0}) // yiaddr 0.0.0.0
	c := vecConfig()
	col := newCollector(&c, vecXID)
	col.consider(frame, time.Now())
	if v := col.res.Verdict(); v != Invalid || !col.res.Replies[0].OtherAddress {
		t.Errorf("verdict %s, want invalid for an ACK without address", v)
	}
}

func TestFramingsDecodeAlike(t *testing.T) {
	ack := loadVectors(t)["C00_ack_baseline"]
	vlan := func(tpid uint16, f []byte) []byte {
		out := append([]byte(nil), f[:12]...)
		out = binary.BigEndian.AppendUint16(out, tpid)
		out = append(out, 0x00, 0x78) // VLAN 120

		return append(out, f[12:]...)
	}
	snap := append([]byte(nil), ack[:12]...)
	snap = binary.BigEndian.AppendUint16(snap, uint16(len(ack)-14+8))
	snap = append(snap, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00)
	snap = append(snap, ack[14:]...)

	for name, frame := range map[string][]byte{
		"802.1Q":     vlan(0x8100, ack),
		"802.1ad+1Q": vlan(0x88a8, vlan(0x8100, ack)),
		"802.3 SNAP": snap,
		"plain":      ack,
		"with FCS":   append(append([]byte(nil), ack...), 1, 2, 3, 4),
	} {
		c := vecConfig()
		col := newCollector(&c, vecXID)
		col.consider(frame, time.Now())
		if len(col.res.Replies) != 1 || col.res.Verdict() != Valid {
			t.Errorf("%s: %d replies, skipped %v", name,
				len(col.res.Replies), col.res.Skipped)
		}
	}
}
