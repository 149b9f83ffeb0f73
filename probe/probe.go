package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// readBufSize holds any Ethernet frame, jumbo frames included.
const readBufSize = 1 << 16

// Run sends the INIT-REBOOT request c describes on t, retransmits it
// c.Retries times spread evenly over c.Timeout, and collects every reply
// until the timeout ends or ctx is cancelled. With c.ARPProbes > 0 it also
// ARP-probes the address within the same timeout. A cancelled probe is
// not an error: the result holds what arrived and Interrupted is set. Run
// does not close t.
func Run(ctx context.Context, t Transport, c Config) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}

	xid := c.XID
	if xid == 0 {
		var err error
		if xid, err = newXID(); err != nil {
			return nil, err
		}
	}
	payload, err := BuildRequest(&c, xid)
	if err != nil {
		return nil, err
	}
	frame := BuildRequestFrame(c.InterfaceMAC, payload)

	col := newCollector(&c, xid)
	s := session{now: c.now, timeout: c.Timeout, record: c.Record}
	s.start = c.now()
	col.res.StartedAt = s.start
	for _, at := range spread(s.start, c.Timeout, c.Retries+1) {
		s.sends = append(s.sends, send{at: at, frame: frame, done: func() {
			col.res.Request.Sent++
			c.logf("sent DHCPREQUEST %d of %d: xid 0x%08x, %d bytes",
				col.res.Request.Sent, c.Retries+1, xid, len(frame))
		}})
	}

	var arpw *arpWatcher
	if c.ARPProbes > 0 {
		arpw = newARPWatcher(c.IP, c.InterfaceMAC, c.ClientMAC, c.logf)
		arpw.start = s.start
		col.res.ARP = arpw.res
		if err := s.addARPProbes(arpw, c.ARPProbes, c.logf); err != nil {
			return nil, err
		}
	}

	elapsed, interrupted, err := s.run(ctx, t, func(b []byte, at time.Time) {
		if et, body, ok := etherPayload(b); ok && et == etherTypeARP {
			if arpw != nil {
				arpw.consider(body, at)
			}

			return
		}
		col.consider(b, at)
	})
	col.res.Elapsed = elapsed
	col.res.Interrupted = interrupted
	if err != nil {
		return col.res, err
	}

	return col.res, nil
}

// spread returns n times evenly spread over d, the first at start.
func spread(start time.Time, d time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	step := d / time.Duration(n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * step)
	}

	return out
}

// send is one frame to put on the wire at a given time.
type send struct {
	at    time.Time
	frame []byte
	done  func()
}

// session sends frames on a schedule and hands every frame it receives
// to one function, until the timeout ends or its context is cancelled.
type session struct {
	now     func() time.Time
	start   time.Time
	timeout time.Duration
	sends   []send
	// record, when set, sees every frame sent and read.
	record func([]byte, time.Time)
}

// addARPProbes schedules n ARP probes for w's address spread over the
// timeout.
func (s *session) addARPProbes(w *arpWatcher, n int,
	logf func(string, ...any)) error {
	frame, err := BuildARPProbe(w.ours, w.ip)
	if err != nil {
		return fmt.Errorf("build arp probe: %w", err)
	}
	for _, at := range spread(s.start, s.timeout, n) {
		s.sends = append(s.sends, send{at: at, frame: frame, done: func() {
			w.res.ProbesSent++
			logf("sent ARP probe %d of %d for %s", w.res.ProbesSent, n, w.ip)
		}})
	}
	slices.SortStableFunc(s.sends, func(a, b send) int {
		return a.at.Compare(b.at)
	})

	return nil
}

// run drives the session and returns how long it lasted and whether it
// was cancelled.
func (s *session) run(ctx context.Context, t Transport,
	consider func([]byte, time.Time)) (time.Duration, bool, error) {
	// Unblock a pending read as soon as ctx ends.
	stop := context.AfterFunc(ctx, func() {
		_ = t.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()

	end := s.start.Add(s.timeout)
	sends := s.sends
	buf := make([]byte, readBufSize)
	for {
		now := s.now()
		for len(sends) > 0 && !now.Before(sends[0].at) {
			if err := t.WriteFrame(sends[0].frame); err != nil {
				return now.Sub(s.start), false, fmt.Errorf("send: %w", err)
			}
			if s.record != nil {
				s.record(sends[0].frame, now)
			}
			sends[0].done()
			sends = sends[1:]
		}
		if !now.Before(end) {
			return now.Sub(s.start), false, nil
		}

		deadline := end
		if len(sends) > 0 && sends[0].at.Before(deadline) {
			deadline = sends[0].at
		}
		if err := t.SetReadDeadline(deadline); err != nil {
			return now.Sub(s.start), false,
				fmt.Errorf("set read deadline: %w", err)
		}
		// Checked after setting the deadline, so that a cancellation
		// between the two cannot leave the read blocked until then.
		if ctx.Err() != nil {
			return s.now().Sub(s.start), true, nil
		}

		n, err := t.ReadFrame(buf)
		switch {
		case ctx.Err() != nil:
			return s.now().Sub(s.start), true, nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case err != nil:
			return s.now().Sub(s.start), false, fmt.Errorf("read frame: %w", err)
		}
		at := s.now()
		if s.record != nil {
			s.record(buf[:n], at)
		}
		consider(buf[:n], at)
	}
}

// collector turns received frames into the replies of one probe.
type collector struct {
	cfg    *Config
	xid    uint32
	res    *Result
	folded map[string]*Reply
}

func newCollector(c *Config, xid uint32) *collector {
	return &collector{
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
			},
			Timeout: c.Timeout,
			Skipped: map[string]int{},
		},
		folded: map[string]*Reply{},
	}
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
	f, reason := decodeUDP(b)
	if reason != "" {
		col.skip(reason, f)

		return
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
	if r.Type == ACK && col.cfg.IP.IsValid() && r.YourIP != col.cfg.IP &&
		!r.YourIP.IsUnspecified() {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"ACK offers %s, not the requested %s", r.YourIP, col.cfg.IP))
	}

	key := foldKey(r)
	if prev, ok := col.folded[key]; ok {
		prev.Count++
		col.cfg.logf("%s from %s again (%d copies)", r.Type, r.ServerKey(),
			prev.Count)

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
	c.Options = make([]Option, len(r.Options))
	for i, o := range r.Options {
		c.Options[i] = Option{Code: o.Code, Data: bytes.Clone(o.Data)}
	}
	c.Warnings = slices.Clone(r.Warnings)

	return &c
}
