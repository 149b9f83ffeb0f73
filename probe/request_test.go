package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestBuildRequestFields(t *testing.T) {
	tests := []struct {
		name      string
		change    func(*Config)
		flags     uint16
		clientID  []byte
		hostname  []byte
		wantCodes []uint8
	}{
		{"defaults", func(*Config) {}, 0x8000, nil, nil,
			[]uint8{50, 53, 55}},
		{"no broadcast", func(c *Config) { c.Broadcast = false }, 0, nil, nil,
			[]uint8{50, 53, 55}},
		{"client id and hostname", func(c *Config) {
			c.ClientID = []byte{1, 2, 0, 0, 0, 0, 1}
			c.Hostname = "probe-test"
		}, 0x8000, []byte{1, 2, 0, 0, 0, 0, 1}, []byte("probe-test"),
			[]uint8{12, 50, 53, 55, 61}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := vecConfig()
			tt.change(&c)
			b, err := BuildRequest(&c, vecXID)
			if err != nil {
				t.Fatal(err)
			}

			// The fixed header, byte by byte (RFC 2131 §2, table 5).
			got := map[string]any{
				"op":     b[0],
				"htype":  b[1],
				"hlen":   b[2],
				"hops":   b[3],
				"xid":    binary.BigEndian.Uint32(b[4:8]),
				"secs":   binary.BigEndian.Uint16(b[8:10]),
				"flags":  binary.BigEndian.Uint16(b[10:12]),
				"ciaddr": [4]byte(b[12:16]),
				"yiaddr": [4]byte(b[16:20]),
				"siaddr": [4]byte(b[20:24]),
				"giaddr": [4]byte(b[24:28]),
				"chaddr": [16]byte(b[28:44]),
				"cookie": [4]byte(b[236:240]),
			}
			want := map[string]any{
				"op": byte(1), "htype": byte(1), "hlen": byte(6),
				"hops": byte(0), "xid": vecXID, "secs": uint16(0),
				"flags": tt.flags, "ciaddr": [4]byte{}, "yiaddr": [4]byte{},
				"siaddr": [4]byte{}, "giaddr": [4]byte{},
				"chaddr": [16]byte{2, 0, 0, 0, 0, 1},
				"cookie": [4]byte{99, 130, 83, 99},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if len(b) < 300 {
				t.Errorf("payload is %d bytes, want at least 300 (BOOTP)", len(b))
			}

			opts, notes := readOptions(b)
			if len(notes) != 0 {
				t.Fatalf("request options malformed: %v", notes)
			}
			byCode := map[uint8][]byte{}
			var codes []uint8
			for _, o := range opts {
				byCode[o.Code] = o.Data
				codes = append(codes, o.Code)
			}
			if diff := cmp.Diff(tt.wantCodes, codes); diff != "" {
				t.Errorf("option codes (-want +got):\n%s", diff)
			}
			checks := map[uint8][]byte{
				53: {byte(dhcpv4.MessageTypeRequest)},
				50: vecIP.AsSlice(),
				55: {1, 3, 6, 15, 51, 54, 58, 59},
				61: tt.clientID,
				12: tt.hostname,
			}
			for code, w := range checks {
				if diff := cmp.Diff(w, byCode[code]); diff != "" {
					t.Errorf("option %d (-want +got):\n%s", code, diff)
				}
			}
		})
	}
}

func TestBuildRequestFrame(t *testing.T) {
	c := vecConfig()
	payload, err := BuildRequest(&c, vecXID)
	if err != nil {
		t.Fatal(err)
	}
	frame := BuildRequestFrame(vecInterface, payload)

	f, reason := decodeUDP(frame)
	if reason != "" {
		t.Fatalf("own frame does not decode: %s", reason)
	}
	got := []string{f.dst.String(), f.src.String(), f.srcIP.String(),
		f.dstIP.String()}
	want := []string{"ff:ff:ff:ff:ff:ff", "02:00:00:00:00:02", "0.0.0.0",
		"255.255.255.255"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if f.srcPort != 68 || f.dstPort != 67 {
		t.Errorf("ports %d->%d, want 68->67", f.srcPort, f.dstPort)
	}
	if diff := cmp.Diff(payload, f.payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}

	ip := frame[14:34]
	if sum := onesSum(0, ip); sum != 0xffff {
		t.Errorf("IPv4 header checksum does not verify: sum %#04x", sum)
	}
	udp := frame[34:]
	var pseudo [12]byte
	copy(pseudo[4:8], []byte{255, 255, 255, 255})
	pseudo[9] = protoUDP
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(udp)))
	if sum := onesSum(uint32(onesSum(0, pseudo[:])), udp); sum != 0xffff {
		t.Errorf("UDP checksum does not verify: sum %#04x", sum)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		field  string
	}{
		{"ok", func(*Config) {}, ""},
		{"short mac", func(c *Config) { c.ClientMAC = c.ClientMAC[:4] }, "mac"},
		{"zero mac", func(c *Config) { c.ClientMAC = make([]byte, 6) }, "mac"},
		{"multicast mac", func(c *Config) {
			c.ClientMAC = mustMAC(t, "01:00:5e:00:00:01")
		}, "mac"},
		{"broadcast mac", func(c *Config) {
			c.ClientMAC = mustMAC(t, "ff:ff:ff:ff:ff:ff")
		}, "mac"},
		{"zero ip", func(c *Config) { c.IP = netip.IPv4Unspecified() }, "ip"},
		{"broadcast ip", func(c *Config) {
			c.IP = netip.MustParseAddr("255.255.255.255")
		}, "ip"},
		{"multicast ip", func(c *Config) {
			c.IP = netip.MustParseAddr("224.0.0.1")
		}, "ip"},
		{"ipv6", func(c *Config) { c.IP = netip.MustParseAddr("2001:db8::1") }, "ip"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"huge timeout", func(c *Config) { c.Timeout = MaxTimeout + 1 }, "timeout"},
		{"negative retries", func(c *Config) { c.Retries = -1 }, "retries"},
		{"one-byte client id", func(c *Config) { c.ClientID = []byte{1} }, "client-id"},
		{"no interface mac", func(c *Config) { c.InterfaceMAC = nil }, "interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := vecConfig()
			tt.change(&c)
			err := c.Validate()
			var field string
			if ce, ok := err.(*ConfigError); ok {
				field = ce.Field
			} else if err != nil {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if field != tt.field {
				t.Errorf("Validate() = %v, want field %q", err, tt.field)
			}
		})
	}
}
