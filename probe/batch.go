package probe

import (
	"context"
	"encoding/binary"

	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Job is one client and address to check in a batch.
type Job struct {
	ClientMAC net.HardwareAddr
	IP        netip.Addr
	// ClientID is option 61 for this job; nil uses the batch's.
	ClientID []byte
}

// BatchConfig says how to run a batch. Template carries what every probe
// shares (interface, timeout, retries, broadcast flag, client id, ARP
// probes, clock, logger, recorder); its ClientMAC and IP are ignored.
type BatchConfig struct {
	Template Config
	// Rate is the most probes started per second: 0 means no limit,
	// anything else must be a finite number of at least MinRate.
	Rate float64
	// Concurrency is the most probes in flight at once.
	Concurrency int
}

// MaxConcurrency bounds the probes of a batch in flight at once.
const MaxConcurrency = 4096

// MinRate is the lowest Rate other than 0: one start every 1000 s. The
// gap between starts, a time.Duration, could hold rates down to about
// 1.1e-10 (one start in 292 years); below that it would overflow and
// pacing would stop. Slower pacing is of no use to a batch.
const MinRate = 0.001

// rateHelp ends every message about a bad Rate.
const rateHelp = "give starts per second, such as 20, or 0 for no limit"

// Validate checks the batch settings and the shared probe settings.
func (b *BatchConfig) Validate() error {
	switch {
	case math.IsNaN(b.Rate) || math.IsInf(b.Rate, 0):
		return &ConfigError{Field: "rate", Problem: fmt.Sprintf(
			"%v is not a finite number; %s", b.Rate, rateHelp)}
	case b.Rate < 0:
		return &ConfigError{Field: "rate", Problem: fmt.Sprintf(
			"%v must not be negative; %s", b.Rate, rateHelp)}
	case b.Rate > 0 && b.Rate < MinRate:
		return &ConfigError{Field: "rate", Problem: fmt.Sprintf(
			"%v is below the lowest rate, %v (one start every %s); %s",
			b.Rate, MinRate, startInterval(MinRate), rateHelp)}
	case b.Concurrency < 1 || b.Concurrency > MaxConcurrency:
		return &ConfigError{Field: "concurrency",
			Problem: fmt.Sprintf("must be from 1 to %d", MaxConcurrency)}
	case b.Template.First:
		return &ConfigError{Field: "first",
			Problem: "is not available in a batch"}
	}

	c := b.Template
	c.ClientMAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	c.IP = netip.AddrFrom4([4]byte{192, 0, 2, 1})

	return c.Validate()
}

// startInterval is the time between two starts at rate starts per
// second, a rate that Validate accepts and that is not 0.
func startInterval(rate float64) time.Duration {
	return time.Duration(float64(time.Second) / rate)
}

// BatchStats sums up a batch run.
type BatchStats struct {
	Started   int
	Completed int
	// Skipped counts frames that answered no probe in flight.
	Skipped     map[string]int
	Interrupted bool
	Elapsed     time.Duration
	// KernelDrops counts frames the kernel dropped before they were read:
	// replies that may be missing from some results.
	KernelDrops int
}

// RunBatch checks every job over one transport. Each probe has its own
// random xid, its own timeout and schedule, and collects every reply as
// Run does; at most Concurrency are in flight and at most Rate start per
// second, because every ACK may write a lease on the server. done is
// called with the job's index and its result as each probe ends. When
// ctx is cancelled no probe starts and nothing more is sent, but the
// probes in flight listen to the end of their timeouts.
func RunBatch(ctx context.Context, t Transport, b BatchConfig, jobs []Job,
	done func(int, *Result)) (*BatchStats, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	for i, j := range jobs {
		c := b.Template
		c.ClientMAC, c.IP = j.ClientMAC, j.IP
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("job %d: %w", i, err)
		}
	}

	d := &batchDriver{cfg: b, jobs: jobs, done: done,
		byXID: map[uint32]*batchProbe{}, byIP: map[netip.Addr][]*batchProbe{},
		stats: &BatchStats{Skipped: map[string]int{}}}
	start := b.Template.now()
	d.nextStart = start
	err := engine{now: b.Template.now, record: b.Template.Record}.run(ctx, t, d)
	d.stats.Elapsed = d.last.Sub(start)
	d.stats.KernelDrops = kernelDrops(t)

	return d.stats, err
}

// batchProbe is one probe of a batch in flight.
type batchProbe struct {
	index int
	p     *oneProbe
}

// batchDriver starts probes as rate and concurrency allow, sends each
// one's schedule, routes replies by xid and ARP frames by address, and
// ends each probe at its own timeout.
type batchDriver struct {
	cfg  BatchConfig
	jobs []Job
	done func(int, *Result)

	next      int // the next job to start
	nextStart time.Time
	inFlight  []*batchProbe // in order of start, hence of end
	byXID     map[uint32]*batchProbe
	byIP      map[netip.Addr][]*batchProbe
	stopped   bool
	stats     *BatchStats
	last      time.Time
}

func (d *batchDriver) due(now time.Time, cancelled bool,
	write func([]byte) error) (time.Time, bool, error) {
	d.last = now
	if cancelled && !d.stopped {
		d.stopped = true
		d.stats.Interrupted = true
	}

	d.finish(now)
	for !d.stopped && d.next < len(d.jobs) &&
		len(d.inFlight) < d.cfg.Concurrency && !now.Before(d.nextStart) {
		if err := d.start(now); err != nil {
			return now, true, err
		}
	}

	next := time.Time{}
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, bp := range d.inFlight {
		if !d.stopped {
			for len(bp.p.sends) > 0 && !now.Before(bp.p.sends[0].at) {
				if err := write(bp.p.sends[0].frame); err != nil {
					return now, true, err
				}
				bp.p.sends[0].done()
				bp.p.sends = bp.p.sends[1:]
			}
			if len(bp.p.sends) > 0 {
				earliest(bp.p.sends[0].at)
			}
		}
		earliest(bp.p.end)
	}
	if !d.stopped && d.next < len(d.jobs) &&
		len(d.inFlight) < d.cfg.Concurrency {
		earliest(d.nextStart)
	}
	if next.IsZero() {
		return now, true, nil
	}

	return next, false, nil
}

// start begins the next job's probe.
func (d *batchDriver) start(now time.Time) error {
	j := d.jobs[d.next]
	c := d.cfg.Template
	c.ClientMAC, c.IP = j.ClientMAC, j.IP
	if j.ClientID != nil {
		c.ClientID = j.ClientID
	}
	for {
		xid, err := newXID()
		if err != nil {
			return err
		}
		if _, taken := d.byXID[xid]; !taken {
			c.XID = xid

			break
		}
	}

	p, err := newProbe(&c, now)
	if err != nil {
		return fmt.Errorf("job %d: %w", d.next, err)
	}
	bp := &batchProbe{index: d.next, p: p}
	d.inFlight = append(d.inFlight, bp)
	d.byXID[c.XID] = bp
	if p.arp != nil {
		d.byIP[c.IP] = append(d.byIP[c.IP], bp)
	}
	d.next++
	d.stats.Started++
	if d.cfg.Rate > 0 {
		d.nextStart = d.nextStart.Add(startInterval(d.cfg.Rate))
		if d.nextStart.Before(now) {
			// Do not let a stall turn into a burst.
			d.nextStart = now
		}
	}

	return nil
}

// finish ends every probe whose timeout has passed, in start order.
func (d *batchDriver) finish(now time.Time) {
	kept := d.inFlight[:0]
	for _, bp := range d.inFlight {
		if now.Before(bp.p.end) {
			kept = append(kept, bp)

			continue
		}
		res := bp.p.col.res
		res.Elapsed = bp.p.end.Sub(res.StartedAt)
		delete(d.byXID, res.Request.XID)
		if bp.p.arp != nil {
			d.byIP[res.Request.IP] = removeProbe(d.byIP[res.Request.IP], bp)
			if len(d.byIP[res.Request.IP]) == 0 {
				delete(d.byIP, res.Request.IP)
			}
		}
		d.stats.Completed++
		if d.done != nil {
			d.done(bp.index, res)
		}
	}
	clear(d.inFlight[len(kept):])
	d.inFlight = kept
}

func removeProbe(list []*batchProbe, bp *batchProbe) []*batchProbe {
	for i, x := range list {
		if x == bp {
			return append(list[:i], list[i+1:]...)
		}
	}

	return list
}

// consider routes a frame to the probe it concerns.
func (d *batchDriver) consider(b []byte, at time.Time) {
	et, body, ok := etherPayload(b)
	if ok && et == etherTypeARP {
		for _, bp := range d.arpTargets(body) {
			bp.p.arp.consider(body, at)
		}

		return
	}

	f, reason := decodeUDP(b)
	if reason == "" && len(f.payload) >= 8 {
		xid := binary.BigEndian.Uint32(f.payload[4:8])
		if bp, ok := d.byXID[xid]; ok {
			bp.p.col.consider(b, at)

			return
		}
		reason = SkipOtherXID
	}
	d.stats.Skipped[reason]++
}

// arpTargets finds the probes whose address an ARP frame names as sender
// or target.
func (d *batchDriver) arpTargets(body []byte) []*batchProbe {
	const senderIP, targetIP = 14, 24
	if len(d.byIP) == 0 || len(body) < targetIP+4 {
		return nil
	}

	sender := netip.AddrFrom4([4]byte(body[senderIP : senderIP+4]))
	target := netip.AddrFrom4([4]byte(body[targetIP : targetIP+4]))
	out := d.byIP[sender]
	if target != sender {
		out = append(slices.Clip(out), d.byIP[target]...)
	}

	return out
}
