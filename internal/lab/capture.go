//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Capture is a tcpdump writing every frame of one interface to a pcap file.
type Capture struct {
	Host  *Host
	Iface string
	// Path is the pcap file.
	Path string

	proc   *Process
	stderr *syncBuffer
}

// Capture starts tcpdump on the host's lab interface. It returns once
// tcpdump has said "listening on", so every frame sent after it returns is
// in the file. tcpdump runs with -p: it does not put the interface into
// promiscuous mode, so the capture cannot change what a probe receives.
func (h *Host) Capture(ctx context.Context) (*Capture, error) {
	return h.CaptureOn(ctx, h.Iface)
}

// CaptureOn is Capture on another interface inside the host's namespace.
// Names of the caller's own namespace are refused.
func (h *Host) CaptureOn(ctx context.Context, iface string) (*Capture, error) {
	if err := refuseHostInterface(iface); err != nil {
		return nil, err
	}

	f, err := os.CreateTemp(h.lab.Dir, "capture-"+h.Name+"-*.pcap")
	if err != nil {
		return nil, fmt.Errorf("lab: capture on %s: %w", h.Name, err)
	}
	f.Close()

	c := &Capture{
		Host:   h,
		Iface:  iface,
		Path:   f.Name(),
		stderr: newSyncBuffer("listening on"),
	}

	// -Z root: keep the privileges needed to write into the lab's
	// directory; --immediate-mode: take each frame from the kernel as it
	// arrives; -U: write it to the file at once.
	args := []string{
		"-i", iface, "-p", "-n", "--immediate-mode", "-U",
		"-Z", "root", "-w", c.Path,
	}
	p, err := h.lab.start(h.NS, io.Discard, c.stderr, h.lab.tcpdumpPath, args...)
	if err != nil {
		return nil, err
	}
	c.proc = p

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}

	select {
	case <-c.stderr.seen:
		return c, nil
	case <-p.Done():
		return nil, fmt.Errorf("lab: tcpdump on %s exited with status %d: %s",
			h.Name, p.ExitCode(), c.stderr.String())
	case <-ctx.Done():
		err := fmt.Errorf("lab: wait for tcpdump on %s: %w: %s",
			h.Name, ctx.Err(), c.stderr.String())

		return nil, errors.Join(err, p.Stop(syscall.SIGTERM, StopGrace))
	}
}

// Stop waits until tcpdump has written what the kernel handed it, then
// interrupts it (SIGINT), which flushes the file and exits; it is killed
// when it has not exited after StopGrace.
//
// SIGINT alone would lose frames: tcpdump leaves the frames still queued
// in its ring buffer when interrupted. So Stop first asks tcpdump for its
// counters (SIGUSR1) until they show every frame the kernel passed to it
// as captured, or until two readings in a row agree (on loopback the
// kernel also counts outgoing copies that libpcap drops).
func (c *Capture) Stop() error {
	if !c.proc.Exited() {
		c.drain()
	}

	if err := c.proc.Stop(syscall.SIGINT, StopGrace); err != nil {
		return err
	}
	if code := c.proc.ExitCode(); code != 0 {
		return fmt.Errorf("lab: tcpdump on %s exited with status %d: %s",
			c.Host.Name, code, c.stderr.String())
	}

	return nil
}

var statsRe = regexp.MustCompile(
	`(\d+) packets? captured, (\d+) packets? received by filter`)

// drainTimeout bounds Stop's wait for tcpdump to catch up.
const drainTimeout = 3 * time.Second

// drain polls tcpdump's counters until it has caught up with the kernel.
func (c *Capture) drain() {
	deadline := time.Now().Add(drainTimeout)
	var last string
	for time.Now().Before(deadline) {
		stats, ok := c.requestStats(deadline)
		if !ok {
			return
		}
		m := statsRe.FindStringSubmatch(stats)
		if m[1] == m[2] || stats == last {
			return
		}
		last = stats
		time.Sleep(5 * time.Millisecond)
	}
}

// requestStats sends SIGUSR1 and waits for the counters tcpdump prints in
// answer.
func (c *Capture) requestStats(deadline time.Time) (string, bool) {
	before := len(statsRe.FindAllString(c.stderr.String(), -1))
	if err := c.proc.Signal(syscall.SIGUSR1); err != nil {
		return "", false
	}

	for time.Now().Before(deadline) && !c.proc.Exited() {
		all := statsRe.FindAllString(c.stderr.String(), -1)
		if len(all) > before {
			return all[len(all)-1], true
		}
		time.Sleep(2 * time.Millisecond)
	}

	return "", false
}

// Stderr returns what tcpdump has printed on its standard error.
func (c *Capture) Stderr() string {
	return c.stderr.String()
}

// Frames stops the capture if it is still running and reads its file.
func (c *Capture) Frames() ([]Frame, error) {
	if err := c.Stop(); err != nil {
		return nil, err
	}

	return ReadPcap(c.Path)
}

// Frame is one captured frame.
type Frame struct {
	Time time.Time
	Data []byte
	// Packet is Data decoded from the Ethernet layer up.
	Packet gopacket.Packet
}

// ReadPcap reads every frame of a pcap file of Ethernet frames.
func ReadPcap(path string) ([]Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lab: read pcap: %w", err)
	}
	defer f.Close()

	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("lab: read pcap %s: %w", filepath.Base(path), err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("lab: read pcap %s: link type %v, want Ethernet",
			filepath.Base(path), r.LinkType())
	}

	var frames []Frame
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return frames, fmt.Errorf("lab: read pcap %s: %w", filepath.Base(path), err)
		}

		frames = append(frames, Frame{
			Time:   ci.Timestamp,
			Data:   data,
			Packet: gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default),
		})
	}
}
