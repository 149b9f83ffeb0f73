package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Offsets in the BOOTP message (RFC 2131 §2, figure 1).
const (
	bootpFixedLen = 236
	bootpSnameOff = 44
	bootpFileOff  = 108
	cookieLen     = 4
	optionsOff    = bootpFixedLen + cookieLen
	chaddrOff     = 28
	optOverload   = 52
	optPad        = 0
	optEnd        = 255
)

var magicCookie = []byte{99, 130, 83, 99}

// walkOptions reads DHCP options from b in order. It stops at END, and
// tolerates a missing END (some servers omit it) and a last option cut
// short, which it keeps with the bytes that are there and reports in
// the returned note.
func walkOptions(b []byte, out []Option) ([]Option, string) {
	for i := 0; i < len(b); {
		code := b[i]
		if code == optPad {
			i++
			continue
		}
		if code == optEnd {
			return out, ""
		}
		if i+1 >= len(b) {
			return out, fmt.Sprintf("option %d has no length byte", code)
		}
		n := int(b[i+1])
		start := i + 2
		if start+n > len(b) {
			data := b[start:len(b):len(b)]
			out = append(out, Option{Code: code, Data: data})

			return out, fmt.Sprintf("option %d is cut short: %d of %d bytes",
				code, len(data), n)
		}
		out = append(out, Option{Code: code, Data: b[start : start+n : start+n]})
		i = start + n
	}

	return out, "no END option"
}

// readOptions walks the options field and, when option 52 asks for it,
// the file and sname fields (RFC 2132 §9.3), in the order RFC 2131 §4.1
// gives.
func readOptions(msg []byte) ([]Option, []string) {
	var notes []string
	opts, note := walkOptions(msg[optionsOff:], nil)
	if note != "" {
		notes = append(notes, note)
	}

	var overload byte
	for _, o := range opts {
		if o.Code == optOverload && len(o.Data) == 1 {
			overload = o.Data[0]
		}
	}
	fields := []struct {
		bit  byte
		name string
		b    []byte
	}{
		{1, "file", msg[bootpFileOff : bootpFileOff+128 : bootpFileOff+128]},
		{2, "sname", msg[bootpSnameOff : bootpSnameOff+64 : bootpSnameOff+64]},
	}
	for _, f := range fields {
		if overload&f.bit == 0 {
			continue
		}
		opts, note = walkOptions(f.b, opts)
		if note != "" {
			notes = append(notes, "in the "+f.name+" field: "+note)
		}
	}

	return opts, notes
}

// replyMatch says whether payload answers the request (xid, mac) and, if
// not, why not. It reads only the fixed BOOTP header.
func replyMatch(payload []byte, xid uint32, mac net.HardwareAddr) string {
	if len(payload) < optionsOff ||
		!bytes.Equal(payload[bootpFixedLen:optionsOff], magicCookie) {
		return SkipNotDHCP
	}
	if payload[0] != byte(dhcpv4.OpcodeBootReply) {
		return SkipNotBootReply
	}
	if binary.BigEndian.Uint32(payload[4:8]) != xid {
		return SkipOtherXID
	}

	hlen := int(payload[2])
	chaddr := payload[chaddrOff : chaddrOff+16]
	if hlen < len(mac) || hlen > len(chaddr) ||
		!bytes.Equal(chaddr[:len(mac)], mac) ||
		strings.Trim(string(chaddr[len(mac):hlen]), "\x00") != "" {
		return SkipOtherChaddr
	}

	return ""
}

// parseReply turns a DHCP payload that matched the request into a Reply.
// It never fails: what it cannot read becomes a warning on the reply, and
// a reply without a readable ACK or NAK type is kept as Malformed. It
// reports false for a readable message type other than ACK or NAK.
func parseReply(f udpFrame, at time.Time) (*Reply, bool) {
	p := f.payload
	r := &Reply{
		SourceIP:       f.srcIP,
		SourceMAC:      f.src,
		DestinationMAC: f.dst,
		Hops:           p[3],
		YourIP:         netip.AddrFrom4([4]byte(p[16:20])),
		ReceivedAt:     at,
		Count:          1,
		ServerIDState:  ServerIDAbsent,
	}
	if gi := netip.AddrFrom4([4]byte(p[24:28])); !gi.IsUnspecified() {
		r.RelayIP = gi
	}

	opts, notes := readOptions(p)
	r.Options = opts
	for _, n := range notes {
		r.Warnings = append(r.Warnings, "malformed options: "+n)
	}

	// The codec reads each option; its map concatenates repeated options
	// as RFC 3396 asks.
	msg := dhcpv4.DHCPv4{Options: dhcpv4.Options{}}
	seen := map[uint8]int{}
	for _, o := range opts {
		msg.Options[o.Code] = append(msg.Options[o.Code], o.Data...)
		seen[o.Code]++
	}

	switch t := msg.MessageType(); {
	case seen[53] == 0 || len(msg.Options[53]) != 1:
		r.Type = Malformed
		r.Warnings = append(r.Warnings,
			"no readable message type (option 53)")
	case t == dhcpv4.MessageTypeAck:
		r.Type = ACK
	case t == dhcpv4.MessageTypeNak:
		r.Type = NAK
	default:
		return nil, false
	}

	r.readServerID(opts, seen[54])
	r.readLeaseTimes(&msg)
	r.readConfig(&msg)
	r.readExtras(&msg, p)

	return r, true
}

// readServerID fills the server identifier fields from the copies of
// option 54.
func (r *Reply) readServerID(opts []Option, copies int) {
	if copies == 0 {
		return
	}

	var raw []byte
	allSame := true
	var first []byte
	for _, o := range opts {
		if o.Code != 54 {
			continue
		}
		raw = append(raw, o.Data...)
		if first == nil {
			first = o.Data
		} else if !bytes.Equal(first, o.Data) {
			allSame = false
		}
	}

	switch {
	case len(first) != 4 || !usableServerID(first):
		r.ServerIDState = ServerIDMalformed
		r.ServerIDRaw = raw
	case copies > 1:
		r.ServerIDState = ServerIDDuplicated
		r.ServerIDRaw = raw
		if allSame {
			r.ServerID = netip.AddrFrom4([4]byte(first))
		}
	default:
		r.ServerIDState = ServerIDPresent
		r.ServerID = netip.AddrFrom4([4]byte(first))
	}
	if r.ServerIDState != ServerIDPresent {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"server identifier (option 54) is %s: %x",
			r.ServerIDState, raw))
	}
}

// readDuration reads a 4-byte seconds option; nil when absent.
func (r *Reply) readDuration(m *dhcpv4.DHCPv4, code dhcpv4.OptionCode) *time.Duration {
	b := m.Options.Get(code)
	if b == nil {
		return nil
	}

	var d dhcpv4.Duration
	if err := d.FromBytes(b); err != nil {
		r.Warnings = append(r.Warnings,
			fmt.Sprintf("option %d is not 4 bytes: %x", code.Code(), b))

		return nil
	}
	v := time.Duration(d)

	return &v
}

// readLeaseTimes fills options 51, 58 and 59 (RFC 2132 §9.2, §9.11, §9.12).
func (r *Reply) readLeaseTimes(m *dhcpv4.DHCPv4) {
	r.LeaseTime = r.readDuration(m, dhcpv4.OptionIPAddressLeaseTime)
	r.RenewalTime = r.readDuration(m, dhcpv4.OptionRenewTimeValue)
	r.RebindingTime = r.readDuration(m, dhcpv4.OptionRebindingTimeValue)
}

// readConfig fills the configuration options a client would apply.
func (r *Reply) readConfig(m *dhcpv4.DHCPv4) {
	if b := m.Options.Get(dhcpv4.OptionSubnetMask); b != nil {
		if len(b) == 4 {
			r.SubnetMask = netip.AddrFrom4([4]byte(b))
		} else {
			r.Warnings = append(r.Warnings,
				fmt.Sprintf("subnet mask (option 1) is not 4 bytes: %x", b))
		}
	}
	r.Routers = r.readAddrs(m, dhcpv4.OptionRouter)
	r.DNSServers = r.readAddrs(m, dhcpv4.OptionDomainNameServer)
	if b := m.Options.Get(dhcpv4.OptionDomainName); b != nil {
		r.DomainName = strings.TrimRight(string(b), "\x00")
	}
	// An option 56 that is empty, or only NULs, says nothing: no message.
	if b := m.Options.Get(dhcpv4.OptionMessage); b != nil {
		if s := strings.TrimRight(string(b), "\x00"); s != "" {
			r.Message = &s
		}
	}
	if r.Type == ACK && r.YourIP.IsUnspecified() {
		r.Warnings = append(r.Warnings, "ACK carries no address "+
			"(yiaddr 0.0.0.0): it does not confirm the binding")
	}
}

// readAddrs reads a list of IPv4 addresses; a length that is not a
// multiple of four becomes a warning.
func (r *Reply) readAddrs(m *dhcpv4.DHCPv4, code dhcpv4.OptionCode) []netip.Addr {
	b := m.Options.Get(code)
	if b == nil {
		return nil
	}
	if len(b)%4 != 0 || len(b) == 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"option %d is not a list of addresses: %x", code.Code(), b))

		return nil
	}

	out := make([]netip.Addr, 0, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		out = append(out, netip.AddrFrom4([4]byte(b[i:i+4])))
	}

	return out
}

// usableServerID says whether a 4-byte option 54 can name a server: not
// 0.0.0.0, not broadcast or multicast.
func usableServerID(b []byte) bool {
	a := netip.AddrFrom4([4]byte(b))

	return !a.IsUnspecified() && !a.IsMulticast() &&
		a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// readExtras fills what a server may add beyond the lease itself: boot
// fields, domain search, classless routes, and what it echoes of the
// relay agent and the client identifier.
func (r *Reply) readExtras(m *dhcpv4.DHCPv4, p []byte) {
	if a := netip.AddrFrom4([4]byte(p[20:24])); !a.IsUnspecified() {
		r.NextServer = a
	}
	var overload byte
	if b := m.Options.Get(dhcpv4.OptionOptionOverload); len(b) == 1 {
		overload = b[0]
	}
	if overload&2 == 0 {
		r.ServerName = cString(p[bootpSnameOff : bootpSnameOff+64])
	}
	if overload&1 == 0 {
		r.BootFile = cString(p[bootpFileOff : bootpFileOff+128])
	}

	if b := m.Options.Get(dhcpv4.OptionDNSDomainSearchList); b != nil {
		if l := m.DomainSearch(); l != nil {
			r.DomainSearch = l.Labels
		} else {
			r.malformed(119, b)
		}
	}
	if b := m.Options.Get(dhcpv4.OptionClasslessStaticRoute); b != nil {
		routes := m.ClasslessStaticRoute()
		if routes == nil {
			r.malformed(121, b)
		}
		for _, rt := range routes {
			dst, ok := netip.AddrFromSlice(rt.Dest.IP.To4())
			gw, ok2 := netip.AddrFromSlice(rt.Router.To4())
			ones, _ := rt.Dest.Mask.Size()
			if ok && ok2 {
				r.ClasslessRoutes = append(r.ClasslessRoutes, ClasslessRoute{
					Destination: netip.PrefixFrom(dst, ones), Router: gw})
			}
		}
	}
	if b := m.Options.Get(dhcpv4.OptionRelayAgentInformation); b != nil {
		r.readRelayAgent(m, b)
	}
	if b := m.Options.Get(dhcpv4.OptionClientIdentifier); b != nil {
		r.ClientID = b
	}
}

// readRelayAgent decodes option 82's sub-options.
func (r *Reply) readRelayAgent(m *dhcpv4.DHCPv4, raw []byte) {
	rai := m.RelayAgentInfo()
	if rai == nil {
		r.malformed(82, raw)

		return
	}

	info := &RelayAgentInfo{}
	for code := 1; code < 256; code++ {
		data, ok := rai.Options[uint8(code)]
		if !ok {
			continue
		}
		info.SubOptions = append(info.SubOptions,
			Option{Code: uint8(code), Data: data})
		switch code {
		case 1:
			info.CircuitID = data
		case 2:
			info.RemoteID = data
		}
	}
	r.RelayAgent = info
}

// malformed notes an option that does not decode.
func (r *Reply) malformed(code uint8, b []byte) {
	r.Warnings = append(r.Warnings,
		fmt.Sprintf("option %d does not decode: %x", code, b))
}

// cString returns the text before the first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}

	return string(b)
}
