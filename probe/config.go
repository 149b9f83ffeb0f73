package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Config says what to probe for. Validate it with Validate before Run.
type Config struct {
	// Interface is the name of the probing interface, for the report.
	Interface string
	// InterfaceMAC is the Ethernet source of every frame sent.
	InterfaceMAC net.HardwareAddr
	// ClientMAC is chaddr: the client whose lease is probed.
	ClientMAC net.HardwareAddr
	// IP is the leased address to confirm (option 50).
	IP netip.Addr
	// Timeout is how long replies are collected after the first send.
	Timeout time.Duration
	// Retries is how many times the request is sent again, spread evenly
	// over the timeout, with the same xid.
	Retries int
	// ClientID is option 61; nil sends none.
	ClientID []byte
	// Hostname is option 12; empty sends none.
	Hostname string
	// Broadcast sets the BOOTP broadcast flag (RFC 2131 §4.1).
	Broadcast bool
	// XID is the transaction id; 0 picks a random one with crypto/rand.
	XID uint32
	// ARPProbes is how many RFC 5227 ARP probes for IP to send, spread
	// over the timeout; 0 sends none.
	ARPProbes int
	// First stops listening at the first ACK or NAK, instead of waiting
	// the whole timeout for every server. A server that would disagree
	// may then go unseen.
	First bool

	// Now returns the current time; nil uses time.Now.
	Now func() time.Time
	// Logf receives verbose notes, one line each; nil discards them.
	Logf func(format string, args ...any)
	// Record, when set, receives every frame sent and every frame read,
	// with the time it was sent or read, for a packet capture. The frame
	// is only valid during the call.
	Record func(frame []byte, at time.Time)
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}

	return time.Now()
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// MaxTimeout is the longest collection time a probe accepts.
const MaxTimeout = 5 * time.Minute

// MinInterval is the shortest time a probe listens, and the shortest gap
// between two of its requests: less is a burst, not a probe.
const MinInterval = 10 * time.Millisecond

// MaxRetries bounds retransmissions: more than this many requests inside
// one timeout would be a flood, not a probe.
const MaxRetries = 20

// MaxARPProbes bounds the ARP probes of one run.
const MaxARPProbes = 20

// ConfigError reports a Config value that cannot be probed for. Field is
// the name of the command-line flag that sets it.
type ConfigError struct {
	Field string
	// Problem says what is wrong and what would be right.
	Problem string
}

func (e *ConfigError) Error() string {
	return e.Field + ": " + e.Problem
}

// Validate checks that c describes a probe that can be sent.
func (c *Config) Validate() error {
	if err := ValidateClientMAC(c.ClientMAC); err != nil {
		return &ConfigError{Field: "mac", Problem: err.Error()}
	}

	switch {
	case c.Retries < 0 || c.Retries > MaxRetries:
		return &ConfigError{Field: "retries",
			Problem: fmt.Sprintf("must be from 0 to %d", MaxRetries)}
	case c.Timeout >= MinInterval &&
		c.Timeout/time.Duration(c.Retries+1) < MinInterval:
		return &ConfigError{Field: "retries", Problem: fmt.Sprintf(
			"%d requests in %s are less than %s apart; use fewer "+
				"retries or a longer --timeout", c.Retries+1, c.Timeout,
			MinInterval)}
	case c.ClientID != nil && (len(c.ClientID) < 2 || len(c.ClientID) > 255):
		// RFC 2132 §9.14: type byte plus at least one byte of identifier.
		return &ConfigError{Field: "client-id",
			Problem: "must be 2 to 255 bytes (a type byte and the identifier)"}
	case len(c.Hostname) > 255:
		return &ConfigError{Field: "hostname",
			Problem: "must be at most 255 bytes"}
	case c.First && c.ARPProbes > 0:
		// RFC 5227 §2.1.1: the probe's answer is the silence over the
		// whole wait; stopping at the first DHCP reply would cut it short.
		return &ConfigError{Field: "first", Problem: "cannot go with " +
			"--arp, whose probe listens for the whole timeout; leave " +
			"out one of them"}
	}

	return c.ValidateARP()
}

// ValidateARP checks what an ARP probe needs: the interface, the address,
// the timeout and the probe count. The client MAC is optional there.
func (c *Config) ValidateARP() error {
	if len(c.InterfaceMAC) != 6 || isZero(c.InterfaceMAC) {
		return &ConfigError{Field: "interface", Problem: ErrNoEthernet.Error()}
	}
	if err := ValidateIP(c.IP); err != nil {
		return &ConfigError{Field: "ip", Problem: err.Error()}
	}
	if c.ClientMAC != nil {
		if err := ValidateClientMAC(c.ClientMAC); err != nil {
			return &ConfigError{Field: "mac", Problem: err.Error()}
		}
	}

	switch {
	case c.Timeout < MinInterval:
		return &ConfigError{Field: "timeout", Problem: fmt.Sprintf(
			"must be at least %s, e.g. 3s", MinInterval)}
	case c.Timeout > MaxTimeout:
		return &ConfigError{Field: "timeout",
			Problem: "must be at most 5m"}
	case c.ARPProbes < 0 || c.ARPProbes > MaxARPProbes:
		return &ConfigError{Field: "arp-count",
			Problem: fmt.Sprintf("must be from 1 to %d", MaxARPProbes)}
	}

	return nil
}

// ValidateClientMAC checks that mac can stand as a client hardware
// address: 6 bytes, not all zero, not multicast or broadcast.
func ValidateClientMAC(mac net.HardwareAddr) error {
	switch {
	case len(mac) != 6:
		return fmt.Errorf("must be a 6-byte Ethernet address like "+
			"02:00:00:00:00:01, got %d bytes", len(mac))
	case isZero(mac):
		return errors.New("must not be all zero")
	case mac[0]&1 == 1:
		return errors.New("must be a unicast address " +
			"(the first byte's lowest bit clear), not multicast or broadcast")
	}

	return nil
}

// ValidateIP checks that ip is an IPv4 unicast address a lease can hold.
// Its messages describe ip without repeating it.
func ValidateIP(ip netip.Addr) error {
	switch {
	case !ip.IsValid():
		return errors.New("is not an IPv4 address; write it like 192.0.2.50")
	case !ip.Is4():
		return errors.New("is not an IPv4 address; DHCPv4 leases are " +
			"IPv4, like 192.0.2.50")
	case ip.IsUnspecified():
		return errors.New("is the unspecified address; give the leased " +
			"address, like 192.0.2.50")
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return errors.New("is the broadcast address; give a unicast " +
			"address, like 192.0.2.50")
	case ip.IsMulticast():
		return errors.New("is multicast; give a unicast address")
	case ip.IsLoopback():
		return errors.New("is a loopback address; give the leased address")
	case ip.As4()[0] >= 240:
		return errors.New("is reserved (240.0.0.0/4); give a unicast address")
	}

	return nil
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}

	return true
}
