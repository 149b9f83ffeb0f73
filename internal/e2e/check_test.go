//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// Exit codes of leaseprobe check.
const (
	exitValid    = 0
	exitUsage    = 2
	exitInvalid  = 3
	exitNoAnswer = 4
	exitDisputed = 6
)

const leaseTime = 45 * time.Minute

// fullConfig is a non-authoritative dnsmasq holding macA's lease of
// leasedIP, with every option the ACK checks look for.
func fullConfig() lab.DnsmasqConfig {
	return lab.DnsmasqConfig{
		LeaseTime: leaseTime,
		Router:    router,
		DNS:       []netip.Addr{dns1, dns2},
		Domain:    domain,
		Leases:    leaseFor(macA, leasedIP),
	}
}

func TestKnownLeaseIsValid(t *testing.T) {
	t.Parallel()
	e := setup(t, fullConfig())
	srv := e.servers[0].Host

	before := time.Now()
	doc := e.runJSON(t, exitValid, "-m", macA.String(), "-a", leasedIP.String(), "-t", "1s")

	if doc.Verdict != "valid" {
		t.Errorf("verdict %q, want valid", doc.Verdict)
	}
	if doc.Tool.Name != "leaseprobe" {
		t.Errorf("tool.name %q, want leaseprobe", doc.Tool.Name)
	}
	if doc.Interface.Name != e.client.Iface || doc.Interface.MAC != e.client.MAC.String() {
		t.Errorf("interface %+v, want %s %s", doc.Interface, e.client.Iface, e.client.MAC)
	}
	req := doc.Request
	if req.MAC != macA.String() || req.IP != leasedIP.String() || req.Sent != 1 ||
		!req.Broadcast || req.ClientID != nil || req.Hostname != nil {
		t.Errorf("request %+v, want mac %s ip %s sent 1, broadcast, "+
			"no client id, no hostname", req, macA, leasedIP)
	}
	if doc.TimeoutMS != 1000 || doc.ElapsedMS < doc.TimeoutMS || doc.Interrupted {
		t.Errorf("timeout_ms %d elapsed_ms %d interrupted %v, want 1000, "+
			"at least the timeout, false", doc.TimeoutMS, doc.ElapsedMS, doc.Interrupted)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].Key != srv.Addr().String() ||
		doc.Servers[0].Verdict != "valid" {
		t.Errorf("servers %+v, want one: %s valid", doc.Servers, srv.Addr())
	}

	if len(doc.Replies) != 1 {
		t.Fatalf("%d replies, want 1: %+v", len(doc.Replies), doc.Replies)
	}
	r := doc.Replies[0]
	want := map[string]string{
		"type":            "ACK",
		"server":          srv.Addr().String(),
		"server_id":       srv.Addr().String(),
		"server_id_state": "present",
		"source_ip":       srv.Addr().String(),
		"source_mac":      srv.MAC.String(),
		"destination_mac": "ff:ff:ff:ff:ff:ff",
		"relay_ip":        "<null>",
		"your_ip":         leasedIP.String(),
		"subnet_mask":     "255.255.255.0",
		"routers":         router.String(),
		"dns_servers":     dns1.String() + "," + dns2.String(),
		"domain_name":     domain,
		"message":         "<null>",
		"lease_seconds":   "2700",
		"option 53":       "05",
		"option 54":       "c0000201",
		"option 51":       "00000a8c",
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
		"your_ip":         str(r.YourIP),
		"subnet_mask":     str(r.SubnetMask),
		"routers":         strings.Join(r.Routers, ","),
		"dns_servers":     strings.Join(r.DNSServers, ","),
		"domain_name":     str(r.DomainName),
		"message":         str(r.Message),
		"lease_seconds":   num(r.LeaseSeconds),
		"option 53":       r.Options["53"],
		"option 54":       r.Options["54"],
		"option 51":       r.Options["51"],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	if r.Hops != 0 || !r.Broadcast || r.Count != 1 {
		t.Errorf("reply hops %d broadcast %v count %d, want 0 true 1",
			r.Hops, r.Broadcast, r.Count)
	}
	if r.RenewalSeconds == nil || r.RebindingSeconds == nil ||
		*r.RenewalSeconds >= *r.RebindingSeconds || *r.RebindingSeconds >= 2700 {
		t.Errorf("renewal %s rebinding %s, want T1 < T2 < lease",
			num(r.RenewalSeconds), num(r.RebindingSeconds))
	}
	if r.ElapsedMS < 0 || r.ElapsedMS > doc.TimeoutMS {
		t.Errorf("reply elapsed_ms %d outside the timeout", r.ElapsedMS)
	}
	if r.ExpiresAt == nil {
		t.Errorf("expires_at is null")
	} else if exp, err := time.Parse(time.RFC3339Nano, *r.ExpiresAt); err != nil ||
		exp.Before(before.Add(leaseTime-time.Second)) ||
		exp.After(time.Now().Add(leaseTime+time.Second)) {
		t.Errorf("expires_at %s, want about now + %v", *r.ExpiresAt, leaseTime)
	}
	if len(r.Warnings) > 0 || len(doc.Warnings) > 0 {
		t.Logf("warnings: reply %q, probe %q", r.Warnings, doc.Warnings)
	}
}

func TestWrongAddressAuthoritativeIsInvalid(t *testing.T) {
	t.Parallel()
	cfg := fullConfig()
	cfg.Authoritative = true
	e := setup(t, cfg)
	srv := e.servers[0].Host

	doc := e.runJSON(t, exitInvalid, "-m", macA.String(), "-a", otherIP.String(), "-t", "1s")

	if doc.Verdict != "invalid" {
		t.Errorf("verdict %q, want invalid", doc.Verdict)
	}
	if len(doc.Replies) != 1 {
		t.Fatalf("%d replies, want 1: %+v", len(doc.Replies), doc.Replies)
	}
	r := doc.Replies[0]
	// dnsmasq 2.90 explains its NAK for a known client's other address
	// with exactly these words (option 56, no trailing NUL).
	if r.Type != "NAK" || str(r.Message) != "wrong address" ||
		str(r.ServerID) != srv.Addr().String() || r.YourIP != nil ||
		r.LeaseSeconds != nil {
		t.Errorf("reply type %s message %q server_id %s your_ip %s lease %s; "+
			"want NAK \"wrong address\" %s null null", r.Type, str(r.Message),
			str(r.ServerID), str(r.YourIP), num(r.LeaseSeconds), srv.Addr())
	}
	if len(doc.Servers) != 1 || doc.Servers[0].Verdict != "invalid" {
		t.Errorf("servers %+v, want one, invalid", doc.Servers)
	}
}

func TestUnknownClientNonAuthoritativeIsNoAnswer(t *testing.T) {
	t.Parallel()
	e := setup(t, fullConfig())

	doc := e.runJSON(t, exitNoAnswer, "-m", macB.String(), "-a", freeIP.String(), "-t", "1s")

	if doc.Verdict != "no-answer" {
		t.Errorf("verdict %q, want no-answer", doc.Verdict)
	}
	if doc.ElapsedMS < doc.TimeoutMS || doc.TimeoutMS != 1000 {
		t.Errorf("elapsed_ms %d timeout_ms %d, want elapsed >= timeout = 1000",
			doc.ElapsedMS, doc.TimeoutMS)
	}
	if len(doc.Replies) != 0 || len(doc.Servers) != 0 {
		t.Errorf("replies %+v servers %+v, want none", doc.Replies, doc.Servers)
	}
}

func TestTwoServersBothAck(t *testing.T) {
	t.Parallel()
	e := setup(t, fullConfig(), fullConfig())

	doc := e.runJSON(t, exitValid, "-m", macA.String(), "-a", leasedIP.String(), "-t", "1s")

	if doc.Verdict != "valid" {
		t.Errorf("verdict %q, want valid", doc.Verdict)
	}
	if len(doc.Servers) != 2 {
		t.Errorf("servers %+v, want two", doc.Servers)
	}
	for _, s := range doc.Servers {
		if s.Verdict != "valid" {
			t.Errorf("server %s verdict %s, want valid", s.Key, s.Verdict)
		}
	}

	// Each server's ACK, from its own MAC, with its own identifier.
	want := map[string]string{}
	for _, d := range e.servers {
		want[d.Host.Addr().String()] = d.Host.MAC.String()
	}
	got := map[string]string{}
	for _, r := range doc.Replies {
		if r.Type != "ACK" || str(r.YourIP) != leasedIP.String() {
			t.Errorf("reply %s from %s for %s, want ACK for %s",
				r.Type, str(r.ServerID), str(r.YourIP), leasedIP)
		}
		got[str(r.ServerID)] = r.SourceMAC
	}
	if len(doc.Replies) != 2 {
		t.Errorf("%d replies, want 2", len(doc.Replies))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server_id -> source_mac (-want +got):\n%s", diff)
	}
}

func TestAckAndNakFromDifferentServersIsDisputed(t *testing.T) {
	t.Parallel()
	acker := fullConfig()
	naker := fullConfig()
	naker.Authoritative = true
	naker.Leases = leaseFor(macA, otherIP)
	e := setup(t, acker, naker)

	doc := e.runJSON(t, exitDisputed, "-m", macA.String(), "-a", leasedIP.String(), "-t", "1s")

	if doc.Verdict != "disputed" {
		t.Errorf("verdict %q, want disputed", doc.Verdict)
	}
	verdicts := map[string]string{}
	for _, s := range doc.Servers {
		verdicts[s.Key] = s.Verdict
	}
	want := map[string]string{
		e.servers[0].Host.Addr().String(): "valid",
		e.servers[1].Host.Addr().String(): "invalid",
	}
	if diff := cmp.Diff(want, verdicts); diff != "" {
		t.Errorf("server verdicts (-want +got):\n%s", diff)
	}
	types := map[string]string{}
	for _, r := range doc.Replies {
		types[r.Server] = r.Type
	}
	wantTypes := map[string]string{
		e.servers[0].Host.Addr().String(): "ACK",
		e.servers[1].Host.Addr().String(): "NAK",
	}
	if len(doc.Replies) != 2 {
		t.Errorf("%d replies, want 2", len(doc.Replies))
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("reply type by server (-want +got):\n%s", diff)
	}
}

func TestRetriesFoldIdenticalAcks(t *testing.T) {
	t.Parallel()
	e := setup(t, fullConfig())

	doc := e.runJSON(t, exitValid, "-m", macA.String(), "-a", leasedIP.String(),
		"-t", "1.5s", "--retries", "2")

	if doc.Request.Sent != 3 {
		t.Errorf("request.sent %d, want 3", doc.Request.Sent)
	}
	if len(doc.Replies) != 1 {
		for i, r := range doc.Replies {
			t.Logf("reply %d: %s count %d elapsed %dms options %v",
				i, r.Type, r.Count, r.ElapsedMS, r.Options)
		}
		t.Fatalf("%d replies, want the 3 ACKs folded into 1", len(doc.Replies))
	}
	if r := doc.Replies[0]; r.Type != "ACK" || r.Count != 3 {
		t.Errorf("reply %s count %d, want ACK count 3", r.Type, r.Count)
	}

	// dnsmasq logs each request it answered: three, one xid.
	log := e.servers[0].Log()
	if n := strings.Count(log, "DHCPACK("); n != 3 {
		t.Errorf("dnsmasq logged %d ACKs, want 3", n)
	}
}

func TestJSONIsOneDocumentAndReportNamesVerdict(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		mac, ip string
		exit    int
		verdict string
	}{
		{"valid", macA.String(), leasedIP.String(), exitValid, "valid"},
		{"invalid", macA.String(), otherIP.String(), exitInvalid, "invalid"},
		{"no-answer", macB.String(), freeIP.String(), exitNoAnswer, "no-answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// Non-authoritative dnsmasq NAKs a known client's other
			// address all the same, and stays silent for an unknown one.
			e := setup(t, fullConfig())
			args := []string{"-m", c.mac, "-a", c.ip, "-t", "1s"}

			// runJSON checks that stdout is one JSON document and nothing
			// else, and the exit code.
			doc := e.runJSON(t, c.exit, args...)
			if doc.Verdict != c.verdict {
				t.Errorf("JSON verdict %q, want %q", doc.Verdict, c.verdict)
			}

			res := e.run(t, append(args, "--color", "never")...)
			out := string(res.Stdout)
			if res.ExitCode != c.exit {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
					res.ExitCode, c.exit, out, res.Stderr)
			}
			word := regexp.MustCompile(`(?i)(^|[^a-z-])` +
				regexp.QuoteMeta(c.verdict) + `($|[^a-z-])`)
			if !word.MatchString(out) {
				t.Errorf("report does not name the verdict %q:\n%s", c.verdict, out)
			}
			if strings.Contains(out, "\x1b[") {
				t.Errorf("report with --color never has escape codes:\n%q", out)
			}
		})
	}
}

func TestUsageErrorExitsTwoWithEmptyStdout(t *testing.T) {
	t.Parallel()
	e := setup(t)

	cases := [][]string{
		{"-m", macA.String(), "-a", "not-an-address"},
		{"-m", "not-a-mac", "-a", leasedIP.String()},
		{"-m", macA.String(), "-a", leasedIP.String(), "--client-id", "zz"},
		{"-m", macA.String(), "-a", leasedIP.String(), "--color", "sometimes"},
		{"-m", macA.String(), "-a", leasedIP.String(), "-t", "0s"},
	}
	for _, args := range cases {
		res := e.run(t, append(args, "--json")...)
		if res.ExitCode != exitUsage || len(res.Stdout) != 0 || len(res.Stderr) == 0 {
			t.Errorf("check %s: exit %d, stdout %q, stderr %q; "+
				"want 2, nothing on stdout, a message on stderr",
				strings.Join(args, " "), res.ExitCode, res.Stdout, res.Stderr)
		}
	}
}

// dnsmasq sends option 54 twice when it is also configured as an option;
// with two different addresses the reply has no usable server identifier
// and the server is named by the reply's IP source instead.
func TestDuplicatedServerIDFallsBackToSourceIP(t *testing.T) {
	t.Parallel()
	cfg := fullConfig()
	cfg.Extra = []string{"--dhcp-option=54,192.0.2.99"}
	e := setup(t, cfg)
	srv := e.servers[0].Host

	doc := e.runJSON(t, exitValid, "-m", macA.String(), "-a", leasedIP.String(), "-t", "1s")

	if len(doc.Replies) != 1 {
		t.Fatalf("%d replies, want 1", len(doc.Replies))
	}
	r := doc.Replies[0]
	if r.ServerID != nil || r.ServerIDState != "duplicated" ||
		r.Options["54"] != "c0000201c0000263" {
		t.Errorf("server_id %s state %s option 54 %s; want null, duplicated, "+
			"c0000201c0000263", str(r.ServerID), r.ServerIDState, r.Options["54"])
	}
	if r.Server != srv.Addr().String() || len(doc.Servers) != 1 ||
		doc.Servers[0].Key != srv.Addr().String() {
		t.Errorf("server key %q, servers %+v; want the source IP %s",
			r.Server, doc.Servers, srv.Addr())
	}
}

// An interrupted probe still reports the replies it has, says it was
// interrupted, and exits 130 (the binary's help: "130 interrupted").
func TestInterruptKeepsRepliesAndExits130(t *testing.T) {
	t.Parallel()
	e := setup(t, fullConfig())

	var stdout bytes.Buffer
	stderr := &watch{marker: "ACK from", seen: make(chan struct{})}
	args := []string{
		"check", "-i", e.client.Iface, "-m", macA.String(), "-a", leasedIP.String(),
		"-t", "20s", "--json", "-v",
	}
	p, err := e.client.Start(&stdout, stderr, probeBin, args...)
	if err != nil {
		t.Fatal(err)
	}

	// -v reports each reply as it is recorded; interrupt after the ACK.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	select {
	case <-stderr.seen:
	case <-p.Done():
		t.Fatalf("probe exited %d before any ACK:\n%s", p.ExitCode(), stderr.String())
	case <-ctx.Done():
		t.Fatalf("no ACK reported within 10s:\n%s", stderr.String())
	}
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("probe did not exit after SIGINT: %v", err)
	}

	if p.ExitCode() != 130 {
		t.Errorf("exit %d, want 130\nstderr:\n%s", p.ExitCode(), stderr.String())
	}
	raw := singleDocument(t, stdout.Bytes())
	checkContract(t, raw)
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Interrupted || doc.ElapsedMS >= doc.TimeoutMS || doc.ExitCode != 130 {
		t.Errorf("interrupted %v elapsed_ms %d timeout_ms %d exit_code %d; "+
			"want true, less than the timeout, 130",
			doc.Interrupted, doc.ElapsedMS, doc.TimeoutMS, doc.ExitCode)
	}
	if len(doc.Replies) != 1 || doc.Replies[0].Type != "ACK" || doc.Verdict != "valid" {
		t.Errorf("verdict %s, replies %+v; want valid with the one ACK",
			doc.Verdict, doc.Replies)
	}
}

// watch is an io.Writer that keeps what is written and closes seen once
// marker has appeared in it.
type watch struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
	closed bool
}

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.buf.Write(p)
	if !w.closed && strings.Contains(w.buf.String(), w.marker) {
		w.closed = true
		close(w.seen)
	}

	return len(p), nil
}

func (w *watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()

	return w.buf.String()
}
