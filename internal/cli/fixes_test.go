package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/probe"
)

func TestMoreBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"empty ip", []string{"check", "-i", "veth0", "-a", ""}, "--ip: is empty"},
		{"empty mac", []string{"check", "-i", "veth0", "-a", "192.0.2.50",
			"-m", " "}, "--mac: is empty"},
		{"empty interface", []string{"check", "-i", "", "-a", "192.0.2.50"},
			"--interface: is empty"},
		{"empty pcap", []string{"check", "-i", "veth0", "-a", "192.0.2.50",
			"--pcap", ""}, "--pcap: is empty"},
		{"empty arp ip", []string{"arp", "-i", "veth0", "--ip", ""},
			"--ip: is empty"},
		{"arp-count without arp", append(append([]string{}, probeArgs...),
			"--arp-count", "5"), "--arp-count: needs --arp"},
		{"retries not a number", append(append([]string{}, probeArgs...),
			"--retries", "x"), `--retries: "x" is not a whole number`},
		{"timeout not a duration", []string{"check", "-t", "soon"},
			`--timeout: "soon" is not a duration such as 500ms`},
		{"timeout too short", []string{"check", "-i", "veth0", "-a",
			"192.0.2.50", "-t", "1ns"}, "--timeout: must be at least 10ms"},
		{"timeout too long", []string{"check", "-i", "veth0", "-a",
			"192.0.2.50", "-t", "6m"}, "--timeout: must be at most 5m"},
		{"retries too dense", []string{"check", "-i", "veth0", "-a",
			"192.0.2.50", "-t", "50ms", "--retries", "10"},
			"--retries: 11 requests in 50ms"},
		{"unknown flag points to help", []string{"check", "--bogus"},
			"see 'leaseprobe check --help'"},
		{"-v is not --version", []string{"-v", "check"}, "unknown shorthand"},
		{"completion for an unknown shell", []string{"completion", "tcsh"},
			"takes one shell: bash, zsh, fish, powershell"},
		{"completion without a shell", []string{"completion"},
			"takes one shell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			code := te.run(tt.args...)
			msg := te.stderr.String()
			if code != ExitUsage || !strings.Contains(msg, tt.want) ||
				strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q",
					code, msg, tt.want)
			}
			if te.listened != 0 || te.transport.sent != 0 {
				t.Errorf("opened %d sockets, sent %d frames", te.listened,
					te.transport.sent)
			}
		})
	}
}

func TestInterfaceWithoutMACIsRefusedBeforeDefaults(t *testing.T) {
	te := newTestEnv()
	te.ifi.HardwareAddr = nil
	te.ifi.Flags = net.FlagUp | net.FlagPointToPoint
	code := te.run("check", "-i", "veth0", "-a", "192.0.2.50")
	msg := te.stderr.String()
	if code != ExitError || !strings.Contains(msg, "no Ethernet address") ||
		strings.Contains(msg, "--mac") {
		t.Errorf("exit %d, stderr %q; want 1 blaming the interface", code, msg)
	}
}

// brokenTransport fails on write number failAt, as when the interface
// goes down in the middle of a probe.
type brokenTransport struct {
	replyTransport
	writes, failAt int
}

func (b *brokenTransport) WriteFrame(f []byte) error {
	b.writes++
	if b.writes == b.failAt {
		return errors.New("network is down")
	}

	return b.replyTransport.WriteFrame(f)
}

func TestFailureMidProbeShowsInTheDocument(t *testing.T) {
	te := newTestEnv()
	bt := &brokenTransport{failAt: 2}
	te.Listen = func(*net.Interface, probe.ListenOptions) (probe.Transport, error) {
		return bt, nil
	}
	code := te.run("check", "-i", "veth0", "-m", "02:00:00:00:00:01",
		"-a", "192.0.2.50", "-t", "100ms", "--retries", "2", "--json")

	var doc struct {
		ExitCode int      `json:"exit_code"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(te.stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got := []any{code, doc.ExitCode, len(doc.Warnings) == 1 &&
		strings.Contains(doc.Warnings[0], "network is down")}
	if diff := cmp.Diff([]any{ExitError, ExitError, true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s\nstderr %q", diff, te.stderr.String())
	}
}

func TestInterruptCodeNamesTheSignal(t *testing.T) {
	for _, tt := range []struct {
		cause error
		want  int
	}{
		{SignalError{Signal: syscall.SIGINT}, 130},
		{SignalError{Signal: syscall.SIGTERM}, 143},
		{errors.New("something else"), 130},
	} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(tt.cause)
		if got := interruptCode(ctx); got != tt.want {
			t.Errorf("cause %v: code %d, want %d", tt.cause, got, tt.want)
		}
	}
}

// TestBadValuesBeatAnUnusableInterface: a value that is wrong on any
// interface is a usage error (exit 2) even when the interface is also
// unusable; good values on an unusable interface fail with exit 1.
func TestBadValuesBeatAnUnusableInterface(t *testing.T) {
	down := func(te *testEnv) { te.ifi.Flags = 0 }
	tun := func(te *testEnv) {
		te.ifi.HardwareAddr = nil
		te.ifi.Flags = net.FlagUp | net.FlagPointToPoint | net.FlagRunning
	}
	noCarrier := func(te *testEnv) { te.ifi.Flags = net.FlagUp }
	tests := []struct {
		name  string
		state func(*testEnv)
		args  []string
		code  int
		flag  string
	}{
		{"down, bad mac", down,
			[]string{"check", "-i", "veth0", "-m", "zz", "-a", "192.0.2.50"},
			ExitUsage, "--mac"},
		{"tun, bad ip", tun,
			[]string{"check", "-i", "veth0", "-a", "999.1.1.1"},
			ExitUsage, "--ip"},
		{"tun, bad client-id", tun,
			[]string{"check", "-i", "veth0", "--client-id", "zz"},
			ExitUsage, "--client-id"},
		{"down, timeout too short", down,
			[]string{"check", "-i", "veth0", "-a", "192.0.2.50", "-t", "1ns"},
			ExitUsage, "--timeout"},
		{"no carrier, bad retries", noCarrier,
			[]string{"check", "-i", "veth0", "-a", "192.0.2.50",
				"--retries", "-1"},
			ExitUsage, "--retries"},
		{"arp: down, bad ip", down,
			[]string{"arp", "-i", "veth0", "-a", "224.0.0.1"},
			ExitUsage, "--ip"},
		{"batch: no carrier, bad rate", noCarrier,
			[]string{"batch", "-i", "veth0", "--rate", "-1", "in.csv"},
			ExitUsage, "--rate"},
		{"batch: tun, bad concurrency", tun,
			[]string{"batch", "-i", "veth0", "--concurrency", "0", "in.csv"},
			ExitUsage, "--concurrency"},
		{"batch: down, timeout too short", down,
			[]string{"batch", "-i", "veth0", "-t", "1ms", "in.csv"},
			ExitUsage, "--timeout"},
		{"batch: no carrier, good values", noCarrier,
			[]string{"batch", "-i", "veth0", "in.csv"},
			ExitError, "has no link"},
		{"down, good values", down,
			[]string{"check", "-i", "veth0", "-a", "192.0.2.50"},
			ExitError, "is down"},
		{"no carrier, good values", noCarrier,
			[]string{"check", "-i", "veth0", "-a", "192.0.2.50"},
			ExitError, "has no link"},
		{"arp: no carrier, good values", noCarrier,
			[]string{"arp", "-i", "veth0", "-a", "192.0.2.50"},
			ExitError, "has no link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			tt.state(te)
			code := te.run(tt.args...)
			msg := te.stderr.String()
			if code != tt.code || !strings.Contains(msg, tt.flag) ||
				strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want %d and one line with %q",
					code, msg, tt.code, tt.flag)
			}
			if te.listened != 0 || te.transport.sent != 0 {
				t.Errorf("opened %d sockets, sent %d frames", te.listened,
					te.transport.sent)
			}
		})
	}
}

// TestFirstSendFailingPrintsNothing: when not even the first frame could
// be sent there is no probe to report: exit 1, one line on stderr, and
// stdout stays empty, with --json and without.
func TestFirstSendFailingPrintsNothing(t *testing.T) {
	arpArgs := []string{"arp", "-i", "veth0", "-a", "192.0.2.50", "-t", "30ms"}
	for _, args := range [][]string{probeArgs,
		append(append([]string{}, probeArgs...), "--json"),
		append(append([]string{}, probeArgs...), "--arp"),
		arpArgs, append(append([]string{}, arpArgs...), "--json"),
	} {
		t.Run(strings.Join(args, " "),
			func(t *testing.T) {
				te := newTestEnv()
				te.Listen = func(*net.Interface,
					probe.ListenOptions) (probe.Transport, error) {
					return &brokenTransport{failAt: 1}, nil
				}
				code := te.run(args...)
				got := []any{code, te.stdout.String(),
					strings.Count(te.stderr.String(), "\n"),
					strings.Contains(te.stderr.String(), "network is down")}
				want := []any{ExitError, "", 1, true}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got):\n%s\nstderr %q", diff,
						te.stderr.String())
				}
			})
	}
}

// fullFile takes limit bytes, then fails as a full disk does.
type fullFile struct{ limit int }

func (f *fullFile) Write(b []byte) (int, error) {
	if len(b) > f.limit {
		n := f.limit
		f.limit = 0

		return n, syscall.ENOSPC
	}
	f.limit -= len(b)

	return len(b), nil
}

func (*fullFile) Close() error { return nil }

// TestPcapFailureMidProbeIsTheExitCode: when --pcap stops taking frames
// during the probe (the disk filled up after the file header), the
// document still prints, and its exit_code is the process's: 1, with the
// reason among its warnings.
func TestPcapFailureMidProbeIsTheExitCode(t *testing.T) {
	te := newTestEnv(vectors(t)["C00_ack_baseline"])
	te.Create = func(string) (io.WriteCloser, error) {
		return &fullFile{limit: 24}, nil // the pcap file header
	}
	code := te.run(append(append([]string{}, probeArgs...),
		"--json", "--pcap", "probe.pcap")...)

	var doc struct {
		Verdict  string   `json:"verdict"`
		ExitCode int      `json:"exit_code"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(te.stdout.Bytes(), &doc); err != nil {
		t.Fatalf("%v; stdout %q", err, te.stdout.String())
	}
	warned := len(doc.Warnings) == 1 &&
		strings.Contains(doc.Warnings[0], "no space left")
	got := []any{code, doc.ExitCode, doc.Verdict, warned}
	if diff := cmp.Diff([]any{ExitError, ExitError, "valid", true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s\nwarnings %q\nstderr %q", diff,
			doc.Warnings, te.stderr.String())
	}
}

// TestPcapUntouchedWhenTheProbeCannotRun: without the socket nothing is
// probed, so an existing --pcap file keeps what it held.
func TestPcapUntouchedWhenTheProbeCannotRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.pcap")
	if err := os.WriteFile(path, []byte("earlier capture"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"check", "arp"} {
		te := newTestEnv()
		te.listenErr = &os.SyscallError{Syscall: "socket", Err: syscall.EPERM}
		code := te.run(cmd, "-i", "veth0", "-a", "192.0.2.50", "-t", "30ms",
			"--pcap", path)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if code != ExitError || string(got) != "earlier capture" {
			t.Errorf("%s: exit %d, file %q; want 1 and the file unchanged",
				cmd, code, got)
		}
	}
}

// TestUnknownInterfaceListsOnlyUsableOnes: the list offered after an
// unknown --interface holds only interfaces a probe could run on.
func TestUnknownInterfaceListsOnlyUsableOnes(t *testing.T) {
	te := newTestEnv()
	usableIfi := te.ifi
	down := te.ifi
	down.Name, down.Flags = "eth1", net.FlagUp|net.FlagBroadcast
	tun := te.ifi
	tun.Name, tun.HardwareAddr = "tun0", nil
	te.Interfaces = func() ([]net.Interface, error) {
		return []net.Interface{usableIfi, down, tun}, nil
	}
	code := te.run("check", "-i", "eth9", "-a", "192.0.2.50")
	msg := te.stderr.String()
	if code != ExitUsage || !strings.HasSuffix(msg, "choose one of: veth0\n") {
		t.Errorf("exit %d, stderr %q; want 2 offering only veth0", code, msg)
	}
}

func TestHelpListsExitCodes(t *testing.T) {
	tests := []struct {
		command string
		codes   []string
	}{
		{"leaseprobe", []string{"0", "1", "2", "3", "4", "5", "6", "7",
			"130", "143"}},
		{"check", []string{"0", "1", "2", "3", "4", "5", "6", "130", "143"}},
		{"arp", []string{"0", "1", "2", "5", "130", "143"}},
		{"batch", []string{"0", "7", "1", "2", "130", "143"}},
	}
	code := regexp.MustCompile(`\b\d+\b`)
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			cmd := NewRootCommand(&newTestEnv().Env)
			if tt.command != "leaseprobe" {
				var err error
				if cmd, _, err = cmd.Find([]string{tt.command}); err != nil {
					t.Fatal(err)
				}
			}
			_, list, ok := strings.Cut(cmd.Long, "\nExit codes:")
			if !ok {
				t.Fatalf("%q help has no exit code list", tt.command)
			}
			list, _, _ = strings.Cut(list, "\n\n")
			if diff := cmp.Diff(tt.codes, code.FindAllString(list, -1)); diff != "" {
				t.Errorf("%q help exit codes (-want +got):\n%s",
					tt.command, diff)
			}
		})
	}
}
