package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/mdlayher/arp"
)

// Frame is one Ethernet frame with the time it was captured.
type Frame struct {
	Time time.Time
	Data []byte
	// NoDestination is set when the capture did not record the frame's
	// Ethernet destination (a Linux cooked or a raw IP capture): the
	// destination MAC in Data is a placeholder, and a reply read from the
	// frame has a nil DestinationMAC.
	NoDestination bool
}

// Analyze finds the INIT-REBOOT DHCPREQUESTs in a capture (option 50 set,
// ciaddr 0, no server identifier: RFC 2131 §4.3.2) and pairs each with the
// replies that carry its xid and chaddr, as Run would have collected
// them. Retransmissions of a request count as sent copies. Replies whose
// request is not in the capture come out as results of their own with no
// request sent and a warning; replies to other requests (a client's
// DISCOVER, RENEWING or SELECTING request) are left out. A result's
// elapsed time runs from its first request to the end of the capture.
// Results are in the order their first frame appears.
//
// When the capture holds RFC 5227 ARP probes for a request's address
// from the MAC the request was sent from, within arpSlack of the request
// or after it, the ARP frames about that address from then on (up to the
// next request for it from that MAC) are classified as check --arp
// classifies what it hears (frames about other addresses, such as a
// batch's other pairs, are left to their own probes), and
// the result's ARP part and verdict are those check gave. Without such
// probes the result has no ARP part.
func Analyze(frames []Frame) []*Result {
	a := analysis{byKey: map[string]*collector{}, other: map[string]bool{}}
	var arps []arpFrame
	for _, f := range frames {
		if et, body, ok := etherPayload(f.Data); ok && et == etherTypeARP {
			arps = append(arps, arpFrame{at: f.Time, body: body})

			continue
		}
		a.consider(f)
	}

	// The capture ends at its latest frame: frames need not be in time
	// order (merged captures, a clock stepped back).
	var end time.Time
	for _, f := range frames {
		if f.Time.After(end) {
			end = f.Time
		}
	}
	for _, col := range a.order {
		res := col.res
		res.Elapsed = max(end.Sub(res.StartedAt), 0)
		res.Timeout = res.Elapsed
	}

	out := make([]*Result, len(a.order))
	for i, col := range a.order {
		out[i] = col.res
	}
	for i, res := range out {
		res.ARP = captureARP(res, arps, nextStart(out[i+1:], res))
	}

	return out
}

// arpSlack is how long before its DHCP request a probe's first ARP probe
// may have been captured: check sends both at the same moment.
const arpSlack = time.Second

// arpEcho is how soon after a probe the same probe heard back on the
// interface is taken for its echo, which check records too. check spreads
// its probes further apart unless asked for many in a very short
// timeout; then only the split between probes_sent and own-frame frames
// can differ from what check reported, never the verdict.
const arpEcho = time.Millisecond

// arpFrame is the ARP payload of a captured frame.
type arpFrame struct {
	at   time.Time
	body []byte
}

// nextStart returns when the first of later that probed the same address
// from the same MAC as res starts, or the zero Time when none did. A
// batch sends the probes of many addresses from one MAC at once, so only
// a later probe of the same address ends this one's ARP frames.
func nextStart(later []*Result, res *Result) time.Time {
	for _, l := range later {
		if l.Request.Sent > 0 && l.Request.IP == res.Request.IP &&
			bytes.Equal(l.Request.InterfaceMAC, res.Request.InterfaceMAC) {
			return l.StartedAt
		}
	}

	return time.Time{}
}

// captureARP classifies the ARP frames of a capture for the probe res, as
// the ARP watcher of Run did: it returns nil when the capture holds no ARP
// probe for the address from the request's sender around the request.
// Frames at or after until, when it is set, belong to a later probe.
func captureARP(res *Result, arps []arpFrame, until time.Time) *ARPResult {
	req := res.Request
	if req.Sent == 0 || len(req.InterfaceMAC) == 0 || !req.IP.IsValid() {
		return nil
	}
	in := func(f arpFrame) bool {
		return until.IsZero() || f.at.Before(until)
	}

	from := time.Time{}
	for _, f := range arps {
		if in(f) && !f.at.Before(res.StartedAt.Add(-arpSlack)) &&
			isARPProbe(f.body, req.InterfaceMAC, req.IP) {
			from = f.at
			break
		}
	}
	if from.IsZero() {
		return nil
	}
	if res.StartedAt.Before(from) {
		from = res.StartedAt
	}

	w := newARPWatcher(req.IP, req.InterfaceMAC, req.ClientMAC,
		func(string, ...any) {})
	w.start = res.StartedAt
	var last time.Time
	for _, f := range arps {
		if f.at.Before(from) || !in(f) {
			continue
		}
		if isARPProbe(f.body, req.InterfaceMAC, req.IP) &&
			(last.IsZero() || f.at.Sub(last) >= arpEcho) {
			w.res.ProbesSent++
			last = f.at

			continue
		}
		if otherAddress(f.body, req.IP) {
			// Another probe's business, such as a batch's other pairs.
			continue
		}
		// Everything else, including the echo of a probe that check
		// heard back and recorded, as check classified it.
		w.consider(f.body, f.at)
	}

	return w.res
}

// otherAddress reports whether body is a well-formed ARP packet that
// names ip neither as sender nor as target. Malformed packets are not:
// the watcher counts them.
func otherAddress(body []byte, ip netip.Addr) bool {
	var p arp.Packet
	if err := p.UnmarshalBinary(body); err != nil {
		return false
	}

	return p.SenderIP != ip && p.TargetIP != ip
}

// isARPProbe reports whether body is an RFC 5227 §2.1.1 probe for ip
// sent from mac: a request with sender IP 0.0.0.0 and target IP ip.
func isARPProbe(body []byte, mac net.HardwareAddr, ip netip.Addr) bool {
	var p arp.Packet
	if err := p.UnmarshalBinary(body); err != nil {
		return false
	}

	return p.Operation == arp.OperationRequest &&
		p.SenderIP.IsUnspecified() && p.TargetIP == ip &&
		bytes.Equal(p.SenderHardwareAddr, mac)
}

// analysis holds the probes found so far in a capture.
type analysis struct {
	byKey map[string]*collector
	order []*collector
	// other marks xid and chaddr pairs of requests that are not
	// INIT-REBOOT, whose replies are not of interest.
	other map[string]bool
}

// exchangeKey names one DHCP exchange: its xid and client.
func exchangeKey(xid uint32, chaddr net.HardwareAddr) string {
	return fmt.Sprintf("%08x/%s", xid, chaddr)
}

func (a *analysis) consider(f Frame) {
	u, reason := decodeUDP(f.Data)
	if reason != "" || len(u.payload) < optionsOff ||
		!bytes.Equal(u.payload[bootpFixedLen:optionsOff], magicCookie) {
		return
	}
	p := u.payload
	hlen := min(int(p[2]), 16)
	chaddr := net.HardwareAddr(bytes.Clone(p[chaddrOff : chaddrOff+hlen]))
	xid := binary.BigEndian.Uint32(p[4:8])
	key := exchangeKey(xid, chaddr)

	switch {
	case p[0] == byte(dhcpv4.OpcodeBootRequest) && u.dstPort == serverPort:
		a.request(u, f.Time, xid, chaddr, key)
	case p[0] == byte(dhcpv4.OpcodeBootReply) && u.dstPort == clientPort:
		if a.other[key] {
			return
		}
		col, ok := a.byKey[key]
		if !ok {
			col = a.orphan(xid, chaddr, f.Time, key)
		}
		col.considerFrame(f.Data, f.Time, f.NoDestination)
	}
}

// request records a client request: the start or a retransmission of an
// INIT-REBOOT probe, or another kind of request whose replies are ignored.
func (a *analysis) request(u udpFrame, at time.Time, xid uint32,
	chaddr net.HardwareAddr, key string) {
	col, seen := a.byKey[key]
	if seen && col.res.Request.Sent > 0 {
		col.res.Request.Sent++

		return
	}

	c, ok := initRebootConfig(u, xid, chaddr)
	switch {
	case seen && ok:
		// Its replies were captured first (a capture started between
		// the first request and a retransmission, or frames out of
		// time order): the request is there after all.
		adopt(col, c, xid, at)

		return
	case seen:
		return
	case !ok:
		a.other[key] = true

		return
	}
	col = newCollector(c, xid)
	col.res.StartedAt = at
	col.res.Request.Sent = 1
	a.byKey[key] = col
	a.order = append(a.order, col)
}

// orphan starts a result for replies whose request the capture lacks.
func (a *analysis) orphan(xid uint32, chaddr net.HardwareAddr, at time.Time,
	key string) *collector {
	col := newCollector(&Config{ClientMAC: chaddr}, xid)
	col.res.StartedAt = at
	col.res.Warnings = append(col.res.Warnings, orphanWarning(xid, chaddr))
	a.byKey[key] = col
	a.order = append(a.order, col)

	return col
}

func orphanWarning(xid uint32, chaddr net.HardwareAddr) string {
	return fmt.Sprintf("the capture holds no request with xid 0x%08x "+
		"from %s", xid, chaddr)
}

// adopt gives an orphan's result the request that turned up after its
// first replies: it starts at the request, and a reply captured before
// it counts as arriving at once.
func adopt(col *collector, c *Config, xid uint32, at time.Time) {
	warnings := slices.DeleteFunc(col.res.Warnings, func(w string) bool {
		return w == orphanWarning(xid, c.ClientMAC)
	})
	col.cfg = c
	col.res.Request = newCollector(c, xid).res.Request
	col.res.Request.Sent = 1
	col.res.StartedAt = at
	early := false
	for _, r := range col.res.Replies {
		early = early || r.ReceivedAt.Before(at)
		r.Elapsed = max(r.ReceivedAt.Sub(at), 0)
	}
	if early {
		warnings = append(warnings, "a reply was captured before the "+
			"first request of its exchange in the file: the capture "+
			"began after that request, or its frames are out of time "+
			"order")
	}
	col.res.Warnings = warnings
}

// initRebootConfig reads a DHCPREQUEST and reports whether it is an
// INIT-REBOOT request, returning the probe configuration it stands for.
func initRebootConfig(u udpFrame, xid uint32, chaddr net.HardwareAddr) (*Config, bool) {
	p := u.payload
	opts, _ := readOptions(p)
	var msg dhcpv4.DHCPv4
	msg.Options = dhcpv4.Options{}
	for _, o := range opts {
		msg.Options[o.Code] = append(msg.Options[o.Code], o.Data...)
	}

	requested := msg.Options.Get(dhcpv4.OptionRequestedIPAddress)
	if msg.MessageType() != dhcpv4.MessageTypeRequest ||
		msg.Options.Has(dhcpv4.OptionServerIdentifier) ||
		len(requested) != 4 || !isZero(p[12:16]) {
		return nil, false
	}

	c := &Config{
		InterfaceMAC: bytes.Clone(u.src),
		ClientMAC:    chaddr,
		IP:           netip.AddrFrom4([4]byte(requested)),
		XID:          xid,
		Broadcast:    binary.BigEndian.Uint16(p[10:12])&0x8000 != 0,
		ClientID:     bytes.Clone(msg.Options.Get(dhcpv4.OptionClientIdentifier)),
		Hostname:     string(msg.Options.Get(dhcpv4.OptionHostName)),
	}

	return c, true
}
