//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// The server programs of the interoperability matrix.
const (
	dnsmasq = lab.ProgramDnsmasq
	kea     = lab.ProgramKea
	dhcpd   = lab.ProgramDhcpd
)

var serverPrograms = []string{dnsmasq, kea, dhcpd}

// Addresses of the matrix besides those in main_test.go. otherIP is
// macB's lease in every server of the matrix.
var (
	// macU is a client no server has heard of.
	macU = mustMAC("02:00:00:00:dd:04")
	// noPoolIP is in the servers' subnet but in none of their pools.
	noPoolIP = netip.MustParseAddr("192.0.2.210")
	// offNetIP is on no subnet any server serves.
	offNetIP = netip.MustParseAddr("198.51.100.50")
)

// interopTimeout is how long each probe here listens: every server
// answers within milliseconds.
const interopTimeout = "700ms"

// broadcastMAC is where dnsmasq and dhcpd send their replies.
const broadcastMAC = "ff:ff:ff:ff:ff:ff"

// serverOptions is the same setup for every program: the options
// fullConfig gives dnsmasq, and the leases given.
func serverOptions(auth bool, leases ...lab.Lease) lab.ServerOptions {
	return lab.ServerOptions{
		Authoritative: auth,
		LeaseTime:     leaseTime,
		Router:        router,
		DNS:           []netip.Addr{dns1, dns2},
		Domain:        domain,
		Leases:        leases,
	}
}

// newEnv builds a lab with the probe's client host and no server.
func newEnv(t *testing.T) *env {
	t.Helper()
	if buildErr != nil {
		lab.Require(t, lab.ProgramKea, lab.ProgramDhcpd, lab.ProgramRelay)
		t.Fatalf("leaseprobe did not build: %v", buildErr)
	}

	l := lab.ForTest(t, lab.ProgramKea, lab.ProgramDhcpd, lab.ProgramRelay)
	client, err := l.AddClient("client")
	if err != nil {
		t.Fatal(err)
	}

	return &env{lab: l, client: client}
}

// startServer adds a server host to the Main segment and starts program
// on it.
func (e *env) startServer(t *testing.T, program string,
	opts lab.ServerOptions) lab.Server {
	t.Helper()

	n := len(e.lab.Servers()) + 1
	h, err := e.lab.AddServer(fmt.Sprintf("server%d", n))
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.StartServer(t.Context(), program, opts)
	if err != nil {
		t.Fatal(err)
	}

	return s
}

// hostOf returns the host a server runs in: the Host field of each kind
// of server.
func hostOf(s lab.Server) *lab.Host {
	switch s := s.(type) {
	case *lab.Dnsmasq:
		return s.Host
	case *lab.Kea:
		return s.Host
	case *lab.Dhcpd:
		return s.Host
	case *lab.Relay:
		return s.Host
	}
	panic(fmt.Sprintf("unknown server %T", s))
}

// outcome writes what a probe saw the way the matrix does: the verdict,
// then each reply's type with its message, if any, in arrival order.
func outcome(doc *document) string {
	var parts []string
	for _, r := range doc.Replies {
		s := r.Type
		if r.Message != nil {
			s += fmt.Sprintf(" %q", *r.Message)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return doc.Verdict
	}

	return doc.Verdict + ": " + strings.Join(parts, ", ")
}

// exitFor is the exit code that goes with an outcome's verdict.
func exitFor(outcome string) int {
	verdict, _, _ := strings.Cut(outcome, ":")
	switch verdict {
	case "valid":
		return exitValid
	case "invalid":
		return exitInvalid
	case "no-answer":
		return exitNoAnswer
	case "disputed":
		return exitDisputed
	}
	panic("no exit code for outcome " + outcome)
}

// cell is what one program answers, not authoritative and authoritative.
type cell struct{ plain, auth string }

// The outcomes are written as outcome() writes them.
const (
	valid    = "valid: ACK"
	silent   = "no-answer"
	nak      = "invalid: NAK" // a NAK without a message
	wrongAdr = `invalid: NAK "wrong address"`
	inUse    = `invalid: NAK "address in use"`
	wrongNet = `invalid: NAK "wrong network"`
	notAvail = `invalid: NAK "requested address not available"`
)

// matrixRows is the interoperability matrix: each server program, not
// authoritative and authoritative, freshly started with two leases (macA
// holds leasedIP, macB holds otherIP) in 192.0.2.0/24 with the pool
// .20-.200, asked by one INIT-REBOOT request. Started from the table in
// FIELD-NOTES.md and pinned to what the servers really do.
var matrixRows = []struct {
	name string
	mac  net.HardwareAddr
	ip   netip.Addr
	want map[string]cell
	// report: also check that the human report of a refusal or of
	// silence points at --client-id.
	report bool
}{
	{
		name: "A asks for its lease",
		mac:  macA, ip: leasedIP,
		want: map[string]cell{
			dnsmasq: {valid, valid},
			kea:     {valid, valid},
			dhcpd:   {valid, valid},
		},
	},
	{
		name: "A asks for a free pool address",
		mac:  macA, ip: freeIP,
		want: map[string]cell{
			dnsmasq: {wrongAdr, wrongAdr},
			kea:     {nak, nak},
			dhcpd:   {valid, valid},
		},
	},
	{
		name: "A asks for an address in no pool",
		mac:  macA, ip: noPoolIP,
		want: map[string]cell{
			dnsmasq: {wrongAdr, wrongAdr},
			kea:     {nak, nak},
			dhcpd:   {silent, silent},
		},
	},
	{
		name: "A asks for an address off the subnet",
		mac:  macA, ip: offNetIP,
		want: map[string]cell{
			dnsmasq: {wrongAdr, wrongAdr},
			kea:     {nak, nak},
			dhcpd:   {silent, nak}, // this NAK of dhcpd's has no message
		},
	},
	{
		// Not in FIELD-NOTES' table.
		name: "A asks for B's lease",
		mac:  macA, ip: otherIP,
		want: map[string]cell{
			dnsmasq: {wrongAdr, wrongAdr},
			kea:     {nak, nak},
			dhcpd:   {notAvail, notAvail},
		},
	},
	{
		name: "unknown MAC asks for A's lease",
		mac:  macU, ip: leasedIP,
		want: map[string]cell{
			dnsmasq: {silent, inUse},
			kea:     {silent, nak},
			dhcpd:   {notAvail, notAvail},
		},
		report: true,
	},
	{
		name: "unknown MAC asks for a free pool address",
		mac:  macU, ip: freeIP,
		want: map[string]cell{
			dnsmasq: {silent, valid},
			kea:     {silent, nak},
			dhcpd:   {valid, valid},
		},
	},
	{
		name: "unknown MAC asks for an address off the subnet",
		mac:  macU, ip: offNetIP,
		want: map[string]cell{
			dnsmasq: {silent, wrongNet},
			kea:     {silent, nak},
			dhcpd:   {silent, nak},
		},
	},
}

// column names a matrix column.
func column(program string, auth bool) string {
	if auth {
		return program + " auth"
	}

	return program
}

// columns lists the matrix's columns: each program, not authoritative and
// authoritative.
func columns() []string {
	var cols []string
	for _, p := range serverPrograms {
		cols = append(cols, column(p, false), column(p, true))
	}

	return cols
}

// forEachColumn runs f in a parallel subtest for each column, with the
// outcome c gives for it.
func forEachColumn(t *testing.T, c map[string]cell,
	f func(t *testing.T, program string, auth bool, want string)) {
	t.Helper()

	for _, program := range serverPrograms {
		for _, auth := range []bool{false, true} {
			want := c[program].plain
			if auth {
				want = c[program].auth
			}
			t.Run(column(program, auth), func(t *testing.T) {
				t.Parallel()
				f(t, program, auth, want)
			})
		}
	}
}

// observed collects outcomes from parallel subtests, by row and column.
type observed struct {
	mu   sync.Mutex
	cell map[[2]string]string
}

func (o *observed) set(row, col, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()

	if o.cell == nil {
		o.cell = map[[2]string]string{}
	}
	o.cell[[2]string{row, col}] = outcome
}

// table renders the outcomes as a Markdown table, rows by columns.
func (o *observed) table(rows, cols []string) string {
	o.mu.Lock()
	defer o.mu.Unlock()

	var b strings.Builder
	b.WriteString("| request | " + strings.Join(cols, " | ") + " |\n|---")
	b.WriteString(strings.Repeat("|---", len(cols)) + "|\n")
	for _, r := range rows {
		b.WriteString("| " + r)
		for _, c := range cols {
			got, ok := o.cell[[2]string{r, c}]
			if !ok {
				got = "(not run)"
			}
			b.WriteString(" | " + strings.ReplaceAll(got, "|", `\|`))
		}
		b.WriteString(" |\n")
	}

	return b.String()
}

// TestInteropMatrix runs every row of matrixRows against every server
// program, authoritative and not, each in a lab of its own, and logs the
// matrix it observed (go test -v -run TestInteropMatrix ./internal/e2e).
func TestInteropMatrix(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramKea, lab.ProgramDhcpd)

	var rows []string
	for _, r := range matrixRows {
		rows = append(rows, r.name)
	}
	var seen observed
	t.Cleanup(func() {
		t.Logf("observed matrix:\n%s", seen.table(rows, columns()))
	})

	for _, row := range matrixRows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			forEachColumn(t, row.want, func(t *testing.T, program string,
				auth bool, want string) {
				got := runMatrixCell(t, program, auth, row.mac, row.ip, row.report)
				seen.set(row.name, column(program, auth), got)
				if got != want {
					t.Errorf("got %s, want %s", got, want)
				}
			})
		})
	}
}

// runMatrixCell starts program with the matrix's two leases, probes mac
// and ip once, checks every reply's fields against the setup, and returns
// the outcome. With report, a probe that is not valid runs once more for
// the human report, which must point at --client-id.
func runMatrixCell(t *testing.T, program string, auth bool,
	mac net.HardwareAddr, ip netip.Addr, report bool) string {
	t.Helper()

	e := newEnv(t)
	srv := e.startServer(t, program, serverOptions(auth,
		lab.Lease{MAC: macA, IP: leasedIP},
		lab.Lease{MAC: macB, IP: otherIP}))

	args := []string{"-m", mac.String(), "-a", ip.String(), "-t", interopTimeout}
	doc := e.probe(t, args...)
	for _, r := range doc.Replies {
		checkDirectReply(t, program, r, hostOf(srv), e.client, ip)
	}
	if report && doc.Verdict != "valid" {
		checkReportSuggestsClientID(t, e, args)
	}

	return outcome(doc)
}

// checkDirectReply checks a reply that came straight from a server on
// the probe's segment: who sent it, where to, and, for an ACK, that the
// options are the ones serverOptions configured.
func checkDirectReply(t *testing.T, program string, r reply, srv, client *lab.Host,
	ip netip.Addr) {
	t.Helper()

	// Kea answers to the Ethernet source of the request, the probe
	// interface, even with the broadcast flag set; dnsmasq and dhcpd
	// broadcast.
	dst := broadcastMAC
	if program == kea {
		dst = client.MAC.String()
	}
	want := map[string]string{
		"server":          srv.Addr().String(),
		"server_id":       srv.Addr().String(),
		"server_id_state": "present",
		"source_ip":       srv.Addr().String(),
		"source_mac":      srv.MAC.String(),
		"destination_mac": dst,
		"broadcast":       fmt.Sprint(dst == broadcastMAC),
		"relay_ip":        "<null>",
		"hops":            "0",
	}
	got := map[string]string{
		"server":          r.Server,
		"server_id":       str(r.ServerID),
		"server_id_state": r.ServerIDState,
		"source_ip":       str(r.SourceIP),
		"source_mac":      r.SourceMAC,
		"destination_mac": r.DestinationMAC,
		"broadcast":       fmt.Sprint(r.Broadcast),
		"relay_ip":        str(r.RelayIP),
		"hops":            fmt.Sprint(r.Hops),
	}
	if r.Type == "ACK" {
		addACKFields(want, got, program, r, ip)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s reply from %s (-want +got):\n%s", r.Type, program, diff)
	}
}

// addACKFields adds what an ACK from program must carry under
// serverOptions to the want and got maps of a reply check.
func addACKFields(want, got map[string]string, program string, r reply,
	ip netip.Addr) {
	lease := int64(leaseTime / time.Second)
	want["your_ip"] = ip.String()
	want["lease_seconds"] = fmt.Sprint(lease)
	want["subnet_mask"] = "255.255.255.0"
	want["routers"] = router.String()
	want["dns_servers"] = dns1.String() + "," + dns2.String()
	want["domain_name"] = domain

	got["your_ip"] = str(r.YourIP)
	got["lease_seconds"] = num(r.LeaseSeconds)
	// dhcpd sends the time from now to the end it gave the lease, and a
	// second may tick over between the two.
	if program == dhcpd && r.LeaseSeconds != nil && *r.LeaseSeconds == lease-1 {
		got["lease_seconds"] = fmt.Sprint(lease)
	}
	got["subnet_mask"] = str(r.SubnetMask)
	got["routers"] = strings.Join(r.Routers, ",")
	got["dns_servers"] = strings.Join(r.DNSServers, ",")
	got["domain_name"] = str(r.DomainName)
}

// probe runs check with --json, accepting whatever exit code comes as long
// as it matches the verdict, after runJSON's checks of the document.
func (e *env) probe(t *testing.T, args ...string) *document {
	t.Helper()

	res := e.run(t, append(args, "--json")...)
	raw := singleDocument(t, res.Stdout)
	checkContract(t, raw)

	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, raw)
	}
	if doc.ExitCode != res.ExitCode {
		t.Errorf("exit_code %d, process exited %d", doc.ExitCode, res.ExitCode)
	}
	if want := exitFor(outcome(&doc)); res.ExitCode != want {
		t.Errorf("exit %d for %s, want %d", res.ExitCode, outcome(&doc), want)
	}

	return &doc
}

// TestInteropDisputed puts two different server programs on one segment,
// one holding the client's lease (it ACKs) and one refusing it (it NAKs),
// and makes each reply arrive first in turn: the later server is stopped
// (SIGSTOP) until the probe has reported the first reply, so the request
// waits in its socket. The verdict must be disputed either way.
func TestInteropDisputed(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramKea, lab.ProgramDhcpd)

	// Each NAKer is set up to refuse macA's request for leasedIP in the
	// way the matrix found: dnsmasq and Kea hold macA's lease of another
	// address, dhcpd has leasedIP leased to macB.
	ackLease := lab.Lease{MAC: macA, IP: leasedIP}
	nakLease := map[string]lab.Lease{
		dnsmasq: {MAC: macA, IP: otherIP},
		kea:     {MAC: macA, IP: otherIP},
		dhcpd:   {MAC: macB, IP: leasedIP},
	}
	nakMessage := map[string]string{
		dnsmasq: ` "wrong address"`,
		kea:     "",
		dhcpd:   ` "requested address not available"`,
	}
	pairs := []struct{ acker, naker string }{
		{dnsmasq, kea},
		{kea, dhcpd},
		{dhcpd, dnsmasq},
	}
	for _, pair := range pairs {
		for _, ackFirst := range []bool{true, false} {
			name := pair.acker + " ACKs, " + pair.naker + " NAKs, "
			if ackFirst {
				name += "ACK first"
			} else {
				name += "NAK first"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				acker := e.startServer(t, pair.acker, serverOptions(false, ackLease))
				naker := e.startServer(t, pair.naker,
					serverOptions(false, nakLease[pair.naker]))

				first, later, firstType := acker, naker, "ACK"
				if !ackFirst {
					first, later, firstType = naker, acker, "NAK"
				}
				doc := e.probeInOrder(t, later, firstType+" from ",
					"-m", macA.String(), "-a", leasedIP.String(), "-t", "1s")

				ack := "ACK"
				nak := "NAK" + nakMessage[pair.naker]
				want := "disputed: " + ack + ", " + nak
				if !ackFirst {
					want = "disputed: " + nak + ", " + ack
				}
				if got := outcome(doc); got != want {
					t.Errorf("got %s, want %s", got, want)
				}
				verdicts := map[string]string{}
				for _, s := range doc.Servers {
					verdicts[s.Key] = s.Verdict
				}
				wantVerdicts := map[string]string{
					hostOf(acker).Addr().String(): "valid",
					hostOf(naker).Addr().String(): "invalid",
				}
				if diff := cmp.Diff(wantVerdicts, verdicts); diff != "" {
					t.Errorf("server verdicts (-want +got):\n%s", diff)
				}
				if len(doc.Replies) == 2 &&
					doc.Replies[0].Server != hostOf(first).Addr().String() {
					t.Errorf("first reply from %s, want %s",
						doc.Replies[0].Server, hostOf(first).Addr())
				}
				for _, r := range doc.Replies {
					srv := acker
					if r.Type == "NAK" {
						srv = naker
					}
					checkDirectReply(t, srv.Program(), r, hostOf(srv), e.client,
						leasedIP)
				}
			})
		}
	}
}

// probeInOrder stops the server later, runs check with --json -v ARGS in
// the background, waits until the probe has logged firstMark (such as
// "ACK from "), lets later go on, and returns the document once the probe
// has ended. The exit code must be that of disputed.
func (e *env) probeInOrder(t *testing.T, later lab.Server, firstMark string,
	args ...string) *document {
	t.Helper()

	p := later.Process()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, the server must run again, or it cannot be
	// stopped by SIGTERM when the lab closes.
	defer p.Signal(syscall.SIGCONT)
	waitState(t, p.PID(), 'T')

	var stdout bytes.Buffer
	stderr := &watch{marker: firstMark, seen: make(chan struct{})}
	full := append([]string{"check", "-i", e.client.Iface, "--json", "-v"}, args...)
	probe, err := e.client.Start(&stdout, stderr, probeBin, full...)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	select {
	case <-stderr.seen:
	case <-probe.Done():
		t.Fatalf("probe ended before %q:\n%s", firstMark, stderr.String())
	case <-ctx.Done():
		t.Fatalf("no %q within %v:\n%s", firstMark, runTimeout, stderr.String())
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := probe.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("$ leaseprobe %s  (exit %d)", strings.Join(full, " "), probe.ExitCode())

	raw := singleDocument(t, stdout.Bytes())
	checkContract(t, raw)
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if probe.ExitCode() != exitDisputed || doc.ExitCode != exitDisputed {
		t.Errorf("exit %d, exit_code %d, want %d\nstderr:\n%s", probe.ExitCode(),
			doc.ExitCode, exitDisputed, stderr.String())
	}

	return &doc
}

// waitState waits until process pid is in state (as /proc/PID/stat
// shows it: 'T' for stopped).
func waitState(t *testing.T, pid int, state byte) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.LastIndexByte(data, ')'); i > 0 && i+2 < len(data) &&
			data[i+2] == state {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("pid %d not in state %c after 5s", pid, state)
}

// The relay's two sides: giaddr is its address on the client segment,
// which is also the router the servers announce.
var (
	serverNet     = netip.MustParsePrefix("203.0.113.0/24")
	relayDownMAC  = mustMAC("02:00:00:00:02:01")
	relayDownAddr = router
	relayUpMAC    = mustMAC("02:00:00:00:02:02")
	relayUpAddr   = netip.MustParseAddr("203.0.113.254")
)

// relayEnv is a lab of two segments: the probe's client and a relay on
// Main (192.0.2.0/24), the relay and the servers on a server segment
// (203.0.113.0/24).
type relayEnv struct {
	*env
	relay   *lab.Host
	servers *lab.Segment
	up      *lab.Link
}

func newRelayEnv(t *testing.T) *relayEnv {
	t.Helper()

	e := &relayEnv{env: newEnv(t)}
	var err error
	e.servers, err = e.lab.AddSegment("servers", serverNet)
	if err != nil {
		t.Fatal(err)
	}
	e.relay, err = e.lab.AddHost("relay", lab.HostConfig{
		MAC:    relayDownMAC,
		Prefix: netip.PrefixFrom(relayDownAddr, 24),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.up, err = e.relay.AddLink(lab.HostConfig{
		Segment: e.servers,
		MAC:     relayUpMAC,
		Prefix:  netip.PrefixFrom(relayUpAddr, 24),
	})
	if err != nil {
		t.Fatal(err)
	}

	return e
}

// startFarServer adds a server to the server segment, with a route back to
// the client segment through the relay, and starts program on it serving
// the client segment's subnet.
func (e *relayEnv) startFarServer(t *testing.T, program string,
	opts lab.ServerOptions) lab.Server {
	t.Helper()

	n := len(e.lab.Servers()) + 1
	h, err := e.servers.AddServer(fmt.Sprintf("server%d", n))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddRoute(lab.Subnet, relayUpAddr); err != nil {
		t.Fatal(err)
	}
	opts.Subnet = lab.Subnet
	s, err := h.StartServer(t.Context(), program, opts)
	if err != nil {
		t.Fatal(err)
	}

	return s
}

// startRelay starts dhcrelay between the two segments, relaying to the
// servers given.
func (e *relayEnv) startRelay(t *testing.T, servers ...lab.Server) {
	t.Helper()

	var addrs []netip.Addr
	for _, s := range servers {
		addrs = append(addrs, hostOf(s).Addr())
	}
	_, err := e.relay.StartRelay(t.Context(), lab.RelayConfig{
		Up:      e.up.Iface,
		Servers: addrs,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkRelayedReply checks a reply that came back through the relay: it
// is the relay's frame (its MAC and client-side address) carrying the
// server's identifier, giaddr and one hop.
func checkRelayedReply(t *testing.T, r reply, srv lab.Server, ip netip.Addr) {
	t.Helper()

	addr := hostOf(srv).Addr().String()
	want := map[string]string{
		"type":            "ACK",
		"server":          addr,
		"server_id":       addr,
		"server_id_state": "present",
		"source_ip":       relayDownAddr.String(),
		"source_mac":      relayDownMAC.String(),
		"destination_mac": broadcastMAC,
		"relay_ip":        relayDownAddr.String(),
		"hops":            "1",
	}
	got := map[string]string{
		"type":            r.Type,
		"server":          r.Server,
		"server_id":       str(r.ServerID),
		"server_id_state": r.ServerIDState,
		"source_ip":       str(r.SourceIP),
		"source_mac":      r.SourceMAC,
		"destination_mac": r.DestinationMAC,
		"relay_ip":        str(r.RelayIP),
		"hops":            fmt.Sprint(r.Hops),
	}
	addACKFields(want, got, srv.Program(), r, ip)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reply relayed from %s (-want +got):\n%s", srv.Name(), diff)
	}
}

// TestInteropRelay probes through dhcrelay: each server program alone
// behind it, then two different programs behind the same relay, which
// must come out as two servers told apart by their server identifiers.
func TestInteropRelay(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramKea, lab.ProgramDhcpd, lab.ProgramRelay)

	cases := [][]string{{dnsmasq}, {kea}, {dhcpd}, {kea, dhcpd}}
	for _, programs := range cases {
		t.Run(strings.Join(programs, " and "), func(t *testing.T) {
			t.Parallel()
			e := newRelayEnv(t)
			var servers []lab.Server
			for _, p := range programs {
				servers = append(servers, e.startFarServer(t, p,
					serverOptions(false, lab.Lease{MAC: macA, IP: leasedIP})))
			}
			e.startRelay(t, servers...)

			doc := e.probe(t, "-m", macA.String(), "-a", leasedIP.String(),
				"-t", interopTimeout)

			want := "valid: " + strings.Repeat("ACK, ", len(programs)-1) + "ACK"
			if got := outcome(doc); got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
			wantKeys := map[string]string{}
			for _, s := range servers {
				wantKeys[hostOf(s).Addr().String()] = "valid"
			}
			gotKeys := map[string]string{}
			for _, s := range doc.Servers {
				gotKeys[s.Key] = s.Verdict
			}
			if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
				t.Errorf("servers (-want +got):\n%s", diff)
			}
			for _, r := range doc.Replies {
				for _, s := range servers {
					if hostOf(s).Addr().String() == r.Server {
						checkRelayedReply(t, r, s, leasedIP)
					}
				}
			}
		})
	}
}

// clientIDRows are the probes of a lease stored with client identifier
// 01+macA, and what each server answers; the columns as in matrixRows.
var clientIDRows = []struct {
	name string
	args []string
	want map[string]cell
}{
	{
		name: "no client-id",
		want: map[string]cell{
			dnsmasq: {valid, valid},
			kea:     {valid, valid},
			dhcpd:   {notAvail, notAvail},
		},
	},
	{
		name: "client-id mac",
		args: []string{"--client-id", "mac"},
		want: map[string]cell{
			dnsmasq: {valid, valid},
			kea:     {valid, valid},
			dhcpd:   {valid, valid},
		},
	},
	{
		name: "client-id hex",
		args: []string{"--client-id", "01:" + macA.String()},
		want: map[string]cell{
			dnsmasq: {valid, valid},
			kea:     {valid, valid},
			dhcpd:   {valid, valid},
		},
	},
	{
		name: "another client-id",
		// 0xff, IAID, DUID: what systemd-networkd sends.
		args: []string{"--client-id", "ff000000010001000000000200000000aa01"},
		want: map[string]cell{
			dnsmasq: {silent, inUse},
			kea:     {silent, nak}, // FIELD-NOTES: silent; authoritative, it NAKs
			dhcpd:   {notAvail, notAvail},
		},
	},
}

// TestInteropClientID probes a lease each server stored with a client
// identifier (dnsmasq's client-id field, Kea's client_id column, dhcpd's
// uid), without one, with the right one in both spellings, and with
// another one. When a probe without a client identifier is refused or
// met with silence, the report must point at --client-id.
func TestInteropClientID(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramKea, lab.ProgramDhcpd)

	var rows []string
	for _, r := range clientIDRows {
		rows = append(rows, r.name)
	}
	var seen observed
	t.Cleanup(func() {
		t.Logf("observed with a lease stored with client-id 01+MAC:\n%s",
			seen.table(rows, columns()))
	})

	lease := lab.Lease{MAC: macA, IP: leasedIP, ClientID: append([]byte{1}, macA...)}
	for _, row := range clientIDRows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			forEachColumn(t, row.want, func(t *testing.T, program string,
				auth bool, want string) {
				e := newEnv(t)
				srv := e.startServer(t, program, serverOptions(auth, lease))

				args := append([]string{"-m", macA.String(), "-a", leasedIP.String(),
					"-t", interopTimeout}, row.args...)
				doc := e.probe(t, args...)
				got := outcome(doc)
				seen.set(row.name, column(program, auth), got)
				if got != want {
					t.Errorf("got %s, want %s", got, want)
				}
				for _, r := range doc.Replies {
					checkDirectReply(t, program, r, hostOf(srv), e.client, leasedIP)
				}
				if len(row.args) == 0 && doc.Verdict != "valid" {
					checkReportSuggestsClientID(t, e, args)
				}
			})
		})
	}
}

// checkReportSuggestsClientID runs a probe without client identifier
// again for the human report, and checks that the report, of a NAK or of
// silence, points at the client identifier as a possible cause.
func checkReportSuggestsClientID(t *testing.T, e *env, args []string) {
	t.Helper()

	res := e.run(t, append(slices.Clone(args), "--color", "never")...)
	out := string(res.Stdout)
	if !strings.Contains(out, "--client-id") &&
		!strings.Contains(out, "client identifier") {
		t.Errorf("report of a probe without client identifier that was not "+
			"valid does not mention it:\n%s", out)
	}
}

// TestInteropKeaRepliesToProbeInterface: Kea sends its replies to the
// Ethernet source of the request, the probe interface's MAC, even though
// the request asks for a broadcast. The probe must see them, and report
// the destination as it was on the wire: not broadcast.
func TestInteropKeaRepliesToProbeInterface(t *testing.T) {
	t.Parallel()
	lab.Require(t, lab.ProgramKea)

	for _, c := range []struct {
		name, ip, want string
	}{
		{"ACK", leasedIP.String(), valid},
		{"NAK", freeIP.String(), nak},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			srv := hostOf(e.startServer(t, kea, serverOptions(false,
				lab.Lease{MAC: macA, IP: leasedIP})))
			capture, err := e.client.Capture(t.Context())
			if err != nil {
				t.Fatal(err)
			}

			doc := e.probe(t, "-m", macA.String(), "-a", c.ip, "-t", interopTimeout)
			frames, err := capture.Frames()
			if err != nil {
				t.Fatal(err)
			}

			if got := outcome(doc); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			r := doc.Replies[0]
			if r.DestinationMAC != e.client.MAC.String() || r.Broadcast {
				t.Errorf("reported destination %s broadcast %v, want %s false",
					r.DestinationMAC, r.Broadcast, e.client.MAC)
			}
			var onWire []string
			for _, f := range frames {
				d := decode(f.Data)
				if d.udp == nil || !bytes.Equal(d.eth.SrcMAC, srv.MAC) {
					continue
				}
				onWire = append(onWire, fmt.Sprintf("%s %s:%d",
					net.HardwareAddr(d.eth.DstMAC), d.ip4.DstIP, d.udp.DstPort))
			}
			want := []string{e.client.MAC.String() + " 255.255.255.255:68"}
			if diff := cmp.Diff(want, onWire); diff != "" {
				t.Errorf("Kea's frames on the probe interface (-want +got):\n%s", diff)
			}
		})
	}
}
