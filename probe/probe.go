package probe

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Run sends the INIT-REBOOT request c describes on t, retransmits it
// c.Retries times spread evenly over c.Timeout, and collects every reply
// until the timeout ends or ctx is cancelled. With c.ARPProbes > 0 it also
// ARP-probes the address within the same timeout; with c.First it stops
// at the first ACK or NAK. A cancelled probe is not an error: the result
// holds what arrived and Interrupted is set. Run does not close t.
func Run(ctx context.Context, t Transport, c Config) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}

	start := c.now()
	p, err := newProbe(&c, start)
	if err != nil {
		return nil, err
	}
	d := &fixedDriver{sends: p.sends, end: p.end, hear: p.consider}
	err = engine{now: c.now, record: c.Record}.run(ctx, t, d)
	p.col.res.Elapsed = d.last.Sub(start)
	p.col.res.Interrupted = d.interrupted
	if n := kernelDrops(t); n > 0 {
		p.col.res.Warnings = append(p.col.res.Warnings, dropWarning(n))
	}

	return p.col.res, err
}

// oneProbe is one INIT-REBOOT probe in flight: its schedule of frames to
// send and what collects its replies.
type oneProbe struct {
	cfg   *Config
	col   *collector
	arp   *arpWatcher
	sends []send
	end   time.Time
}

// newProbe prepares the probe c describes, starting at start: the
// request and its retransmissions, and the ARP probes if asked for.
func newProbe(c *Config, start time.Time) (*oneProbe, error) {
	xid := c.XID
	if xid == 0 {
		var err error
		if xid, err = newXID(); err != nil {
			return nil, err
		}
	}
	payload, err := BuildRequest(c, xid)
	if err != nil {
		return nil, err
	}
	frame := BuildRequestFrame(c.InterfaceMAC, payload)

	p := &oneProbe{cfg: c, col: newCollector(c, xid),
		end: start.Add(c.Timeout)}
	p.col.res.StartedAt = start
	if !c.Broadcast {
		p.col.res.Warnings = append(p.col.res.Warnings, fmt.Sprintf(
			"the broadcast flag was clear, so servers send their replies "+
				"to %s: where a switch has learned that MAC on another port "+
				"(the client is on line) they go there and are not seen here, "+
				"and a missing reply proves nothing", c.ClientMAC))
	}
	for _, at := range spread(start, c.Timeout, c.Retries+1) {
		p.sends = append(p.sends, send{at: at, frame: frame, done: func() {
			p.col.res.Request.Sent++
			c.logf("sent DHCPREQUEST %d of %d: xid 0x%08x, %d bytes",
				p.col.res.Request.Sent, c.Retries+1, xid, len(frame))
		}})
	}

	if c.ARPProbes > 0 {
		p.arp = newARPWatcher(c.IP, c.InterfaceMAC, c.ClientMAC, c.logf)
		p.arp.start = start
		p.col.res.ARP = p.arp.res
		arpSends, err := arpSchedule(p.arp, start, c.Timeout, c.ARPProbes,
			c.logf)
		if err != nil {
			return nil, err
		}
		p.sends = mergeSends(p.sends, arpSends)
	}

	return p, nil
}

// consider hands a frame to the DHCP collector or the ARP classifier. It
// reports true when the probe need not listen any longer: with First set,
// once an ACK or NAK has arrived.
func (p *oneProbe) consider(b []byte, at time.Time) bool {
	if et, body, ok := etherPayload(b); ok && et == etherTypeARP {
		if p.arp != nil {
			p.arp.consider(body, at)
		}

		return false
	}
	p.col.consider(b, at)

	return p.cfg.First && p.col.res.Verdict() != NoAnswer
}

// MaxReplies bounds the distinct replies one probe keeps; copies of a
// kept reply are still counted.
const MaxReplies = 256

// collector turns received frames into the replies of one probe.
type collector struct {
	cfg    *Config
	xid    uint32
	res    *Result
	folded map[string]*Reply
}

func newCollector(c *Config, xid uint32) *collector {
	col := &collector{
		cfg: c,
		xid: xid,
		res: &Result{
			Request: Request{
				Interface:    c.Interface,
				InterfaceMAC: c.InterfaceMAC,
				ClientMAC:    c.ClientMAC,
				IP:           c.IP,
				XID:          xid,
				ClientID:     c.ClientID,
				Hostname:     c.Hostname,
				Broadcast:    c.Broadcast,
				First:        c.First,
			},
			Timeout: c.Timeout,
			Skipped: map[string]int{},
		},
		folded: map[string]*Reply{},
	}

	return col
}

// skip counts a frame that was set aside.
func (col *collector) skip(reason string, f udpFrame) {
	col.res.Skipped[reason]++
	if f.src != nil {
		col.cfg.logf("skipped frame from %s (%s): %s", f.src, f.srcIP, reason)
	} else {
		col.cfg.logf("skipped frame: %s", reason)
	}
}

// consider looks at one received frame and keeps it when it answers the
// request.
func (col *collector) consider(b []byte, at time.Time) {
	col.considerFrame(b, at, false)
}

// considerFrame is consider for a frame from a capture; noDst says its
// destination MAC is a placeholder.
func (col *collector) considerFrame(b []byte, at time.Time, noDst bool) {
	f, reason := decodeUDP(b)
	if reason != "" {
		col.skip(reason, f)

		return
	}
	if noDst {
		f.dst = nil
	}
	if f.dstPort != clientPort || f.srcPort != serverPort {
		col.skip(SkipOtherPort, f)

		return
	}
	if reason := replyMatch(f.payload, col.xid, col.cfg.ClientMAC); reason != "" {
		col.skip(reason, f)

		return
	}

	r, ok := parseReply(f, at)
	if !ok {
		col.skip(SkipOtherMsgType, f)

		return
	}
	r.Elapsed = at.Sub(col.res.StartedAt)
	if r.Type == ACK && col.cfg.IP.IsValid() && r.YourIP != col.cfg.IP {
		r.OtherAddress = true
		if !r.YourIP.IsUnspecified() {
			r.Warnings = append(r.Warnings, fmt.Sprintf(
				"ACK offers %s, not the requested %s: it does not confirm "+
					"the binding", r.YourIP, col.cfg.IP))
		}
	}

	key := foldKey(r)
	if prev, ok := col.folded[key]; ok {
		prev.Count++
		col.cfg.logf("%s from %s again (%d copies)", r.Type, r.ServerKey(),
			prev.Count)

		return
	}
	if len(col.res.Replies) >= MaxReplies {
		// A flood of distinct replies must not grow without bound.
		if col.res.Skipped[SkipTooMany] == 0 {
			col.res.Warnings = append(col.res.Warnings, fmt.Sprintf(
				"more than %d distinct replies: later ones were counted, "+
					"not kept", MaxReplies))
		}
		col.skip(SkipTooMany, f)

		return
	}
	// The reply outlives the read buffer it points into.
	r = r.detach()
	col.folded[key] = r
	col.res.Replies = append(col.res.Replies, r)
	col.cfg.logf("%s from %s (%s, %s) after %s", r.Type, r.ServerKey(),
		r.SourceIP, r.SourceMAC, r.Elapsed.Round(time.Microsecond))
}

// foldKey identifies copies of one reply: a server answering each
// retransmission. Lease times may count down between copies, so options
// 51, 58 and 59 are left out.
func foldKey(r *Reply) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%s|%d|", r.Type, r.ServerKey(),
		r.SourceIP, r.SourceMAC, r.DestinationMAC, r.YourIP, r.RelayIP, r.Hops)
	for _, o := range r.Options {
		switch o.Code {
		case 51, 58, 59:
			continue
		}
		fmt.Fprintf(&b, "%d=%x,", o.Code, o.Data)
	}

	return b.String()
}

// detach copies every slice that points into the receive buffer.
func (r *Reply) detach() *Reply {
	c := *r
	c.SourceMAC = bytes.Clone(r.SourceMAC)
	c.DestinationMAC = bytes.Clone(r.DestinationMAC)
	c.ServerIDRaw = bytes.Clone(r.ServerIDRaw)
	c.Options = cloneOptions(r.Options)
	c.Warnings = slices.Clone(r.Warnings)
	c.ClientID = bytes.Clone(r.ClientID)
	c.DomainSearch = slices.Clone(r.DomainSearch)
	if r.RelayAgent != nil {
		ra := *r.RelayAgent
		ra.CircuitID = bytes.Clone(ra.CircuitID)
		ra.RemoteID = bytes.Clone(ra.RemoteID)
		ra.SubOptions = cloneOptions(ra.SubOptions)
		c.RelayAgent = &ra
	}

	return &c
}

func cloneOptions(opts []Option) []Option {
	out := make([]Option, len(opts))
	for i, o := range opts {
		out[i] = Option{Code: o.Code, Data: bytes.Clone(o.Data)}
	}

	return out
}
