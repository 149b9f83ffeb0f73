package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// replyFrame wraps a DHCP payload as a server's reply: 67 -> 68.
func replyFrame(payload []byte) []byte {
	f := BuildRequestFrame(mustMACs("02:00:00:00:00:fe"), payload)
	binary.BigEndian.PutUint16(f[34:], 67)
	binary.BigEndian.PutUint16(f[36:], 68)

	return f
}

func mustMACs(s string) []byte {
	m, _ := parseMAC(s)

	return m
}

// ackWith builds an ACK for the test probe whose options field holds
// opts (then END).
func ackWith(opts ...byte) []byte {
	p := make([]byte, optionsOff)
	p[0], p[1], p[2] = 2, 1, 6
	binary.BigEndian.PutUint32(p[4:8], vecXID)
	copy(p[16:20], vecIP.AsSlice())
	copy(p[chaddrOff:], vecClient)
	copy(p[bootpFixedLen:], magicCookie)
	p = append(p, 53, 1, 5, 54, 4, 192, 0, 2, 1)
	p = append(p, opts...)

	return append(p, optEnd)
}

func TestReplyExtras(t *testing.T) {
	p := ackWith(
		// 82: circuit-id "eth1/3", remote-id 0a0b, and sub-option 9.
		82, 16, 1, 6, 'e', 't', 'h', '1', '/', '3', 2, 2, 0x0a, 0x0b,
		9, 2, 0xff, 0xee,
		// 119: example.com, lab.example.com (with a pointer).
		119, 19, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		3, 'l', 'a', 'b', 0xc0, 0,
		// 121: 10.0.0.0/8 via 192.0.2.254, 0.0.0.0/0 via 192.0.2.1.
		121, 11, 8, 10, 192, 0, 2, 254, 0, 192, 0, 2, 1,
		// 61 echoed (RFC 6842).
		61, 7, 1, 2, 0, 0, 0, 0, 1,
	)
	copy(p[20:24], []byte{192, 0, 2, 5}) // siaddr
	copy(p[bootpSnameOff:], "boot-server")
	copy(p[bootpFileOff:], "pxelinux.0")

	c := vecConfig()
	col := newCollector(&c, vecXID)
	col.consider(replyFrame(p), time.Now())
	if len(col.res.Replies) != 1 {
		t.Fatalf("got %d replies, skipped %v", len(col.res.Replies),
			col.res.Skipped)
	}
	r := col.res.Replies[0]

	got := map[string]any{
		"circuit":  string(r.RelayAgent.CircuitID),
		"remote":   r.RelayAgent.RemoteID,
		"subs":     len(r.RelayAgent.SubOptions),
		"search":   r.DomainSearch,
		"routes":   r.ClasslessRoutes,
		"clientid": r.ClientID,
		"next":     r.NextServer,
		"sname":    r.ServerName,
		"file":     r.BootFile,
		"warnings": len(r.Warnings),
	}
	want := map[string]any{
		"circuit": "eth1/3",
		"remote":  []byte{0x0a, 0x0b},
		"subs":    3,
		"search":  []string{"example.com", "lab.example.com"},
		"routes": []ClasslessRoute{
			{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParseAddr("192.0.2.254")},
			{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("192.0.2.1")},
		},
		"clientid": []byte{1, 2, 0, 0, 0, 0, 1},
		"next":     netip.MustParseAddr("192.0.2.5"),
		"sname":    "boot-server",
		"file":     "pxelinux.0",
		"warnings": 0,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool {
		return a == b
	}), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReplyExtrasMalformed(t *testing.T) {
	// 121 whose prefix length runs past 32, and 119 with a label that
	// runs past its end: reported with their bytes, the ACK counted.
	p := ackWith(121, 5, 40, 10, 0, 0, 0, 119, 3, 5, 'a', 'b',
		52, 1, 1) // overload: the file field holds options
	copy(p[bootpFileOff:], []byte{optEnd})

	c := vecConfig()
	col := newCollector(&c, vecXID)
	col.consider(replyFrame(p), time.Now())
	r := col.res.Replies[0]
	if r.Type != ACK || len(r.ClasslessRoutes) != 0 || r.DomainSearch != nil ||
		r.BootFile != "" || len(r.Warnings) != 2 {
		t.Errorf("type %s routes %v search %v file %q warnings %q", r.Type,
			r.ClasslessRoutes, r.DomainSearch, r.BootFile, r.Warnings)
	}
}

// TestMessageOption: option 56 loses its trailing NULs, and one that is
// empty or only NULs is no message at all (null in JSON, not "").
func TestMessageOption(t *testing.T) {
	tests := []struct {
		name string
		opt  []byte
		want *string
	}{
		{"absent", nil, nil},
		{"empty", []byte{56, 0}, nil},
		{"only NULs", []byte{56, 2, 0, 0}, nil},
		{"text and NUL", []byte{56, 4, 'b', 'y', 'e', 0}, str("bye")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := vecConfig()
			col := newCollector(&c, vecXID)
			col.consider(replyFrame(ackWith(tt.opt...)), time.Now())
			if len(col.res.Replies) != 1 {
				t.Fatalf("%d replies, want 1", len(col.res.Replies))
			}
			if diff := cmp.Diff(tt.want, col.res.Replies[0].Message); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}
