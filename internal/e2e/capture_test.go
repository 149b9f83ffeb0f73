//go:build linux

package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/insomniacslk/dhcp/dhcpv4"
)

// TestCapturedRequestsOnTheWire captures the probe interface while the
// probe runs and checks every frame it sent, byte for byte where it counts:
// only INIT-REBOOT DHCPREQUESTs (RFC 2131 §4.3.2), broadcast, one xid.
func TestCapturedRequestsOnTheWire(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name      string
		args      []string
		clientID  []byte // nil: option 61 must be absent
		flags     uint16
		broadcast bool
	}{
		{
			name:      "client-id mac",
			args:      []string{"--client-id", "mac"},
			clientID:  append([]byte{1}, macA...),
			flags:     0x8000,
			broadcast: true,
		},
		{
			name:      "no client-id",
			flags:     0x8000,
			broadcast: true,
		},
		{
			name:  "no-broadcast",
			args:  []string{"--no-broadcast"},
			flags: 0,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, fullConfig())

			capture, err := e.client.Capture(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			args := append([]string{
				"-m", macA.String(), "-a", leasedIP.String(), "-t", "1s",
				"--retries", "1", "--hostname", "probe-test",
			}, c.args...)
			doc := e.runJSON(t, exitValid, args...)
			frames, err := capture.Frames()
			if err != nil {
				t.Fatal(err)
			}

			if doc.Request.Sent != 2 || doc.Request.Broadcast != c.broadcast {
				t.Errorf("request.sent %d broadcast %v, want 2 %v",
					doc.Request.Sent, doc.Request.Broadcast, c.broadcast)
			}
			wantCID := "<null>"
			if c.clientID != nil {
				wantCID = fmt.Sprintf("%x", c.clientID)
			}
			if got := str(doc.Request.ClientID); got != wantCID {
				t.Errorf("request.client_id %s, want %s", got, wantCID)
			}
			// dnsmasq honours the flag: without it, the ACK goes to the
			// client's MAC, which the probe still has to see.
			wantDst := "ff:ff:ff:ff:ff:ff"
			if !c.broadcast {
				wantDst = macA.String()
			}
			if len(doc.Replies) != 1 || doc.Replies[0].DestinationMAC != wantDst ||
				doc.Replies[0].Broadcast != c.broadcast {
				t.Errorf("replies %+v, want one ACK sent to %s", doc.Replies, wantDst)
			}
			xid, err := strconv.ParseUint(doc.Request.XID, 0, 32)
			if err != nil {
				t.Fatalf("request.xid %q: %v", doc.Request.XID, err)
			}

			var sent [][]byte
			for _, f := range frames {
				eth, ok := f.Packet.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
				if !ok {
					continue
				}
				if bytes.Equal(eth.SrcMAC, macA) {
					t.Errorf("a frame has the client MAC %s as Ethernet source; "+
						"the probe must send from its interface's MAC", macA)
				}
				if bytes.Equal(eth.SrcMAC, e.client.MAC) {
					sent = append(sent, f.Data)
				}
			}
			if len(sent) != 2 {
				t.Fatalf("%d frames from the probe interface %s among %d captured, "+
					"want exactly 2 (the request and its retry)",
					len(sent), e.client.MAC, len(frames))
			}
			for i, frame := range sent {
				t.Run(fmt.Sprintf("frame %d", i+1), func(t *testing.T) {
					checkRequestFrame(t, frame, e.client.MAC, uint32(xid),
						c.clientID, c.flags)
				})
			}
		})
	}
}

// checkRequestFrame checks one captured frame against what an INIT-REBOOT
// DHCPREQUEST for macA and leasedIP must look like.
func checkRequestFrame(
	t *testing.T,
	frame []byte,
	ifaceMAC net.HardwareAddr,
	xid uint32,
	clientID []byte,
	flags uint16,
) {
	t.Helper()

	d := decode(frame)
	eth, ip4, udp := d.eth, d.ip4, d.udp
	if eth == nil || ip4 == nil || udp == nil {
		t.Fatalf("not Ethernet/IPv4/UDP: % x", frame)
	}

	if eth.DstMAC.String() != "ff:ff:ff:ff:ff:ff" || !bytes.Equal(eth.SrcMAC, ifaceMAC) ||
		eth.EthernetType != layers.EthernetTypeIPv4 {
		t.Errorf("Ethernet %s -> %s type %v, want %s -> ff:ff:ff:ff:ff:ff IPv4",
			eth.SrcMAC, eth.DstMAC, eth.EthernetType, ifaceMAC)
	}
	if ip4.SrcIP.String() != "0.0.0.0" || ip4.DstIP.String() != "255.255.255.255" ||
		ip4.Protocol != layers.IPProtocolUDP {
		t.Errorf("IPv4 %s -> %s proto %v, want 0.0.0.0 -> 255.255.255.255 UDP",
			ip4.SrcIP, ip4.DstIP, ip4.Protocol)
	}
	if sum := onesSum(ip4.Contents); sum != 0xffff {
		t.Errorf("IPv4 header checksum %#04x is wrong", ip4.Checksum)
	}
	if udp.SrcPort != 68 || udp.DstPort != 67 {
		t.Errorf("UDP %d -> %d, want 68 -> 67", udp.SrcPort, udp.DstPort)
	}
	if !udpChecksumOK(ip4) {
		t.Errorf("UDP checksum %#04x is wrong (0 counts as wrong here)", udp.Checksum)
	}

	p := udp.Payload
	if len(p) < 240 {
		t.Fatalf("DHCP payload is %d bytes, shorter than a BOOTP header", len(p))
	}
	// op, htype, hlen, hops (RFC 2131 §2).
	if p[0] != 1 || p[1] != 1 || p[2] != 6 || p[3] != 0 {
		t.Errorf("op %d htype %d hlen %d hops %d, want 1 1 6 0", p[0], p[1], p[2], p[3])
	}

	m, err := dhcpv4.FromBytes(p)
	if err != nil {
		t.Fatalf("DHCP payload does not parse: %v", err)
	}
	if got := binary.BigEndian.Uint32(m.TransactionID[:]); got != xid {
		t.Errorf("xid %#08x, want the JSON's %#08x", got, xid)
	}
	if m.NumSeconds != 0 || m.Flags != flags {
		t.Errorf("secs %d flags %#04x, want 0 %#04x", m.NumSeconds, m.Flags, flags)
	}
	for name, a := range map[string]net.IP{
		"ciaddr": m.ClientIPAddr, "yiaddr": m.YourIPAddr,
		"siaddr": m.ServerIPAddr, "giaddr": m.GatewayIPAddr,
	} {
		if !a.Equal(net.IPv4zero) {
			t.Errorf("%s %s, want 0.0.0.0", name, a)
		}
	}
	if !bytes.Equal(m.ClientHWAddr, macA) {
		t.Errorf("chaddr %s, want %s", m.ClientHWAddr, macA)
	}

	if got := m.Options.Get(dhcpv4.OptionDHCPMessageType); !bytes.Equal(got, []byte{3}) {
		t.Errorf("option 53 = %x, want 03 (DHCPREQUEST)", got)
	}
	got := m.Options.Get(dhcpv4.OptionRequestedIPAddress)
	if !bytes.Equal(got, leasedIP.AsSlice()) {
		t.Errorf("option 50 = %x, want %s", got, leasedIP)
	}
	if m.Options.Has(dhcpv4.OptionServerIdentifier) {
		t.Errorf("option 54 present (%x); INIT-REBOOT must not name a server",
			m.Options.Get(dhcpv4.OptionServerIdentifier))
	}
	prl := m.Options.Get(dhcpv4.OptionParameterRequestList)
	for _, code := range []byte{1, 3, 6, 15, 51, 54, 58, 59} {
		if !slices.Contains(prl, code) {
			t.Errorf("option 55 %v lacks %d", prl, code)
		}
	}
	cid := m.Options.Get(dhcpv4.OptionClientIdentifier)
	switch {
	case clientID == nil && m.Options.Has(dhcpv4.OptionClientIdentifier):
		t.Errorf("option 61 = %x, want none", cid)
	case clientID != nil && !bytes.Equal(cid, clientID):
		t.Errorf("option 61 = %x, want %x", cid, clientID)
	}
	if got := string(m.Options.Get(dhcpv4.OptionHostName)); got != "probe-test" {
		t.Errorf("option 12 = %q, want probe-test", got)
	}
}

type decoded struct {
	eth *layers.Ethernet
	ip4 *layers.IPv4
	udp *layers.UDP
}

// decode reads a frame's Ethernet, IPv4 and UDP layers.
func decode(frame []byte) decoded {
	var d decoded
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var udp layers.UDP
	if eth.DecodeFromBytes(frame, nopFeedback{}) != nil {
		return d
	}
	d.eth = &eth
	if eth.EthernetType != layers.EthernetTypeIPv4 ||
		ip4.DecodeFromBytes(eth.Payload, nopFeedback{}) != nil {
		return d
	}
	d.ip4 = &ip4
	if ip4.Protocol != layers.IPProtocolUDP ||
		udp.DecodeFromBytes(ip4.Payload, nopFeedback{}) != nil {
		return d
	}
	d.udp = &udp

	return d
}

type nopFeedback struct{}

func (nopFeedback) SetTruncated() {}

// udpChecksumOK verifies the UDP checksum over the IPv4 pseudo-header and
// the whole datagram (RFC 768). A zero checksum ("none") does not pass.
func udpChecksumOK(ip4 *layers.IPv4) bool {
	seg := ip4.Payload
	if len(seg) < 8 || binary.BigEndian.Uint16(seg[6:]) == 0 {
		return false
	}

	pseudo := make([]byte, 0, 12+len(seg))
	pseudo = append(pseudo, ip4.SrcIP.To4()...)
	pseudo = append(pseudo, ip4.DstIP.To4()...)
	pseudo = append(pseudo, 0, byte(layers.IPProtocolUDP))
	pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(seg)))
	pseudo = append(pseudo, seg...)

	return onesSum(pseudo) == 0xffff
}

// onesSum is the 16-bit one's complement sum of b (RFC 1071); data that
// includes a correct checksum sums to 0xffff.
func onesSum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}

	return uint16(sum)
}

// The checksum checks above must agree with an independent encoder, and
// must catch a flipped bit and a missing (zero) checksum. No root needed.
func TestChecksumHelpersAgreeWithGopacket(t *testing.T) {
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{2, 0, 0, 0, 0, 2},
		DstMAC:       net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		EthernetType: layers.EthernetTypeIPv4,
	}
	ip4 := &layers.IPv4{
		Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IPv4zero.To4(), DstIP: net.IPv4bcast.To4(),
	}
	udp := &layers.UDP{SrcPort: 68, DstPort: 67}
	if err := udp.SetNetworkLayerForChecksum(ip4); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}
	payload := gopacket.Payload(bytes.Repeat([]byte{0x5a}, 301))
	if err := gopacket.SerializeLayers(buf, opts, eth, ip4, udp, payload); err != nil {
		t.Fatal(err)
	}
	frame := buf.Bytes()

	d := decode(frame)
	if d.udp == nil || !udpChecksumOK(d.ip4) || onesSum(d.ip4.Contents) != 0xffff {
		t.Fatalf("checksums of a well-formed frame rejected")
	}

	flipped := bytes.Clone(frame)
	flipped[len(flipped)-1] ^= 0x01
	if udpChecksumOK(decode(flipped).ip4) {
		t.Errorf("UDP checksum accepted after a payload bit flipped")
	}

	zero := bytes.Clone(frame)
	udpAt := 14 + int(d.ip4.IHL)*4
	zero[udpAt+6], zero[udpAt+7] = 0, 0
	if udpChecksumOK(decode(zero).ip4) {
		t.Errorf("zero UDP checksum accepted")
	}
}
