package probe

import (
	"net"
	"net/netip"
	"sort"
	"time"
)

// MessageType is the DHCP message type of a collected reply.
type MessageType string

// The reply types the probe collects (RFC 2132 §9.6).
const (
	ACK MessageType = "ACK"
	NAK MessageType = "NAK"
	// Malformed marks a reply that answers our request (op, xid and chaddr
	// match) but whose message type could not be read.
	Malformed MessageType = "MALFORMED"
)

// Verdict summarises all replies of a probe.
type Verdict string

// The verdicts, in the words the JSON output and the report use.
const (
	// Valid means at least one ACK for the requested address, and no NAK
	// and no ACK for another address.
	Valid Verdict = "valid"
	// Invalid means NAKs (or ACKs for another address) and no ACK for
	// the requested one.
	Invalid Verdict = "invalid"
	// NoAnswer means no ACK and no NAK arrived before the timeout. It does
	// not mean the address is free or the lease invalid.
	NoAnswer Verdict = "no-answer"
	// Conflict means an ACK arrived but another host answers ARP for the
	// address.
	Conflict Verdict = "conflict"
	// Disputed means the binding was both acknowledged and refused, as a
	// rule by different servers.
	Disputed Verdict = "disputed"
)

// ServerIDState tells how option 54 (server identifier) appeared in a reply.
type ServerIDState string

// The states of option 54 in a reply.
const (
	// ServerIDPresent is one well-formed 4-byte option 54.
	ServerIDPresent ServerIDState = "present"
	// ServerIDAbsent means the reply carried no option 54.
	ServerIDAbsent ServerIDState = "absent"
	// ServerIDMalformed means option 54 was not 4 bytes long.
	ServerIDMalformed ServerIDState = "malformed"
	// ServerIDDuplicated means option 54 appeared more than once.
	ServerIDDuplicated ServerIDState = "duplicated"
)

// Option is one DHCP option as it appeared on the wire. Options that appear
// more than once are kept once each, in the order they arrived.
type Option struct {
	Code uint8
	Data []byte
}

// Reply is one DHCP reply that answered the probe's request. Identical
// replies from the same source are folded into one with Count > 1.
type Reply struct {
	Type MessageType

	// ServerID is option 54 when ServerIDState is present (or duplicated
	// with every copy equal); otherwise it is the zero Addr.
	ServerID      netip.Addr
	ServerIDState ServerIDState
	// ServerIDRaw holds the bytes of option 54 when they are not one
	// well-formed address.
	ServerIDRaw []byte

	SourceIP  netip.Addr
	SourceMAC net.HardwareAddr
	// DestinationMAC is the Ethernet destination the reply was sent to;
	// nil when it was read from a capture that did not record it.
	DestinationMAC net.HardwareAddr
	// RelayIP is giaddr; the zero Addr when giaddr was 0.0.0.0.
	RelayIP netip.Addr
	Hops    uint8
	YourIP  netip.Addr

	// Elapsed is the time from the first request sent to the first copy of
	// this reply.
	Elapsed time.Duration
	// ReceivedAt is the wall-clock time of the first copy.
	ReceivedAt time.Time
	Count      int

	// LeaseTime, RenewalTime and RebindingTime are options 51, 58 and 59;
	// nil when absent.
	LeaseTime     *time.Duration
	RenewalTime   *time.Duration
	RebindingTime *time.Duration

	SubnetMask netip.Addr
	Routers    []netip.Addr
	DNSServers []netip.Addr
	DomainName string
	// Message is option 56 with trailing NUL bytes removed; nil if absent
	// or empty.
	Message *string
	// DomainSearch is option 119 (RFC 3397).
	DomainSearch []string
	// ClasslessRoutes is option 121 (RFC 3442).
	ClasslessRoutes []ClasslessRoute
	// RelayAgent is option 82 as the server echoed it (RFC 3046); nil if
	// absent.
	RelayAgent *RelayAgentInfo
	// ClientID is option 61 as the server echoed it (RFC 6842); nil if
	// absent.
	ClientID []byte
	// NextServer is siaddr, the server for the next boot stage; the zero
	// Addr when 0.0.0.0.
	NextServer netip.Addr
	// ServerName and BootFile are the sname and file fields, when they
	// hold text rather than options (RFC 2132 §9.3).
	ServerName string
	BootFile   string

	// OtherAddress marks an ACK whose yiaddr is not the requested address
	// (or is 0.0.0.0): it does not confirm the binding asked about.
	OtherAddress bool

	// Options lists every option in arrival order, pad and end excluded.
	Options []Option
	// Warnings are findings about this reply, one sentence each.
	Warnings []string
}

// ExpiresAt returns the absolute expiry of the lease: the arrival time plus
// the lease time. It reports false when the reply carried no lease time or
// an infinite one (0xffffffff, RFC 2131 §3.3).
func (r *Reply) ExpiresAt() (time.Time, bool) {
	if r.LeaseTime == nil || *r.LeaseTime == InfiniteLease {
		return time.Time{}, false
	}

	return r.ReceivedAt.Add(*r.LeaseTime), true
}

// InfiniteLease is the lease time 0xffffffff seconds, which RFC 2131 §3.3
// defines as infinity.
const InfiniteLease = time.Duration(0xffffffff) * time.Second

// ServerKey names the server that sent a reply: option 54 when it is one
// address, else the IP source, else the Ethernet source.
func (r *Reply) ServerKey() string {
	if r.ServerID.IsValid() {
		return r.ServerID.String()
	}
	if r.SourceIP.IsValid() && !r.SourceIP.IsUnspecified() {
		return r.SourceIP.String()
	}

	return r.SourceMAC.String()
}

// ClasslessRoute is one route of option 121.
type ClasslessRoute struct {
	Destination netip.Prefix
	Router      netip.Addr
}

// RelayAgentInfo is option 82: what a relay agent added on the way.
type RelayAgentInfo struct {
	// CircuitID and RemoteID are sub-options 1 and 2; nil if absent.
	CircuitID []byte
	RemoteID  []byte
	// SubOptions lists every sub-option, in code order.
	SubOptions []Option
}

// Request describes what the probe sent.
type Request struct {
	Interface    string
	InterfaceMAC net.HardwareAddr
	ClientMAC    net.HardwareAddr
	IP           netip.Addr
	XID          uint32
	// ClientID is option 61 as sent; nil when none was sent.
	ClientID  []byte
	Hostname  string
	Broadcast bool
	// First is set when the probe stopped at the first ACK or NAK.
	First bool
	// Sent counts the requests put on the wire (1 + retransmissions).
	Sent int
}

// Result is everything a probe observed.
type Result struct {
	Request   Request
	Timeout   time.Duration
	StartedAt time.Time
	Elapsed   time.Duration
	// Interrupted is true when the probe was cancelled before the timeout.
	Interrupted bool
	Replies     []*Reply
	// Skipped counts frames that were considered and set aside, by reason.
	Skipped map[string]int
	// ARP is what the ARP probe saw; nil when none was sent.
	ARP *ARPResult
	// Warnings are findings about the probe as a whole.
	Warnings []string
}

// Verdict computes the verdict from the replies and the ARP probe; it
// does not depend on the order in which replies arrived. An ACK is
// overruled by an ARP conflict: a real client would decline the address
// (RFC 2131 §4.4.1). A NAK or a dispute stays what it is.
func (r *Result) Verdict() Verdict {
	v := r.dhcpVerdict()
	if v == Valid && r.ARP != nil && r.ARP.Status() == ARPConflict {
		return Conflict
	}

	return v
}

// dhcpVerdict is the verdict of the DHCP replies alone.
func (r *Result) dhcpVerdict() Verdict {
	// An ACK for another address refuses the binding asked about as
	// surely as a NAK does.
	var acks, naks int
	for _, rep := range r.Replies {
		switch {
		case rep.Type == ACK && !rep.OtherAddress:
			acks++
		case rep.Type == NAK, rep.Type == ACK:
			naks++
		}
	}

	switch {
	case acks > 0 && naks > 0:
		return Disputed
	case acks > 0:
		return Valid
	case naks > 0:
		return Invalid
	default:
		return NoAnswer
	}
}

// Server groups the replies of one server.
type Server struct {
	// Key is the value of Reply.ServerKey shared by all replies here.
	Key     string
	Replies []*Reply
}

// Verdict returns the verdict of this server's replies alone.
func (s Server) Verdict() Verdict {
	r := Result{Replies: s.Replies}

	return r.dhcpVerdict()
}

// Servers groups the replies by server, in order of first arrival.
func (r *Result) Servers() []Server {
	var out []Server
	index := map[string]int{}
	for _, rep := range r.Replies {
		k := rep.ServerKey()
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Server{Key: k})
		}
		out[i].Replies = append(out[i].Replies, rep)
	}
	for _, s := range out {
		sort.SliceStable(s.Replies, func(a, b int) bool {
			return s.Replies[a].Elapsed < s.Replies[b].Elapsed
		})
	}

	return out
}
