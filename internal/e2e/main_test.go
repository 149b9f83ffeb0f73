//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// probeBin is the leaseprobe built by TestMain; buildErr is set instead when
// the build failed. workDir holds what the tests build, and TestMain
// removes it.
var (
	probeBin string
	buildErr error
	workDir  string
)

// defaultParallel is how many scenarios run at once unless -parallel is
// given. They spend nearly all their time waiting for a probe's timeout,
// so more of them than there are CPUs (go test's default) can overlap.
const defaultParallel = "6"

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		explicit = explicit || f.Name == "test.parallel"
	})
	if !explicit {
		flag.Set("test.parallel", defaultParallel)
	}

	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "leaseprobe-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	workDir = dir
	probeBin, buildErr = build(dir)

	return m.Run()
}

// build compiles cmd/leaseprobe from the module root into dir.
func build(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}

	out := filepath.Join(dir, "leaseprobe")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/leaseprobe")
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/leaseprobe: %w\n%s", err, output)
	}

	return out, nil
}

// moduleRoot finds the directory holding go.mod, upwards from here.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Addresses and MACs shared by the scenarios. The leased client's MAC is
// not the probe interface's: the probe asks on behalf of another client.
var (
	macA = mustMAC("02:00:00:00:aa:01")
	macB = mustMAC("02:00:00:00:bb:02")

	leasedIP = netip.MustParseAddr("192.0.2.50")
	otherIP  = netip.MustParseAddr("192.0.2.60")
	freeIP   = netip.MustParseAddr("192.0.2.77")
	router   = netip.MustParseAddr("192.0.2.254")
	dns1     = netip.MustParseAddr("192.0.2.53")
	dns2     = netip.MustParseAddr("192.0.2.54")
)

const domain = "lab.test"

func mustMAC(s string) net.HardwareAddr {
	mac, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}

	return mac
}

// leaseFor is a one-lease list for dnsmasq's lease file.
func leaseFor(mac net.HardwareAddr, ip netip.Addr) []lab.Lease {
	return []lab.Lease{{MAC: mac, IP: ip}}
}

// env is one scenario: a lab with a client and one host per server.
type env struct {
	lab     *lab.Lab
	client  *lab.Host
	servers []*lab.Dnsmasq
}

// setup builds a lab with a client and a dnsmasq per config, the n-th on
// server host n (address 192.0.2.n).
func setup(t testing.TB, configs ...lab.DnsmasqConfig) *env {
	t.Helper()
	if buildErr != nil {
		lab.Require(t)
		t.Fatalf("leaseprobe did not build: %v", buildErr)
	}

	l := lab.ForTest(t)
	e := &env{lab: l}

	var err error
	e.client, err = l.AddClient("client")
	if err != nil {
		t.Fatal(err)
	}
	for i, cfg := range configs {
		h, err := l.AddServer(fmt.Sprintf("server%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		d, err := h.StartDnsmasq(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		e.servers = append(e.servers, d)
	}

	return e
}

// runTimeout bounds one run of the binary; probes here last about a second.
const runTimeout = 30 * time.Second

// run runs `leaseprobe check -i <probe interface> ARGS...` in the client's
// namespace.
func (e *env) run(t *testing.T, args ...string) *lab.RunResult {
	t.Helper()

	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()

	full := append([]string{"check", "-i", e.client.Iface}, args...)
	res, err := e.client.Run(ctx, probeBin, full...)
	if err != nil {
		t.Fatalf("leaseprobe %s: %v", strings.Join(full, " "), err)
	}
	t.Logf("$ leaseprobe %s  (exit %d, %v)", strings.Join(full, " "),
		res.ExitCode, res.Elapsed.Round(time.Millisecond))

	return res
}

// runJSON runs check with --json and decodes the document, after checking
// that stdout holds exactly one JSON document, that it has every field the
// schema documents, and that the exit status is want.
func (e *env) runJSON(t *testing.T, want int, args ...string) *document {
	t.Helper()

	res := e.run(t, append(args, "--json")...)
	if res.ExitCode != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s",
			res.ExitCode, want, res.Stdout, res.Stderr)
	}

	raw := singleDocument(t, res.Stdout)
	checkContract(t, raw)

	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, raw)
	}
	if doc.ExitCode != res.ExitCode {
		t.Errorf("exit_code %d, process exited %d", doc.ExitCode, res.ExitCode)
	}

	return &doc
}

// singleDocument returns the one JSON value in out, failing the test when
// out holds anything else besides white space.
func singleDocument(t *testing.T, out []byte) json.RawMessage {
	t.Helper()

	dec := json.NewDecoder(bytes.NewReader(out))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	trailing := out[dec.InputOffset():]
	if len(bytes.TrimSpace(trailing)) > 0 {
		t.Fatalf("stdout has more after the JSON document: %q", trailing)
	}

	return raw
}

// document is the JSON output, schema version 1, as documented; only what
// the tests look at.
type document struct {
	SchemaVersion int `json:"schema_version"`
	Tool          struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"tool"`
	StartedAt string `json:"started_at"`
	Interface struct {
		Name string `json:"name"`
		MAC  string `json:"mac"`
	} `json:"interface"`
	Request struct {
		MAC       string  `json:"mac"`
		IP        string  `json:"ip"`
		XID       string  `json:"xid"`
		ClientID  *string `json:"client_id"`
		Hostname  *string `json:"hostname"`
		Broadcast bool    `json:"broadcast"`
		Sent      int     `json:"sent"`
	} `json:"request"`
	TimeoutMS   int64  `json:"timeout_ms"`
	ElapsedMS   int64  `json:"elapsed_ms"`
	Interrupted bool   `json:"interrupted"`
	Verdict     string `json:"verdict"`
	ExitCode    int    `json:"exit_code"`
	Servers     []struct {
		Key     string `json:"key"`
		Verdict string `json:"verdict"`
	} `json:"servers"`
	Replies  []reply         `json:"replies"`
	Skipped  map[string]int  `json:"skipped"`
	ARP      json.RawMessage `json:"arp"`
	Warnings []string        `json:"warnings"`
}

type reply struct {
	Type             string            `json:"type"`
	Server           string            `json:"server"`
	ServerID         *string           `json:"server_id"`
	ServerIDState    string            `json:"server_id_state"`
	SourceIP         *string           `json:"source_ip"`
	SourceMAC        string            `json:"source_mac"`
	DestinationMAC   string            `json:"destination_mac"`
	RelayIP          *string           `json:"relay_ip"`
	Hops             int               `json:"hops"`
	YourIP           *string           `json:"your_ip"`
	Broadcast        bool              `json:"broadcast"`
	ElapsedMS        int64             `json:"elapsed_ms"`
	Count            int               `json:"count"`
	LeaseSeconds     *int64            `json:"lease_seconds"`
	RenewalSeconds   *int64            `json:"renewal_seconds"`
	RebindingSeconds *int64            `json:"rebinding_seconds"`
	ExpiresAt        *string           `json:"expires_at"`
	SubnetMask       *string           `json:"subnet_mask"`
	Routers          []string          `json:"routers"`
	DNSServers       []string          `json:"dns_servers"`
	DomainName       *string           `json:"domain_name"`
	Message          *string           `json:"message"`
	Options          map[string]string `json:"options"`
	Warnings         []string          `json:"warnings"`
}

// The documented fields, by object. A field may be null where the schema
// says so, but it must be there.
var (
	topFields = []string{
		"schema_version", "tool", "started_at", "interface", "request",
		"timeout_ms", "elapsed_ms", "interrupted", "verdict", "exit_code",
		"servers", "replies", "skipped", "arp", "warnings",
	}
	toolFields      = []string{"name", "version"}
	interfaceFields = []string{"name", "mac"}
	requestFields   = []string{
		"mac", "ip", "xid", "client_id", "hostname", "broadcast", "sent",
	}
	serverFields = []string{"key", "verdict"}
	replyFields  = []string{
		"type", "server", "server_id", "server_id_state", "source_ip",
		"source_mac", "destination_mac", "relay_ip", "hops", "your_ip",
		"broadcast", "elapsed_ms", "count", "lease_seconds",
		"renewal_seconds", "rebinding_seconds", "expires_at", "subnet_mask",
		"routers", "dns_servers", "domain_name", "message", "options",
		"warnings",
	}
	// Lists and maps are never null.
	neverNull = map[string]bool{
		"servers": true, "replies": true, "skipped": true, "warnings": true,
		"routers": true, "dns_servers": true, "options": true,
	}
)

var (
	xidRe  = regexp.MustCompile(`^0x[0-9a-f]{8}$`)
	macRe  = regexp.MustCompile(`^([0-9a-f]{2}:){5}[0-9a-f]{2}$`)
	hexRe  = regexp.MustCompile(`^([0-9a-f]{2})*$`)
	codeRe = regexp.MustCompile(`^[0-9]{1,3}$`)
)

// checkContract checks a document against the schema's field names and
// their kinds, independently of the values a scenario expects.
func checkContract(t *testing.T, raw []byte) {
	t.Helper()

	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatalf("JSON is not an object: %v", err)
	}

	hasFields(t, "document", top, topFields)
	if v, _ := top["schema_version"].(float64); v != 1 {
		t.Errorf("schema_version = %v, want 1", top["schema_version"])
	}
	if top["arp"] != nil {
		checkARPObject(t, object(t, top, "arp"))
	}
	if s, _ := top["started_at"].(string); !isTimestamp(s) {
		t.Errorf("started_at %q is not RFC 3339", top["started_at"])
	}
	hasFields(t, "tool", object(t, top, "tool"), toolFields)
	iface := object(t, top, "interface")
	hasFields(t, "interface", iface, interfaceFields)
	matches(t, "interface.mac", iface["mac"], macRe)

	req := object(t, top, "request")
	hasFields(t, "request", req, requestFields)
	matches(t, "request.xid", req["xid"], xidRe)
	matches(t, "request.mac", req["mac"], macRe)
	if req["client_id"] != nil {
		matches(t, "request.client_id", req["client_id"], hexRe)
	}

	for i, s := range list(t, top, "servers") {
		m, _ := s.(map[string]any)
		hasFields(t, fmt.Sprintf("servers[%d]", i), m, serverFields)
	}
	for i, r := range list(t, top, "replies") {
		m, _ := r.(map[string]any)
		name := fmt.Sprintf("replies[%d]", i)
		hasFields(t, name, m, replyFields)
		matches(t, name+".source_mac", m["source_mac"], macRe)
		matches(t, name+".destination_mac", m["destination_mac"], macRe)
		if s, ok := m["expires_at"].(string); ok && !isTimestamp(s) {
			t.Errorf("%s.expires_at %q is not RFC 3339", name, s)
		}
		opts, _ := m["options"].(map[string]any)
		for code, data := range opts {
			if !codeRe.MatchString(code) {
				t.Errorf("%s.options key %q is not a decimal code", name, code)
			}
			matches(t, name+".options["+code+"]", data, hexRe)
		}
	}
}

func hasFields(t *testing.T, what string, m map[string]any, fields []string) {
	t.Helper()

	for _, f := range fields {
		v, ok := m[f]
		if !ok {
			t.Errorf("%s: field %q missing", what, f)
			continue
		}
		if v == nil && neverNull[f] {
			t.Errorf("%s: field %q is null, want a list or an object", what, f)
		}
	}
}

func object(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()

	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", key, m[key])
	}

	return o
}

func list(t *testing.T, m map[string]any, key string) []any {
	t.Helper()

	l, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%s is %T, want an array", key, m[key])
	}

	return l
}

func matches(t *testing.T, what string, v any, re *regexp.Regexp) {
	t.Helper()

	s, ok := v.(string)
	if !ok || !re.MatchString(s) {
		t.Errorf("%s = %#v, want a string matching %s", what, v, re)
	}
}

func isTimestamp(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)

	return err == nil
}

// str dereferences a nullable string for messages and comparisons.
func str(p *string) string {
	if p == nil {
		return "<null>"
	}

	return *p
}

func num(p *int64) string {
	if p == nil {
		return "<null>"
	}

	return fmt.Sprint(*p)
}
