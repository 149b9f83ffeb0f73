//go:build linux

package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Server is a DHCP program the lab runs in one of its hosts: a server
// (Dnsmasq, Kea, Dhcpd) or a relay (Relay).
type Server interface {
	// Program is the program's name: ProgramDnsmasq, ProgramKea,
	// ProgramDhcpd or ProgramRelay.
	Program() string
	// Name says which program runs where, as "kea-dhcp4 on server1".
	Name() string
	// Process returns the running program.
	Process() *Process
	// LogTail returns the last n lines of what the program logged.
	LogTail(n int) string
	// Stop stops the program: SIGTERM, then SIGKILL after StopGrace.
	Stop() error
}

// Programs of the servers and the relay, as Require and ForTest take them.
const (
	ProgramDnsmasq = "dnsmasq"
	ProgramKea     = "kea-dhcp4"
	ProgramDhcpd   = "dhcpd"
	ProgramRelay   = "dhcrelay"
)

// ServerOptions are the settings every server program of the lab offers,
// in the same words, so that one scenario can run against each of them.
type ServerOptions struct {
	// Authoritative makes the server NAK requests it cannot grant instead
	// of staying silent, in each program's own sense of the word.
	Authoritative bool
	// Subnet is the network the pool and the leases are in; the zero
	// value means the host's own. A server behind a relay serves the
	// relay's client segment, not its own.
	Subnet netip.Prefix
	// PoolStart and PoolEnd bound the pool; zero values mean
	// DefaultPoolStart and DefaultPoolEnd.
	PoolStart, PoolEnd netip.Addr
	// LeaseTime is the lease time handed out; zero means DefaultLeaseTime.
	LeaseTime time.Duration
	// Router, DNS and Domain are sent as options 3, 6 and 15 when set.
	Router netip.Addr
	DNS    []netip.Addr
	Domain string
	// Leases are stored in the server's lease database before it starts.
	// A lease with a ClientID is bound to that client identifier (option
	// 61) as well as to its MAC.
	Leases []Lease
}

// subnet returns the network the server hands out addresses in.
func (o ServerOptions) subnet(h *Host) netip.Prefix {
	if o.Subnet.IsValid() {
		return o.Subnet.Masked()
	}

	return h.Prefix.Masked()
}

func (o ServerOptions) pool() (start, end netip.Addr) {
	start, end = o.PoolStart, o.PoolEnd
	if !start.IsValid() {
		start = DefaultPoolStart
	}
	if !end.IsValid() {
		end = DefaultPoolEnd
	}

	return start, end
}

func (o ServerOptions) leaseTime() time.Duration {
	if o.LeaseTime == 0 {
		return DefaultLeaseTime
	}

	return o.LeaseTime
}

// check refuses options that would put an address outside the lab's
// documentation ranges.
func (o ServerOptions) check(h *Host) error {
	if !h.Prefix.IsValid() {
		return fmt.Errorf("host %s has no address", h.Name)
	}
	subnet := o.subnet(h)
	if err := checkDocPrefix(subnet); err != nil {
		return err
	}
	start, end := o.pool()
	if !subnet.Contains(start) || !subnet.Contains(end) {
		return fmt.Errorf("pool %s-%s is not in %s", start, end, subnet)
	}

	return nil
}

// expiry returns when l ends: its Expiry, or a day after now.
func (l Lease) expiry(now time.Time) time.Time {
	if l.Expiry.IsZero() {
		return now.Add(24 * time.Hour)
	}

	return l.Expiry
}

// colonHex writes b as lowercase hex bytes joined by colons.
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}

	return strings.Join(parts, ":")
}

// maskOf returns p's netmask in dotted-quad form.
func maskOf(p netip.Prefix) string {
	return net.IP(net.CIDRMask(p.Bits(), 32)).String()
}

// register records s so that ForTest can show its log when a test fails.
func (l *Lab) register(s Server) {
	l.mu.Lock()
	l.servers = append(l.servers, s)
	l.mu.Unlock()
}

// waitUDP67 polls until process p owns a UDP socket on port 67. It reads
// /proc/PID/net/udp, which lists the sockets of the namespace p is in, and
// matches the socket's inode against p's own descriptors, so that neither
// a socket of the caller's namespace (seen before `ip netns exec` has
// switched) nor one of another process can satisfy it. ctx bounds the
// wait; startTimeout when it has no deadline.
func waitUDP67(ctx context.Context, p *Process) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}

	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.Exited() {
			return fmt.Errorf("exited with status %d before listening", p.ExitCode())
		}
		ok, err := ownsUDPPort(p.PID(), 67)
		if err != nil && !p.Exited() {
			return err
		}
		if ok {
			return nil
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for UDP port 67: %w", ctx.Err())
		case <-p.Done():
		case <-tick.C:
		}
	}
}

// waitReady waits for p's UDP port 67 socket (waitUDP67), then until the
// text read returns holds marker: the line a program logs once it is
// ready to answer.
func waitReady(ctx context.Context, p *Process, read func() string, marker string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	if err := waitUDP67(ctx, p); err != nil {
		return err
	}

	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(read(), marker) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %q: %w", strings.TrimSpace(marker), ctx.Err())
		case <-p.Done():
			return fmt.Errorf("exited with status %d before it was ready", p.ExitCode())
		case <-tick.C:
		}
	}

	return nil
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}

	return strings.Join(lines, "\n")
}

// readOr returns the contents of path, or "" when it cannot be read.
func readOr(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}

	return string(data)
}

// StartServer starts program (ProgramDnsmasq, ProgramKea or ProgramDhcpd)
// in the host with opts, through StartDnsmasq, StartKea or StartDhcpd.
func (h *Host) StartServer(
	ctx context.Context,
	program string,
	opts ServerOptions,
) (Server, error) {
	var s Server
	var err error
	switch program {
	case ProgramDnsmasq:
		if err := opts.check(h); err != nil {
			return nil, fmt.Errorf("lab: dnsmasq on %s: %w", h.Name, err)
		}
		start, end := opts.pool()
		s, err = h.StartDnsmasq(ctx, DnsmasqConfig{
			Authoritative: opts.Authoritative,
			PoolStart:     start,
			PoolEnd:       end,
			LeaseTime:     opts.LeaseTime,
			Router:        opts.Router,
			DNS:           opts.DNS,
			Domain:        opts.Domain,
			Leases:        opts.Leases,
		})
	case ProgramKea:
		s, err = h.StartKea(ctx, KeaConfig{ServerOptions: opts})
	case ProgramDhcpd:
		s, err = h.StartDhcpd(ctx, DhcpdConfig{ServerOptions: opts})
	default:
		return nil, fmt.Errorf("lab: no server program %q", program)
	}
	if err != nil {
		// Not s: a nil *Kea in a Server is not a nil Server.
		return nil, err
	}

	return s, nil
}
