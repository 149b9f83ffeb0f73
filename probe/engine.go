package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// readBufSize holds any Ethernet frame, jumbo frames included.
const readBufSize = 1 << 16

// send is one frame to put on the wire at a given time.
type send struct {
	at    time.Time
	frame []byte
	done  func()
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

// mergeSends merges two schedules into one in time order.
func mergeSends(a, b []send) []send {
	out := append(slices.Clip(a), b...)
	slices.SortStableFunc(out, func(x, y send) int {
		return x.at.Compare(y.at)
	})

	return out
}

// driver decides what an engine sends and when it stops.
type driver interface {
	// due does what is due at now, writing frames with write, and says
	// when it next wants to run, or that it is done. cancelled is true
	// once the engine's context has ended.
	due(now time.Time, cancelled bool,
		write func([]byte) error) (next time.Time, done bool, err error)
	// consider receives a frame read at a given time.
	consider(frame []byte, at time.Time)
}

// engine runs a driver over a transport: one read loop whose read
// deadline is always the driver's next wish, so a single goroutine both
// sends on schedule and listens in between.
type engine struct {
	now    func() time.Time
	record func([]byte, time.Time)
}

func (e engine) run(ctx context.Context, t Transport, d driver) error {
	// Unblock a pending read as soon as ctx ends.
	stop := context.AfterFunc(ctx, func() {
		_ = t.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()

	buf := make([]byte, readBufSize)
	for {
		now := e.now()
		cancelled := ctx.Err() != nil
		next, done, err := d.due(now, cancelled, func(frame []byte) error {
			if err := t.WriteFrame(frame); err != nil {
				return fmt.Errorf("send: %w", err)
			}
			if e.record != nil {
				e.record(frame, now)
			}

			return nil
		})
		if err != nil || done {
			return err
		}

		if err := t.SetReadDeadline(next); err != nil {
			return fmt.Errorf("set read deadline: %w", err)
		}
		// A cancellation between due and setting the deadline would leave
		// the read blocked until next: tell the driver first.
		if !cancelled && ctx.Err() != nil {
			continue
		}

		n, err := t.ReadFrame(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case err != nil && ctx.Err() != nil:
			continue
		case err != nil:
			return fmt.Errorf("read frame: %w", err)
		}
		at := e.now()
		if e.record != nil {
			e.record(buf[:n], at)
		}
		d.consider(buf[:n], at)
	}
}

// fixedDriver sends a fixed schedule and listens until an end time, a
// cancellation, or its consider function says it has heard enough.
type fixedDriver struct {
	sends []send
	end   time.Time
	// hear takes each frame and reports true once it has heard enough.
	hear func([]byte, time.Time) bool

	enough      bool
	interrupted bool
	// last is the time of the last call to due: when listening ended.
	last time.Time
}

func (d *fixedDriver) due(now time.Time, cancelled bool,
	write func([]byte) error) (time.Time, bool, error) {
	d.last = now
	if cancelled {
		d.interrupted = true

		return now, true, nil
	}
	if d.enough {
		return now, true, nil
	}

	for len(d.sends) > 0 && !now.Before(d.sends[0].at) {
		if err := write(d.sends[0].frame); err != nil {
			return now, true, err
		}
		d.sends[0].done()
		d.sends = d.sends[1:]
	}
	if !now.Before(d.end) {
		return now, true, nil
	}

	next := d.end
	if len(d.sends) > 0 && d.sends[0].at.Before(next) {
		next = d.sends[0].at
	}

	return next, false, nil
}

func (d *fixedDriver) consider(frame []byte, at time.Time) {
	if d.hear(frame, at) {
		d.enough = true
	}
}
