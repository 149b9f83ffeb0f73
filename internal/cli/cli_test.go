package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/probe"
)

// vectors reads ../../testdata/frames.tsv.
func vectors(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := os.Open("../../testdata/frames.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	out := map[string][]byte{}
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		name, hx, _ := strings.Cut(s.Text(), "\t")
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}

	return out
}

// Where the xid and chaddr sit in a frame with a 20-byte IPv4 header.
const (
	xidOff    = 14 + 20 + 8 + 4
	chaddrOff = 14 + 20 + 8 + 28
)

// replyTransport answers each request it is sent with copies of its
// frames, carrying the request's xid, and each ARP probe with copies of
// its ARP frames, and then blocks until the read deadline like a socket.
type replyTransport struct {
	mu       sync.Mutex
	frames   [][]byte
	queue    [][]byte
	deadline time.Time
	sent     int
	// matchClient makes each reply carry the request's chaddr too.
	matchClient bool
}

func (r *replyTransport) WriteFrame(b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	for _, f := range r.frames {
		if isARP(b) != isARP(f) {
			// DHCP answers requests, ARP answers ARP probes.
			continue
		}
		c := append([]byte(nil), f...)
		copy(c[xidOff:xidOff+4], b[xidOff:xidOff+4])
		if r.matchClient && len(c) > chaddrOff+6 {
			copy(c[chaddrOff:chaddrOff+6], b[chaddrOff:chaddrOff+6])
		}
		r.queue = append(r.queue, c)
	}

	return nil
}

// isARP reports whether an Ethernet frame carries ARP.
func isARP(b []byte) bool {
	return len(b) >= 14 && b[12] == 0x08 && b[13] == 0x06
}

func (r *replyTransport) ReadFrame(b []byte) (int, error) {
	for {
		r.mu.Lock()
		if len(r.queue) > 0 {
			n := copy(b, r.queue[0])
			r.queue = r.queue[1:]
			r.mu.Unlock()

			return n, nil
		}
		d := r.deadline
		r.mu.Unlock()
		if !time.Now().Before(d) {
			return 0, os.ErrDeadlineExceeded
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *replyTransport) SetReadDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deadline = t

	return nil
}

func (r *replyTransport) Close() error { return nil }

// testEnv is an Env over one fake interface "veth0" with no address.
type testEnv struct {
	Env
	stdout, stderr bytes.Buffer
	listened       int
	transport      *replyTransport
	listenErr      error
	vars           map[string]string
	terminal       bool
	ifi            net.Interface
}

func newTestEnv(frames ...[]byte) *testEnv {
	te := &testEnv{
		transport: &replyTransport{frames: frames},
		vars:      map[string]string{},
		ifi: net.Interface{Index: 7, Name: "veth0", MTU: 1500,
			HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 2},
			Flags:        net.FlagUp | net.FlagBroadcast | net.FlagRunning},
	}
	te.Env = Env{
		Stdout: &te.stdout,
		Stderr: &te.stderr,
		Getenv: func(k string) (string, bool) {
			v, ok := te.vars[k]

			return v, ok
		},
		IsTerminal: func(io.Writer) bool { return te.terminal },
		InterfaceByName: func(name string) (*net.Interface, error) {
			if name != te.ifi.Name {
				return nil, errors.New("no such network interface")
			}
			ifi := te.ifi

			return &ifi, nil
		},
		Interfaces: func() ([]net.Interface, error) {
			return []net.Interface{te.ifi}, nil
		},
		DefaultInterface: func() (string, error) { return "veth0", nil },
		PrimaryIPv4: func(*net.Interface) (netip.Addr, error) {
			return netip.Addr{}, probe.ErrNoAddress
		},
		Listen: func(*net.Interface, probe.ListenOptions) (probe.Transport, error) {
			te.listened++
			if te.listenErr != nil {
				return nil, te.listenErr
			}

			return te.transport, nil
		},
		Now: time.Now,
		Create: func(name string) (io.WriteCloser, error) {
			return os.Create(name)
		},
	}

	return te
}

func (te *testEnv) run(args ...string) int {
	return Main(context.Background(), &te.Env, args)
}

var probeArgs = []string{"check", "-i", "veth0", "-m", "02:00:00:00:00:01",
	"-a", "192.0.2.50", "-t", "30ms"}

func TestBadInputExitsTwoAndSendsNothing(t *testing.T) {
	tests := []struct {
		name string
		args []string
		flag string
	}{
		{"malformed mac", []string{"-m", "02:00:00:00:00"}, "--mac"},
		{"all-zero mac", []string{"-m", "00:00:00:00:00:00"}, "--mac"},
		{"multicast mac", []string{"-m", "01:00:5e:00:00:01"}, "--mac"},
		{"broadcast mac", []string{"-m", "ff:ff:ff:ff:ff:ff"}, "--mac"},
		{"eight-byte mac", []string{"-m", "02:00:00:00:00:00:00:01"}, "--mac"},
		{"not an ip", []string{"-a", "192.0.2"}, "--ip"},
		{"zero ip", []string{"-a", "0.0.0.0"}, "--ip"},
		{"broadcast ip", []string{"-a", "255.255.255.255"}, "--ip"},
		{"multicast ip", []string{"-a", "239.1.1.1"}, "--ip"},
		{"ipv6", []string{"-a", "2001:db8::1"}, "--ip"},
		{"unknown interface", []string{"-i", "eth9"}, "--interface"},
		{"zero timeout", []string{"-t", "0s"}, "--timeout"},
		{"negative timeout", []string{"-t", "-1s"}, "--timeout"},
		{"absurd timeout", []string{"-t", "6m"}, "--timeout"},
		{"unparsable timeout", []string{"-t", "soon"}, "--timeout"},
		{"negative retries", []string{"--retries", "-1"}, "--retries"},
		{"bad client id hex", []string{"--client-id", "zz:01"}, "--client-id"},
		{"one-byte client id", []string{"--client-id", "01"}, "--client-id"},
		{"unknown colour", []string{"--color", "sometimes"}, "--color"},
		{"hostname with space", []string{"--hostname", "a b"}, "--hostname"},
		{"empty client id", []string{"--client-id", ""}, "--client-id"},
		{"empty hostname", []string{"--hostname", " "}, "--hostname"},
		{"first with arp", []string{"--first", "--arp"}, "--first"},
		{"extra argument", []string{"192.0.2.50"}, "no arguments"},
		{"unknown flag", []string{"--frobnicate"}, "--frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			code := te.run(append(append([]string{}, probeArgs...),
				tt.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			msg := te.stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tt.flag) {
				t.Errorf("stderr %q: want one line naming %s", msg, tt.flag)
			}
			if strings.Contains(msg, "goroutine") || strings.Contains(msg, "Usage:") {
				t.Errorf("stderr has a stack trace or usage dump: %q", msg)
			}
			if te.listened != 0 || te.transport.sent != 0 {
				t.Errorf("opened %d sockets and sent %d frames for bad input",
					te.listened, te.transport.sent)
			}
			if te.stdout.Len() != 0 {
				t.Errorf("stdout not empty: %q", te.stdout.String())
			}
		})
	}
}

func TestMissingAddressIsUsage(t *testing.T) {
	te := newTestEnv()
	code := te.run("check", "-i", "veth0", "-t", "30ms")
	if code != ExitUsage || !strings.Contains(te.stderr.String(), "--ip") {
		t.Errorf("exit %d, stderr %q; want 2 naming --ip", code,
			te.stderr.String())
	}
}

func TestVerdictExitCodes(t *testing.T) {
	v := vectors(t)
	tests := []struct {
		name    string
		frames  []string
		code    int
		verdict string
	}{
		{"ack", []string{"C00_ack_baseline"}, ExitValid, "valid"},
		{"nak", []string{"C04b_nak_from_B"}, ExitInvalid, "invalid"},
		{"silence", nil, ExitNoAnswer, "no-answer"},
		{"ack and nak", []string{"C04a_ack_from_A", "C04b_nak_from_B"},
			ExitDisputed, "disputed"},
		{"nak and ack", []string{"C04b_nak_from_B", "C04a_ack_from_A"},
			ExitDisputed, "disputed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var frames [][]byte
			for _, n := range tt.frames {
				frames = append(frames, v[n])
			}
			te := newTestEnv(frames...)
			code := te.run(append(append([]string{}, probeArgs...),
				"--json")...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code,
					te.stderr.String())
			}

			var doc struct {
				Verdict  string `json:"verdict"`
				ExitCode int    `json:"exit_code"`
				Request  struct {
					Sent int `json:"sent"`
				} `json:"request"`
			}
			dec := json.NewDecoder(&te.stdout)
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("stdout is not JSON: %v", err)
			}
			if dec.More() {
				t.Error("stdout holds more than one JSON document")
			}
			got := []any{doc.Verdict, doc.ExitCode, doc.Request.Sent}
			want := []any{tt.verdict, tt.code, 1}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("document (-want +got):\n%s", diff)
			}
			if te.stderr.Len() != 0 {
				t.Errorf("stderr not empty: %q", te.stderr.String())
			}
		})
	}
}

func TestOperationalErrorsExitOne(t *testing.T) {
	const up = net.FlagUp | net.FlagRunning
	tests := []struct {
		name      string
		listenErr error
		ifiFlags  net.Flags
		hw        net.HardwareAddr
		want      string
	}{
		{"no permission", &os.SyscallError{Syscall: "socket",
			Err: syscall.EPERM}, up, nil,
			"needs CAP_NET_RAW: run with sudo, or setcap cap_net_raw+ep"},
		{"unsupported system", probe.ErrNotSupported, up, nil,
			"not supported on"},
		{"interface down", nil, 0, nil, "is down"},
		{"no carrier", nil, net.FlagUp | net.FlagBroadcast, nil,
			"has no link"},
		{"no ethernet address", nil, net.FlagUp | net.FlagPointToPoint,
			net.HardwareAddr{}, "no Ethernet address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			te.listenErr = tt.listenErr
			te.ifi.Flags = tt.ifiFlags
			if tt.hw != nil {
				te.ifi.HardwareAddr = tt.hw
			}
			code := te.run(probeArgs...)
			msg := te.stderr.String()
			if code != ExitError || !strings.Contains(msg, tt.want) ||
				strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 1 and one line with %q",
					code, msg, tt.want)
			}
			if te.transport.sent != 0 {
				t.Errorf("sent %d frames", te.transport.sent)
			}
		})
	}
}

func TestInterruptPrintsWhatArrived(t *testing.T) {
	te := newTestEnv(vectors(t)["C00_ack_baseline"])
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the ACK has been read, as Ctrl-C would.
		for {
			te.transport.mu.Lock()
			done := te.transport.sent > 0 && len(te.transport.queue) == 0
			te.transport.mu.Unlock()
			if done {
				cancel()

				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	args := []string{"check", "-i", "veth0", "-m", "02:00:00:00:00:01",
		"-a", "192.0.2.50", "-t", "1m", "--color", "never"}
	code := Main(ctx, &te.Env, args)

	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d", code, ExitInterrupted)
	}
	out := te.stdout.String()
	for _, want := range []string{"interrupted", "ACK", "verdict: valid"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestColorRules(t *testing.T) {
	ack := vectors(t)["C00_ack_baseline"]
	tests := []struct {
		name     string
		flag     string
		noColor  string
		terminal bool
		want     bool
	}{
		{"auto on a terminal", "auto", "", true, true},
		{"auto on a pipe", "auto", "", false, false},
		{"auto with NO_COLOR", "auto", "1", true, false},
		{"auto with empty NO_COLOR", "auto", "", true, true},
		{"always on a pipe", "always", "", false, true},
		{"never on a terminal", "never", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(ack)
			te.terminal = tt.terminal
			if tt.noColor != "" || tt.name == "auto with empty NO_COLOR" {
				te.vars["NO_COLOR"] = tt.noColor
			}
			te.run(append(append([]string{}, probeArgs...),
				"--color", tt.flag)...)
			got := strings.Contains(te.stdout.String(), "\x1b[")
			if got != tt.want {
				t.Errorf("coloured = %v, want %v", got, tt.want)
			}
			if !strings.Contains(te.stdout.String(), "valid") {
				t.Error("verdict word missing: colour must not carry meaning alone")
			}
		})
	}
}

func TestDefaultsComeFromTheInterface(t *testing.T) {
	te := newTestEnv(vectors(t)["C00_ack_baseline"])
	te.PrimaryIPv4 = func(*net.Interface) (netip.Addr, error) {
		return netip.MustParseAddr("192.0.2.50"), nil
	}
	// No -i, -m or -a: the default route's interface, its MAC and its
	// address. The vector answers client 02:00:00:00:00:01, not the
	// interface's own MAC, so the reply is set aside.
	code := te.run("check", "-t", "30ms", "--json")

	var doc struct {
		Interface struct{ Name string } `json:"interface"`
		Request   struct {
			MAC string `json:"mac"`
			IP  string `json:"ip"`
		} `json:"request"`
		Skipped map[string]int `json:"skipped"`
	}
	if err := json.Unmarshal(te.stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got := []any{code, doc.Interface.Name, doc.Request.MAC, doc.Request.IP,
		doc.Skipped["other-chaddr"]}
	want := []any{ExitNoAnswer, "veth0", "02:00:00:00:00:02", "192.0.2.50", 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestClientIDParsing(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	tests := []struct {
		in   string
		want []byte
		ok   bool
	}{
		{"none", nil, true},
		{"mac", []byte{1, 2, 0, 0, 0, 0, 1}, true},
		{"ff:00:00:00:01:00:01", []byte{0xff, 0, 0, 0, 1, 0, 1}, true},
		{"0102", []byte{1, 2}, true},
		{"01-02-03", []byte{1, 2, 3}, true},
		{"01", nil, false},
		{"xyz", nil, false},
		{"012", nil, false},
	}
	for _, tt := range tests {
		got, err := parseClientID(tt.in, mac)
		if (err == nil) != tt.ok || !bytes.Equal(got, tt.want) {
			t.Errorf("parseClientID(%q) = %x, %v; want %x, ok=%v", tt.in,
				got, err, tt.want, tt.ok)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		te := newTestEnv()
		if code := te.run(args...); code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		if !strings.HasPrefix(te.stdout.String(), "leaseprobe ") ||
			!strings.Contains(te.stdout.String(), "go1.") {
			t.Errorf("%v printed %q", args, te.stdout.String())
		}
	}
}

func TestEveryCommandIsDocumented(t *testing.T) {
	root := NewRootCommand(&newTestEnv().Env)
	for _, cmd := range root.Commands() {
		if cmd.Hidden || cmd.Name() == "help" {
			continue
		}
		if cmd.Short == "" || cmd.Long == "" || cmd.Example == "" {
			t.Errorf("%s: summary %q, long %d chars, example %d chars; "+
				"want all three", cmd.Name(), cmd.Short, len(cmd.Long),
				len(cmd.Example))
		}
	}
}
