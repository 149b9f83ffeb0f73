package probe

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// The UDP ports of DHCPv4 (RFC 2131 §4.1).
const (
	serverPort = 67
	clientPort = 68
)

// requestedParams is option 55: what a rebooting client wants to learn.
// It holds at least mask, routers, DNS, domain name, lease time, server
// identifier, T1 and T2.
var requestedParams = []dhcpv4.OptionCode{
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionDomainName,
	dhcpv4.OptionIPAddressLeaseTime,
	dhcpv4.OptionServerIdentifier,
	dhcpv4.OptionRenewTimeValue,
	dhcpv4.OptionRebindingTimeValue,
}

// newXID returns a random transaction id from crypto/rand, never 0.
func newXID() (uint32, error) {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("read random xid: %w", err)
		}
		if x := binary.BigEndian.Uint32(b[:]); x != 0 {
			return x, nil
		}
	}
}

// BuildRequest returns the DHCP payload of the INIT-REBOOT DHCPREQUEST
// described by c with transaction id xid (RFC 2131 §4.3.2 and table 5):
// ciaddr 0, option 50 set to the address, no server identifier.
func BuildRequest(c *Config, xid uint32) ([]byte, error) {
	ip4 := c.IP.As4()
	var id dhcpv4.TransactionID
	binary.BigEndian.PutUint32(id[:], xid)

	mods := []dhcpv4.Modifier{
		dhcpv4.WithTransactionID(id),
		dhcpv4.WithHwAddr(c.ClientMAC),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IP(ip4[:]))),
		dhcpv4.WithRequestedOptions(requestedParams...),
		dhcpv4.WithBroadcast(c.Broadcast),
	}
	if c.ClientID != nil {
		mods = append(mods, dhcpv4.WithOption(
			dhcpv4.OptClientIdentifier(c.ClientID)))
	}
	if c.Hostname != "" {
		mods = append(mods, dhcpv4.WithOption(
			dhcpv4.OptHostName(c.Hostname)))
	}

	msg, err := dhcpv4.New(mods...)
	if err != nil {
		return nil, fmt.Errorf("build dhcp request: %w", err)
	}
	msg.HWType = iana.HWTypeEthernet

	return msg.ToBytes(), nil
}

// BuildRequestFrame wraps a DHCP payload into the Ethernet frame the probe
// sends: from the interface MAC to ff:ff:ff:ff:ff:ff, from 0.0.0.0:68 to
// 255.255.255.255:67, with IPv4 and UDP checksums computed in software.
func BuildRequestFrame(src net.HardwareAddr, payload []byte) []byte {
	const ipLen, udpLen = 20, 8
	frame := make([]byte, ethHeaderLen+ipLen+udpLen+len(payload))

	eth := frame[:ethHeaderLen]
	copy(eth[0:6], broadcastMAC)
	copy(eth[6:12], src)
	binary.BigEndian.PutUint16(eth[12:14], etherTypeIPv4)

	ip := frame[ethHeaderLen : ethHeaderLen+ipLen]
	ip[0] = 0x45 // version 4, IHL 5
	binary.BigEndian.PutUint16(ip[2:4], uint16(ipLen+udpLen+len(payload)))
	ip[8] = 64 // TTL
	ip[9] = protoUDP
	// source 0.0.0.0 is already zero; destination is limited broadcast
	copy(ip[16:20], []byte{255, 255, 255, 255})
	binary.BigEndian.PutUint16(ip[10:12], ^onesSum(0, ip))

	udp := frame[ethHeaderLen+ipLen:]
	binary.BigEndian.PutUint16(udp[0:2], clientPort)
	binary.BigEndian.PutUint16(udp[2:4], serverPort)
	binary.BigEndian.PutUint16(udp[4:6], uint16(udpLen+len(payload)))
	copy(udp[udpLen:], payload)
	sum := udpChecksum(ip[12:16], ip[16:20], udp)
	binary.BigEndian.PutUint16(udp[6:8], sum)

	return frame
}

// onesSum adds b to sum as big-endian 16-bit words in ones' complement
// arithmetic (RFC 1071), folding the carries.
func onesSum(sum uint32, b []byte) uint16 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}

	return uint16(sum)
}

// udpChecksum computes the UDP checksum over the IPv4 pseudo-header and
// the datagram, whose checksum field must be zero. A result of 0 is sent
// as 0xffff (RFC 768).
func udpChecksum(src, dst, datagram []byte) uint16 {
	var pseudo [12]byte
	copy(pseudo[0:4], src)
	copy(pseudo[4:8], dst)
	pseudo[9] = protoUDP
	binary.BigEndian.PutUint16(pseudo[10:12], uint16(len(datagram)))

	sum := onesSum(uint32(onesSum(0, pseudo[:])), datagram)
	if c := ^sum; c != 0 {
		return c
	}

	return 0xffff
}
