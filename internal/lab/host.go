//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Host is a namespace joined to the lab's bridge by a veth pair.
type Host struct {
	// Name is the name given to AddHost.
	Name string
	// NS is the host's namespace.
	NS string
	// Iface is the host's end of the veth pair, inside NS.
	Iface string
	// MAC is Iface's hardware address.
	MAC net.HardwareAddr
	// Prefix is Iface's IPv4 address and subnet; invalid (the zero value)
	// when the interface has no address, as on a probe interface.
	Prefix netip.Prefix
	// Segment is the segment Iface is on.
	Segment *Segment

	// port is the bridge's end of the veth pair, inside the bridge
	// namespace.
	port string
	lab  *Lab
}

// Addr returns the host's IPv4 address; the zero Addr when it has none.
func (h *Host) Addr() netip.Addr {
	return h.Prefix.Addr()
}

// Lab returns the lab the host belongs to.
func (h *Host) Lab() *Lab {
	return h.lab
}

// HostConfig describes a host to add.
type HostConfig struct {
	// Segment is the segment to join; nil means the lab's Main segment.
	Segment *Segment
	// MAC is the interface's hardware address; required.
	MAC net.HardwareAddr
	// Prefix is the interface's address and subnet; the zero value leaves
	// the interface without an IPv4 address.
	Prefix netip.Prefix
}

var hostNameRe = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// AddClient adds a host for the probe: its interface has no IPv4 address
// and the fixed MAC ClientMAC (the n-th client gets ClientMAC + n-1).
func (l *Lab) AddClient(name string) (*Host, error) {
	l.mu.Lock()
	l.clients++
	n := l.clients
	l.mu.Unlock()

	mac := append(net.HardwareAddr(nil), ClientMAC...)
	mac[5] += byte(n - 1)

	return l.AddHost(name, HostConfig{MAC: mac})
}

// AddServer adds the n-th server host of the Main segment: address
// ServerAddr(n) in Subnet and MAC ServerMAC(n), n counting from 1 in the
// order servers are added to Main.
func (l *Lab) AddServer(name string) (*Host, error) {
	return l.Main().AddServer(name)
}

// AddHost creates a namespace named after the lab and name, and joins it
// to the bridge by a veth pair created inside the lab's namespaces. The
// host's interface is up, with cfg's MAC and address, when it returns.
func (l *Lab) AddHost(name string, cfg HostConfig) (*Host, error) {
	if !hostNameRe.MatchString(name) {
		return nil, fmt.Errorf("lab: host name %q: want 1-12 of [a-z0-9], "+
			"starting with a letter", name)
	}
	if len(cfg.MAC) != 6 {
		return nil, fmt.Errorf("lab: host %s: need a 6-byte MAC, got %q", name, cfg.MAC)
	}
	if cfg.Prefix.IsValid() {
		if err := checkDocPrefix(cfg.Prefix.Masked()); err != nil {
			return nil, err
		}
	}
	seg := cfg.Segment
	if seg == nil {
		seg = l.Main()
	}

	l.mu.Lock()
	if slices.Contains(l.hostNames, name) {
		l.mu.Unlock()
		return nil, fmt.Errorf("lab: host %s already exists", name)
	}
	// Reserve the name before the lock is let go, so that hosts added
	// concurrently never share it (linkNames numbers the interfaces).
	l.hostNames = append(l.hostNames, name)
	l.mu.Unlock()

	iface, port := l.linkNames()
	h := &Host{
		Name:    name,
		NS:      NSPrefix + l.ID + "-" + name,
		Iface:   iface,
		MAC:     cfg.MAC,
		Prefix:  cfg.Prefix,
		Segment: seg,
		port:    port,
		lab:     l,
	}
	for _, ifname := range []string{h.Iface, h.port} {
		if err := refuseHostInterface(ifname); err != nil {
			return nil, err
		}
	}

	if err := l.addNS(h.NS); err != nil {
		return nil, err
	}

	first := &Link{Host: h, Segment: seg, Iface: h.Iface, MAC: h.MAC,
		Prefix: h.Prefix, port: h.port}
	if err := l.wire(h.NS, first); err != nil {
		return nil, fmt.Errorf("lab: add host %s: %w", name, err)
	}

	l.mu.Lock()
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()
	l.logf("lab: host %s: ns %s, %s on %s, %s %s", name, h.NS, h.Iface, seg.Name,
		h.MAC, addrText(h.Prefix))

	return h, nil
}

// wire creates and configures the veth pair of link k, whose interface
// goes into namespace ns and whose bridge port joins k's segment.
func (l *Lab) wire(ns string, k *Link) error {
	for _, ifname := range []string{k.Iface, k.port} {
		if err := refuseHostInterface(ifname); err != nil {
			return err
		}
	}
	if k.Prefix.IsValid() {
		if err := checkDocPrefix(k.Prefix.Masked()); err != nil {
			return err
		}
	}

	// Create the pair inside the bridge namespace with its peer created
	// directly in the host's namespace: neither end ever exists in the
	// caller's namespace.
	err := l.ipIn(l.BridgeNS, "link", "add", k.port, "type", "veth",
		"peer", "name", k.Iface, "netns", ns)
	if err != nil {
		return err
	}

	err = l.ipIn(l.BridgeNS, "link", "set", k.port, "master", k.Segment.Bridge, "up")
	if err != nil {
		return err
	}
	if err := l.ipIn(ns, "link", "set", k.Iface, "address", k.MAC.String()); err != nil {
		return err
	}
	if k.Prefix.IsValid() {
		if err := l.ipIn(ns, "addr", "add", k.Prefix.String(), "dev", k.Iface); err != nil {
			return err
		}
	}
	if err := l.ipIn(ns, "link", "set", k.Iface, "up"); err != nil {
		return err
	}

	// Belt and braces: the new names must not have appeared here.
	for _, ifname := range []string{k.Iface, k.port} {
		if err := refuseHostInterface(ifname); err != nil {
			return fmt.Errorf("lab: lab interface leaked into the host namespace: %w", err)
		}
	}

	return waitFor(5*time.Second, 5*time.Millisecond, "wait for "+k.Iface+" up",
		func() (bool, error) {
			out, err := l.ipOutput(ns, "-o", "link", "show", "dev", k.Iface)
			if err != nil {
				return false, err
			}

			return strings.Contains(out, "LOWER_UP") &&
				strings.Contains(out, "state UP"), nil
		})
}

// Start starts a command inside the host's namespace and returns without
// waiting for it; its output goes to stdout and stderr (nil discards).
// The lab stops it in Close if it is still running.
func (h *Host) Start(
	stdout, stderr io.Writer,
	name string,
	args ...string,
) (*Process, error) {
	return h.lab.start(h.NS, stdout, stderr, name, args...)
}

// RunResult is what a command run in a host printed and how it ended.
type RunResult struct {
	Stdout []byte
	Stderr []byte
	// ExitCode is the command's exit status; -1 when a signal ended it.
	ExitCode int
	// Elapsed is the command's wall-clock run time.
	Elapsed time.Duration
}

// Run runs a command inside the host's namespace and waits for it. A
// non-zero exit status is not an error: it is in the result. When ctx ends
// first the command is stopped (SIGTERM, then SIGKILL) and Run returns
// what it printed along with an error wrapping ctx.Err().
func (h *Host) Run(ctx context.Context, name string, args ...string) (*RunResult, error) {
	stdout := newSyncBuffer("")
	stderr := newSyncBuffer("")

	start := time.Now()
	p, err := h.lab.start(h.NS, stdout, stderr, name, args...)
	if err != nil {
		return nil, err
	}

	var waitErr error
	select {
	case <-p.Done():
	case <-ctx.Done():
		waitErr = fmt.Errorf("lab: %s in %s: %w", p.Name, h.Name, ctx.Err())
		waitErr = errors.Join(waitErr, p.Stop(syscall.SIGTERM, StopGrace))
	}

	return &RunResult{
		Stdout:   stdout.Bytes(),
		Stderr:   stderr.Bytes(),
		ExitCode: p.ExitCode(),
		Elapsed:  time.Since(start),
	}, waitErr
}
