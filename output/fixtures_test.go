package output

import (
	"net"
	"net/netip"
	"time"

	"github.com/leaseprobe/leaseprobe/probe"
)

// The fixtures use documentation addresses (RFC 5737) and MACs (RFC 7042).

var testStart = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}

	return m
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}

	return out
}

func dur(d time.Duration) *time.Duration {
	return &d
}

func request(clientID []byte, hostname string, broadcast bool) probe.Request {
	return probe.Request{
		Interface:    "eth0",
		InterfaceMAC: mac("00:00:5e:00:53:aa"),
		ClientMAC:    mac("00:00:5e:00:53:10"),
		IP:           netip.MustParseAddr("192.0.2.10"),
		XID:          0x1a2b3c,
		ClientID:     clientID,
		Hostname:     hostname,
		Broadcast:    broadcast,
		Sent:         1,
	}
}

// ack is a complete ACK from 192.0.2.1 that arrived after elapsed.
func ack(elapsed time.Duration) *probe.Reply {
	return &probe.Reply{
		Type:           probe.ACK,
		ServerID:       netip.MustParseAddr("192.0.2.1"),
		ServerIDState:  probe.ServerIDPresent,
		SourceIP:       netip.MustParseAddr("192.0.2.1"),
		SourceMAC:      mac("00:00:5e:00:53:01"),
		DestinationMAC: mac("00:00:5e:00:53:10"),
		YourIP:         netip.MustParseAddr("192.0.2.10"),
		Elapsed:        elapsed,
		ReceivedAt:     testStart.Add(elapsed),
		Count:          1,
		LeaseTime:      dur(12 * time.Hour),
		RenewalTime:    dur(6 * time.Hour),
		RebindingTime:  dur(10*time.Hour + 30*time.Minute),
		SubnetMask:     netip.MustParseAddr("255.255.255.0"),
		Routers:        addrs("192.0.2.254"),
		DNSServers:     addrs("192.0.2.53", "192.0.2.54"),
		DomainName:     "example.net",
		Options: []probe.Option{
			{Code: 53, Data: []byte{5}},
			{Code: 54, Data: []byte{192, 0, 2, 1}},
			{Code: 51, Data: []byte{0x00, 0x00, 0xa8, 0xc0}},
			{Code: 58, Data: []byte{0x00, 0x00, 0x54, 0x60}},
			{Code: 59, Data: []byte{0x00, 0x00, 0x93, 0xa8}},
			{Code: 1, Data: []byte{255, 255, 255, 0}},
			{Code: 3, Data: []byte{192, 0, 2, 254}},
			{Code: 6, Data: []byte{192, 0, 2, 53, 192, 0, 2, 54}},
			{Code: 15, Data: []byte("example.net")},
		},
	}
}

// nak is a NAK from server after elapsed, with an optional message.
func nak(server string, elapsed time.Duration, msg *string) *probe.Reply {
	id := netip.MustParseAddr(server)
	opts := []probe.Option{
		{Code: 53, Data: []byte{6}},
		{Code: 54, Data: id.AsSlice()},
	}
	if msg != nil {
		opts = append(opts, probe.Option{Code: 56, Data: []byte(*msg)})
	}

	return &probe.Reply{
		Type:           probe.NAK,
		ServerID:       id,
		ServerIDState:  probe.ServerIDPresent,
		SourceIP:       id,
		SourceMAC:      mac("00:00:5e:00:53:02"),
		DestinationMAC: mac("ff:ff:ff:ff:ff:ff"),
		Elapsed:        elapsed,
		ReceivedAt:     testStart.Add(elapsed),
		Count:          1,
		Message:        msg,
		Options:        opts,
	}
}

func validResult() *probe.Result {
	return &probe.Result{
		Request:   request(nil, "", false),
		Timeout:   3 * time.Second,
		StartedAt: testStart,
		Elapsed:   3 * time.Second,
		Replies:   []*probe.Reply{ack(4200 * time.Microsecond)},
	}
}

func disputedResult() *probe.Result {
	msg := "requested address not available"
	relay := netip.MustParseAddr("198.51.100.1")

	a := ack(12345 * time.Microsecond)
	a.RelayIP, a.Hops = relay, 1
	a.DestinationMAC = mac("ff:ff:ff:ff:ff:ff")
	a.Count = 2

	n := nak("192.0.2.2", 9800*time.Microsecond, &msg)
	n.RelayIP, n.Hops = relay, 1
	n.SourceIP = relay
	n.SourceMAC = mac("00:00:5e:00:53:fe")

	req := request([]byte{1, 0, 0, 0x5e, 0, 0x53, 0x10}, "printer-3", true)
	req.Sent = 2

	return &probe.Result{
		Request:   req,
		Timeout:   5 * time.Second,
		StartedAt: testStart,
		Elapsed:   5*time.Second + 400*time.Microsecond,
		Replies:   []*probe.Reply{n, a},
		Skipped:   map[string]int{"other-xid": 2, "bad-length": 1},
	}
}

func noAnswerResult() *probe.Result {
	return &probe.Result{
		Request:   request(nil, "", false),
		Timeout:   3 * time.Second,
		StartedAt: testStart,
		Elapsed:   3 * time.Second,
	}
}

func nakNoServerIDResult() *probe.Result {
	msg := "wrong network"
	n := nak("192.0.2.2", 2*time.Millisecond, &msg)
	n.ServerID = netip.Addr{}
	n.ServerIDState = probe.ServerIDAbsent
	n.Options = append(n.Options[:1], n.Options[2:]...)
	n.Warnings = []string{"NAK carries no server identifier (option 54)"}

	return &probe.Result{
		Request:   request(nil, "", false),
		Timeout:   3 * time.Second,
		StartedAt: testStart,
		Elapsed:   3 * time.Second,
		Replies:   []*probe.Reply{n},
	}
}

func duplicatedServerIDResult() *probe.Result {
	a := ack(7 * time.Millisecond)
	a.ServerID = netip.Addr{}
	a.ServerIDState = probe.ServerIDDuplicated
	a.ServerIDRaw = []byte{192, 0, 2, 1, 192, 0, 2, 3}
	a.SourceIP = netip.MustParseAddr("192.0.2.3")
	a.LeaseTime = dur(probe.InfiniteLease)
	a.RenewalTime, a.RebindingTime = nil, nil
	a.Options = []probe.Option{
		{Code: 53, Data: []byte{5}},
		{Code: 54, Data: []byte{192, 0, 2, 1}},
		{Code: 51, Data: []byte{0xff, 0xff, 0xff, 0xff}},
		{Code: 54, Data: []byte{192, 0, 2, 3}},
	}
	a.Routers, a.DNSServers, a.DomainName = nil, nil, ""
	a.SubnetMask = netip.Addr{}
	a.Warnings = []string{
		"option 54 appears 2 times with different values",
	}

	bad := &probe.Reply{
		Type:           probe.Malformed,
		ServerIDState:  probe.ServerIDMalformed,
		ServerIDRaw:    []byte{192, 0, 2},
		SourceIP:       netip.MustParseAddr("192.0.2.9"),
		SourceMAC:      mac("00:00:5e:00:53:09"),
		DestinationMAC: mac("00:00:5e:00:53:10"),
		Elapsed:        11 * time.Millisecond,
		ReceivedAt:     testStart.Add(11 * time.Millisecond),
		Count:          1,
		Options:        []probe.Option{{Code: 54, Data: []byte{192, 0, 2}}},
		Warnings:       []string{"reply has no message type (option 53)"},
	}

	return &probe.Result{
		Request:   request(nil, "", false),
		Timeout:   3 * time.Second,
		StartedAt: testStart,
		Elapsed:   3 * time.Second,
		Replies:   []*probe.Reply{a, bad},
	}
}

func interruptedResult() *probe.Result {
	return &probe.Result{
		Request:     request([]byte("lab-7"), "", false),
		Timeout:     10 * time.Second,
		StartedAt:   testStart,
		Elapsed:     1250 * time.Millisecond,
		Interrupted: true,
		Skipped:     map[string]int{"not-dhcp": 4},
		Warnings:    []string{"eth0 reports no carrier"},
	}
}

// goldenCase is one result rendered to testdata/NAME.json and NAME.txt.
type goldenCase struct {
	name     string
	res      *probe.Result
	exitCode int
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "valid", res: validResult(), exitCode: 0},
		{name: "disputed", res: disputedResult(), exitCode: 6},
		{name: "no-answer", res: noAnswerResult(), exitCode: 4},
		{name: "nak-no-server-id", res: nakNoServerIDResult(), exitCode: 3},
		{name: "arp-owner", res: arpOwnerResult(), exitCode: 0},
		{name: "relayed-extras", res: extrasResult(), exitCode: 0},
		{name: "arp-conflict", res: arpConflictResult(), exitCode: 5},
		{name: "duplicated-server-id", res: duplicatedServerIDResult()},
		{name: "interrupted", res: interruptedResult(), exitCode: 130},
	}
}

func arpOwnerResult() *probe.Result {
	res := validResult()
	res.ARP = &probe.ARPResult{
		ProbesSent: 3,
		Responders: []*probe.ARPResponder{{MAC: mac("00:00:5e:00:53:10"),
			Kind: probe.KindOwner, Elapsed: 1500 * time.Microsecond, Count: 3}},
		Ignored: map[string]int{probe.ARPIgnoreOwn: 3},
	}

	return res
}

func arpConflictResult() *probe.Result {
	res := validResult()
	res.ARP = &probe.ARPResult{
		ProbesSent: 3,
		Responders: []*probe.ARPResponder{
			{MAC: mac("00:00:5e:00:53:aa"), Kind: probe.KindConflict,
				Elapsed: 900 * time.Microsecond, Count: 2},
			{MAC: mac("00:00:5e:00:53:bb"), Kind: probe.KindProbe,
				Elapsed: 1200 * time.Millisecond, Count: 1},
		},
		Ignored: map[string]int{probe.ARPIgnoreOwn: 3,
			probe.ARPIgnoreUnrelated: 1, probe.ARPIgnoreMalformed: 1},
	}

	return res
}

func extrasResult() *probe.Result {
	res := validResult()
	r := res.Replies[0]
	r.RelayIP = netip.MustParseAddr("198.51.100.1")
	r.Hops = 1
	r.RelayAgent = &probe.RelayAgentInfo{
		CircuitID: []byte("eth1/3"),
		RemoteID:  []byte{0x0a, 0x0b},
		SubOptions: []probe.Option{{Code: 1, Data: []byte("eth1/3")},
			{Code: 2, Data: []byte{0x0a, 0x0b}}},
	}
	r.DomainSearch = []string{"example.net", "lab.example.net"}
	r.ClasslessRoutes = []probe.ClasslessRoute{{
		Destination: netip.MustParsePrefix("10.0.0.0/8"),
		Router:      netip.MustParseAddr("192.0.2.254")}}
	r.ClientID = []byte{1, 0, 0, 0x5e, 0, 0x53, 0x10}
	r.NextServer = netip.MustParseAddr("192.0.2.5")
	r.BootFile = "pxelinux.0"

	return res
}
