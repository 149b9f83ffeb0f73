//go:build linux

package lab

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Segment is one link layer of the lab: a bridge of its own in the lab's
// bridge namespace. New makes the first one (Main), on Subnet; AddSegment
// adds more, so that a relay can join a client segment to a server
// segment with nothing but the relay between them.
type Segment struct {
	// Name is the name given to AddSegment; "main" for the first segment.
	Name string
	// Bridge is the bridge's interface name inside the lab's BridgeNS.
	Bridge string
	// Prefix is the segment's IPv4 subnet. Servers added with AddServer
	// get addresses in it; nothing checks that other hosts keep to it.
	Prefix netip.Prefix

	// index is 0 for Main and counts up in the order segments are added;
	// nservers counts the servers added to the segment. Both are guarded
	// by lab.mu.
	index    int
	nservers int
	lab      *Lab
}

// docRanges are the only IPv4 ranges a lab hands out or routes: TEST-NET-1,
// TEST-NET-2 and TEST-NET-3 of RFC 5737, and the benchmarking range of
// RFC 2544.
var docRanges = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	// Set aside for benchmarking by RFC 2544: room for a thousand leases.
	netip.MustParsePrefix("198.18.0.0/15"),
}

// checkDocPrefix refuses a prefix that reaches outside the documentation
// ranges, so that no lab address or route can ever match a real network.
func checkDocPrefix(p netip.Prefix) error {
	for _, r := range docRanges {
		if p.Bits() >= r.Bits() && r.Contains(p.Addr()) {
			return nil
		}
	}

	return fmt.Errorf("lab: %s is outside the documentation ranges %v", p, docRanges)
}

// Main returns the lab's first segment, the one New made; hosts added
// without a segment join it.
func (l *Lab) Main() *Segment {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.segments[0]
}

// AddSegment adds a segment: a new bridge, on subnet prefix, which must lie
// in a documentation range (RFC 5737). Hosts join it through
// HostConfig.Segment, or through Host.AddLink for a second interface.
func (l *Lab) AddSegment(name string, prefix netip.Prefix) (*Segment, error) {
	if !hostNameRe.MatchString(name) {
		return nil, fmt.Errorf("lab: segment name %q: want 1-12 of [a-z0-9], "+
			"starting with a letter", name)
	}
	if err := checkDocPrefix(prefix); err != nil {
		return nil, err
	}
	if err := l.checkOpen(); err != nil {
		return nil, err
	}

	l.mu.Lock()
	for _, s := range l.segments {
		if s.Name == name {
			l.mu.Unlock()
			return nil, fmt.Errorf("lab: segment %s already exists", name)
		}
	}
	index := len(l.segments)
	l.mu.Unlock()

	seg := &Segment{
		Name:   name,
		Bridge: "lp" + l.ID + "b" + strconv.Itoa(index),
		Prefix: prefix.Masked(),
	}
	if err := refuseHostInterface(seg.Bridge); err != nil {
		return nil, err
	}
	if err := l.addBridge(seg); err != nil {
		return nil, fmt.Errorf("lab: add segment %s: %w", name, err)
	}
	l.logf("lab: segment %s: bridge %s, %s", name, seg.Bridge, seg.Prefix)

	return seg, nil
}

// ServerAddr returns the address of the segment's n-th server (1-based):
// host number n of its subnet.
func (s *Segment) ServerAddr(n int) netip.Addr {
	a := s.Prefix.Masked().Addr().As4()
	a[3] += byte(n)

	return netip.AddrFrom4(a)
}

// ServerMAC returns the MAC of the segment's n-th server (1-based). On
// Main it is ServerMAC(n); later segments put their index in byte 3.
func (s *Segment) ServerMAC(n int) net.HardwareAddr {
	mac := ServerMAC(n)
	mac[3] = byte(s.index)

	return mac
}

// AddServer adds the segment's n-th server host: address ServerAddr(n) and
// MAC ServerMAC(n), n counting from 1 in the order the segment's servers
// are added.
func (s *Segment) AddServer(name string) (*Host, error) {
	s.lab.mu.Lock()
	s.nservers++
	n := s.nservers
	s.lab.mu.Unlock()

	return s.lab.AddHost(name, HostConfig{
		Segment: s,
		MAC:     s.ServerMAC(n),
		Prefix:  netip.PrefixFrom(s.ServerAddr(n), s.Prefix.Bits()),
	})
}

// Link is one more interface of a host, joined to a segment by a veth pair
// of its own: a relay has one on the client segment and one on the
// server segment.
type Link struct {
	// Host is the host whose namespace holds the interface.
	Host *Host
	// Segment is the segment the interface is on.
	Segment *Segment
	// Iface is the interface's name inside the host's namespace.
	Iface string
	// MAC is Iface's hardware address.
	MAC net.HardwareAddr
	// Prefix is Iface's address and subnet; invalid when it has none.
	Prefix netip.Prefix

	port string
}

// Addr returns the link's IPv4 address; the zero Addr when it has none.
func (k *Link) Addr() netip.Addr {
	return k.Prefix.Addr()
}

// AddLink gives the host another interface, on cfg.Segment (Main when
// nil), with cfg's MAC and address. It is up when AddLink returns.
func (h *Host) AddLink(cfg HostConfig) (*Link, error) {
	if len(cfg.MAC) != 6 {
		return nil, fmt.Errorf("lab: link of %s: need a 6-byte MAC, got %q",
			h.Name, cfg.MAC)
	}
	seg := cfg.Segment
	if seg == nil {
		seg = h.lab.Main()
	}

	iface, port := h.lab.linkNames()
	k := &Link{
		Host:    h,
		Segment: seg,
		Iface:   iface,
		MAC:     cfg.MAC,
		Prefix:  cfg.Prefix,
		port:    port,
	}
	if err := h.lab.wire(h.NS, k); err != nil {
		return nil, fmt.Errorf("lab: add link to %s: %w", h.Name, err)
	}
	h.lab.logf("lab: host %s: link %s on %s, %s %s", h.Name, k.Iface, seg.Name,
		k.MAC, addrText(k.Prefix))

	return k, nil
}

// AddRoute adds a route to dst via the gateway via inside the host's
// namespace: a server behind a relay needs one back to the relay's client
// segment. Both must lie in the documentation ranges.
func (h *Host) AddRoute(dst netip.Prefix, via netip.Addr) error {
	if err := checkDocPrefix(dst); err != nil {
		return err
	}
	if err := checkDocPrefix(netip.PrefixFrom(via, 32)); err != nil {
		return err
	}

	return h.lab.ipIn(h.NS, "route", "add", dst.Masked().String(), "via", via.String())
}

// linkNames reserves a fresh pair of names: the interface inside a host's
// namespace and the bridge port.
func (l *Lab) linkNames() (iface, port string) {
	l.mu.Lock()
	l.links++
	k := strconv.Itoa(l.links)
	l.mu.Unlock()

	return "lp" + l.ID + "h" + k, "lp" + l.ID + "p" + k
}

func addrText(p netip.Prefix) string {
	if !p.IsValid() {
		return "no IPv4 address"
	}

	return p.String()
}
