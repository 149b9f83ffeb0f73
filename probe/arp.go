package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
)

// ARPStatus is what an ARP probe found out about an address.
type ARPStatus string

// The findings of an ARP probe (RFC 5227 §2.1.1).
const (
	// ARPFree means no host claimed the address.
	ARPFree ARPStatus = "free"
	// ARPOwner means only the probed client's own MAC claimed it: the
	// client, or a proxy answering for it, is on line.
	ARPOwner ARPStatus = "owner"
	// ARPConflict means another MAC claimed the address.
	ARPConflict ARPStatus = "conflict"
)

// ResponderKind tells how a host took part in the ARP exchange.
type ResponderKind string

// The kinds of ARP responders.
const (
	// KindOwner is the probed client's MAC claiming the address.
	KindOwner ResponderKind = "owner"
	// KindConflict is another MAC claiming the address: an ARP reply or
	// announcement whose sender IP is the address.
	KindConflict ResponderKind = "conflict"
	// KindProbe is another host probing for the same address (sender IP
	// 0.0.0.0): it wants the address but does not hold it.
	KindProbe ResponderKind = "probe"
)

// Reasons an ARP frame is ignored; counted in ARPResult.Ignored.
const (
	ARPIgnoreOwn       = "own-frame"
	ARPIgnoreMalformed = "malformed"
	ARPIgnoreUnrelated = "unrelated"
)

// ARPResponder is one MAC heard claiming or probing for the address.
type ARPResponder struct {
	MAC  net.HardwareAddr
	Kind ResponderKind
	// Elapsed is the time from the first probe to the first frame.
	Elapsed time.Duration
	Count   int
}

// ARPResult is what an ARP probe saw.
type ARPResult struct {
	// ProbesSent counts the ARP probes put on the wire.
	ProbesSent int
	Responders []*ARPResponder
	// Ignored counts ARP frames that said nothing about the address, by
	// reason: our own probes, others' ordinary requests, malformed frames.
	Ignored map[string]int
}

// Status sums up the responders: any foreign claim is a conflict.
func (a *ARPResult) Status() ARPStatus {
	status := ARPFree
	for _, r := range a.Responders {
		switch r.Kind {
		case KindConflict:
			return ARPConflict
		case KindOwner:
			status = ARPOwner
		}
	}

	return status
}

// BuildARPProbe returns the Ethernet frame of an RFC 5227 §2.1.1 ARP
// probe for ip: a broadcast request whose sender hardware address is
// the interface's, sender IP 0.0.0.0 and target hardware address zero.
// The interface's own MAC is used on purpose: a Linux host ignores a
// probe whose sender MAC is its own, so probing as the client would hide
// the client itself.
func BuildARPProbe(src net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	p, err := arp.NewPacket(arp.OperationRequest, src,
		netip.IPv4Unspecified(), make(net.HardwareAddr, 6), ip)
	if err != nil {
		return nil, err
	}
	body, err := p.MarshalBinary()
	if err != nil {
		return nil, err
	}

	// Pad to the 60-byte minimum Ethernet frame (without FCS).
	frame := make([]byte, max(ethHeaderLen+len(body), 60))
	copy(frame[0:6], broadcastMAC)
	copy(frame[6:12], src)
	binary.BigEndian.PutUint16(frame[12:14], etherTypeARP)
	copy(frame[ethHeaderLen:], body)

	return frame, nil
}

// arpWatcher classifies the ARP frames heard during a probe of ip.
type arpWatcher struct {
	ip     netip.Addr
	ours   net.HardwareAddr // the probing interface
	client net.HardwareAddr // the probed client; nil if unknown
	start  time.Time
	res    *ARPResult
	logf   func(string, ...any)
}

func newARPWatcher(ip netip.Addr, ours, client net.HardwareAddr,
	logf func(string, ...any)) *arpWatcher {
	return &arpWatcher{ip: ip, ours: ours, client: client, logf: logf,
		res: &ARPResult{Ignored: map[string]int{}}}
}

func (w *arpWatcher) ignore(reason string, detail string) {
	w.res.Ignored[reason]++
	w.logf("ignored ARP frame: %s%s", reason, detail)
}

// consider classifies one ARP payload (after the Ethernet header).
func (w *arpWatcher) consider(body []byte, at time.Time) {
	var p arp.Packet
	if err := p.UnmarshalBinary(body); err != nil ||
		p.HardwareType != 1 || p.ProtocolType != etherTypeIPv4 ||
		p.HardwareAddrLength != 6 || p.IPLength != 4 ||
		(p.Operation != arp.OperationRequest &&
			p.Operation != arp.OperationReply) {
		w.ignore(ARPIgnoreMalformed, "")

		return
	}

	sha := p.SenderHardwareAddr
	var kind ResponderKind
	switch {
	case bytes.Equal(sha, w.ours):
		// Our probes echoed back, and this host's own ARP traffic when
		// the interface holds the address: never someone else's claim.
		w.ignore(ARPIgnoreOwn, "")

		return
	case p.SenderIP == w.ip:
		kind = KindConflict
		if w.client != nil && bytes.Equal(sha, w.client) {
			kind = KindOwner
		}
	case p.SenderIP.IsUnspecified() && p.TargetIP == w.ip &&
		p.Operation == arp.OperationRequest:
		kind = KindProbe
	default:
		w.ignore(ARPIgnoreUnrelated, " ("+p.SenderIP.String()+
			" asks for "+p.TargetIP.String()+")")

		return
	}

	for _, r := range w.res.Responders {
		if r.Kind == kind && bytes.Equal(r.MAC, sha) {
			r.Count++

			return
		}
	}
	w.res.Responders = append(w.res.Responders, &ARPResponder{
		MAC: bytes.Clone(sha), Kind: kind, Elapsed: at.Sub(w.start), Count: 1})
	w.logf("ARP: %s %s for %s after %s", sha, kind, w.ip,
		at.Sub(w.start).Round(time.Microsecond))
}

// ARPReport is the outcome of an ARP probe run on its own.
type ARPReport struct {
	Interface    string
	InterfaceMAC net.HardwareAddr
	IP           netip.Addr
	// ClientMAC is the expected owner; nil when none was named.
	ClientMAC   net.HardwareAddr
	Timeout     time.Duration
	StartedAt   time.Time
	Elapsed     time.Duration
	Interrupted bool
	ARP         *ARPResult
}

// RunARP sends c.ARPProbes RFC 5227 probes for c.IP spread over
// c.Timeout and classifies every ARP frame heard until it ends. c.ClientMAC,
// when set, names the host the address should belong to. DHCP fields of c
// are not used.
func RunARP(ctx context.Context, t Transport, c Config) (*ARPReport, error) {
	if err := c.ValidateARP(); err != nil {
		return nil, err
	}
	if c.ARPProbes == 0 {
		return nil, &ConfigError{Field: "count", Problem: "must be at least 1"}
	}

	start := c.now()
	w := newARPWatcher(c.IP, c.InterfaceMAC, c.ClientMAC, c.logf)
	w.start = start
	sends, err := arpSchedule(w, start, c.Timeout, c.ARPProbes, c.logf)
	if err != nil {
		return nil, err
	}

	d := &fixedDriver{sends: sends, end: start.Add(c.Timeout),
		hear: func(b []byte, at time.Time) bool {
			if et, body, ok := etherPayload(b); ok && et == etherTypeARP {
				w.consider(body, at)
			}

			return false
		}}
	err = engine{now: c.now, record: c.Record}.run(ctx, t, d)

	return &ARPReport{Interface: c.Interface, InterfaceMAC: c.InterfaceMAC,
		IP: c.IP, ClientMAC: c.ClientMAC, Timeout: c.Timeout,
		StartedAt: start, Elapsed: d.last.Sub(start),
		Interrupted: d.interrupted, ARP: w.res}, err
}

// arpSchedule plans n ARP probes for w's address spread over d.
func arpSchedule(w *arpWatcher, start time.Time, d time.Duration, n int,
	logf func(string, ...any)) ([]send, error) {
	frame, err := BuildARPProbe(w.ours, w.ip)
	if err != nil {
		return nil, fmt.Errorf("build arp probe: %w", err)
	}

	var sends []send
	for _, at := range spread(start, d, n) {
		sends = append(sends, send{at: at, frame: frame, done: func() {
			w.res.ProbesSent++
			logf("sent ARP probe %d of %d for %s", w.res.ProbesSent, n, w.ip)
		}})
	}

	return sends, nil
}
