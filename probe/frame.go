package probe

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// Sizes and numbers of the headers the probe reads and writes.
const (
	ethHeaderLen   = 14
	etherTypeIPv4  = 0x0800
	etherTypeARP   = 0x0806
	etherTypeVLAN  = 0x8100
	etherTypeQinQ  = 0x88a8
	protoUDP       = 17
	ipv4MinHdrLen  = 20
	udpHeaderLen   = 8
	maxVLANHeaders = 2
)

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Reasons a received frame is set aside. They are stable words: the JSON
// output counts skipped frames under them.
const (
	SkipNotIPv4UDP   = "not-ipv4-udp"
	SkipFragment     = "fragment"
	SkipBadLength    = "bad-length"
	SkipOtherPort    = "other-port"
	SkipNotDHCP      = "not-dhcp"
	SkipNotBootReply = "not-bootreply"
	SkipOtherXID     = "other-xid"
	SkipOtherChaddr  = "other-chaddr"
	SkipOtherMsgType = "other-message-type"
	SkipTooMany      = "too-many-replies"
)

// udpFrame is an Ethernet frame carrying an IPv4 UDP datagram. Its slices
// point into the frame it was decoded from.
type udpFrame struct {
	dst, src         net.HardwareAddr
	srcIP, dstIP     netip.Addr
	srcPort, dstPort uint16
	payload          []byte
}

// etherPayload strips the Ethernet header, up to two VLAN tags (802.1Q,
// 802.1ad) and an LLC/SNAP header, and returns the EtherType and what
// follows it.
func etherPayload(b []byte) (uint16, []byte, bool) {
	if len(b) < ethHeaderLen {
		return 0, nil, false
	}
	off := 12
	et := binary.BigEndian.Uint16(b[off:])
	for i := 0; i < maxVLANHeaders; i++ {
		if et != etherTypeVLAN && et != etherTypeQinQ {
			break
		}
		off += 4
		if len(b) < off+2 {
			return 0, nil, false
		}
		et = binary.BigEndian.Uint16(b[off:])
	}

	rest := b[off+2:]
	// IEEE 802.3 with LLC/SNAP: a length instead of a type, then the
	// SNAP header (AA AA 03, OUI 00 00 00) carries the EtherType.
	if et <= 1500 && len(rest) >= 8 && rest[0] == 0xaa && rest[1] == 0xaa &&
		rest[2] == 0x03 && rest[3] == 0 && rest[4] == 0 && rest[5] == 0 {
		return binary.BigEndian.Uint16(rest[6:8]), rest[8:], true
	}

	return et, rest, true
}

// decodeUDP reads an Ethernet frame down to its UDP payload, trusting
// only lengths it has checked: the IPv4 header length and total length
// and the UDP length bound every slice, and bytes after the IP packet
// (Ethernet padding, trailers) are cut off. The UDP checksum is not
// verified: with checksum offload on veth and bridges a packet socket
// sees replies whose checksum the hardware never finished.
func decodeUDP(b []byte) (udpFrame, string) {
	var f udpFrame
	et, ip, ok := etherPayload(b)
	if !ok {
		return f, SkipBadLength
	}
	if et != etherTypeIPv4 {
		return f, SkipNotIPv4UDP
	}
	if len(ip) < ipv4MinHdrLen {
		return f, SkipBadLength
	}
	if ip[0]>>4 != 4 || ip[9] != protoUDP {
		return f, SkipNotIPv4UDP
	}

	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < ipv4MinHdrLen || total < ihl+udpHeaderLen || total > len(ip) {
		return f, SkipBadLength
	}
	// Any fragment: a later one (offset set) has no UDP header, and the
	// first (more-fragments set) holds only part of the datagram.
	if binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
		return f, SkipFragment
	}
	ip = ip[:total:total]

	udp := ip[ihl:]
	ulen := int(binary.BigEndian.Uint16(udp[4:6]))
	if ulen < udpHeaderLen || ulen > len(udp) {
		return f, SkipBadLength
	}

	f.dst = net.HardwareAddr(b[0:6:6])
	f.src = net.HardwareAddr(b[6:12:12])
	f.srcIP = netip.AddrFrom4([4]byte(ip[12:16]))
	f.dstIP = netip.AddrFrom4([4]byte(ip[16:20]))
	f.srcPort = binary.BigEndian.Uint16(udp[0:2])
	f.dstPort = binary.BigEndian.Uint16(udp[2:4])
	f.payload = udp[udpHeaderLen:ulen:ulen]

	return f, ""
}
