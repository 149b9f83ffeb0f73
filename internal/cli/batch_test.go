package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/probe"
)

func writeInput(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pairs.csv")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	return path
}

// jsonLines decodes every line of out as a JSON object.
func jsonLines(t *testing.T, out io.Reader) []map[string]any {
	t.Helper()
	var lines []map[string]any
	s := bufio.NewScanner(out)
	for s.Scan() {
		var m map[string]any
		if err := json.Unmarshal(s.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", s.Text(), err)
		}
		lines = append(lines, m)
	}

	return lines
}

const pairsCSV = `mac,ip
02:00:00:00:00:01,192.0.2.50
02:00:00:00:00:03,192.0.2.50
02:00:00:00:00:04,192.0.2.50
`

func TestBatchJSONLines(t *testing.T) {
	te := newTestEnv(vectors(t)["C00_ack_baseline"])
	te.transport.matchClient = true
	input := writeInput(t, pairsCSV+"not-a-mac,192.0.2.9\n")
	code := te.run("batch", "-i", "veth0", "-t", "30ms", "--rate", "0",
		"--json", input)

	lines := jsonLines(t, &te.stdout)
	if len(lines) != 4 {
		t.Fatalf("%d JSON lines, want 3 documents and a summary", len(lines))
	}

	var got []any
	for _, m := range lines[:3] {
		got = append(got, m["verdict"], m["input_line"])
	}
	want := []any{"valid", 2.0, "valid", 3.0, "valid", 4.0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	sum := lines[3]["summary"].(map[string]any)
	gotSum := []any{sum["pairs"], sum["checked"], sum["bad_rows"],
		sum["exit_code"], code, len(lines[3]["bad_rows"].([]any))}
	wantSum := []any{3.0, 3.0, 1.0, 7.0, ExitBatchNotAllValid, 1}
	if diff := cmp.Diff(wantSum, gotSum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if !strings.Contains(te.stderr.String(), "line 5:") {
		t.Errorf("bad row not reported on stderr: %q", te.stderr.String())
	}
}

func TestBatchTableAllValid(t *testing.T) {
	te := newTestEnv(vectors(t)["C00_ack_baseline"])
	te.transport.matchClient = true
	code := te.run("batch", "-i", "veth0", "-t", "30ms", "--rate", "0",
		"--color", "never", writeInput(t, pairsCSV))

	out := te.stdout.String()
	if code != ExitValid {
		t.Errorf("exit %d, want 0; stderr %q", code, te.stderr.String())
	}
	for _, want := range []string{"LINE", "02:00:00:00:00:03",
		"192.0.2.1 ACK", "3 of 3 pairs checked", "3 valid"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestBatchBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown format", []string{"--format", "xml"}, ExitUsage, "--format"},
		{"mac given", []string{"-m", "02:00:00:00:00:01"}, ExitUsage, "--mac"},
		{"two files", []string{"a", "b"}, ExitUsage, "one input file"},
		{"missing file", []string{"/nonexistent/pairs.csv"}, ExitError,
			"no such file"},
		{"zero concurrency", []string{"--concurrency", "0"}, ExitUsage,
			"--concurrency"},
		{"negative rate", []string{"--rate", "-5"}, ExitUsage, "--rate"},
		{"zero arp count", []string{"--arp", "--arp-count", "0"},
			ExitUsage, "--arp-count: must be from 1 to 20"},
		{"negative arp count", []string{"--arp", "--arp-count", "-1"},
			ExitUsage, "--arp-count: must be from 1 to 20"},
		{"arp count too high", []string{"--arp", "--arp-count", "21"},
			ExitUsage, "--arp-count: must be from 1 to 20"},
		{"arp count without arp", []string{"--arp-count", "2"},
			ExitUsage, "--arp-count: needs --arp"},
		{"NaN rate", []string{"--rate", "NaN"}, ExitUsage,
			"--rate: NaN is not a finite number"},
		{"infinite rate", []string{"--rate", "+Inf"}, ExitUsage,
			"--rate: +Inf is not a finite number"},
		{"tiny rate", []string{"--rate", "1e-11"}, ExitUsage,
			"--rate: 1e-11 is below the lowest rate, 0.001"},
		{"rate below the lowest", []string{"--rate", "0.0009"}, ExitUsage,
			"--rate: 0.0009 is below the lowest rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			args := append([]string{"batch", "-i", "veth0"}, tt.args...)
			if tt.name != "two files" && tt.name != "missing file" {
				args = append(args, writeInput(t, pairsCSV))
			}
			code := te.run(args...)
			msg := te.stderr.String()
			if code != tt.code || !strings.Contains(msg, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d with %q", code, msg,
					tt.code, tt.want)
			}
			if te.transport.sent != 0 {
				t.Errorf("sent %d frames", te.transport.sent)
			}
		})
	}
}

func TestBatchUndetectableInput(t *testing.T) {
	te := newTestEnv()
	code := te.run("batch", "-i", "veth0", writeInput(t, "hello world\n"))
	if code != ExitUsage || !strings.Contains(te.stderr.String(), "--format") {
		t.Errorf("exit %d, stderr %q; want 2 suggesting --format", code,
			te.stderr.String())
	}
}

func TestBatchUnprobeableRowsAreBadRows(t *testing.T) {
	tests := []struct {
		name string
		row  string
		bad  string
	}{
		{"reserved ip", "02:00:00:00:00:02,240.0.0.1",
			`line 3: IP address "240.0.0.1" is reserved`},
		{"zero ip", "02:00:00:00:00:02,0.0.0.0",
			`line 3: IP address "0.0.0.0" is the unspecified address`},
		{"broadcast ip", "02:00:00:00:00:02,255.255.255.255",
			`line 3: IP address "255.255.255.255" is the broadcast`},
		{"multicast ip", "02:00:00:00:00:02,224.0.0.1",
			`line 3: IP address "224.0.0.1" is multicast`},
		{"loopback ip", "02:00:00:00:00:02,127.0.0.1",
			`line 3: IP address "127.0.0.1" is a loopback address`},
		{"zero mac", "00:00:00:00:00:00,192.0.2.51",
			`line 3: MAC address "00:00:00:00:00:00" must not be all zero`},
		{"multicast mac", "01:00:5e:00:00:01,192.0.2.51",
			`line 3: MAC address "01:00:5e:00:00:01" must be a unicast`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv(vectors(t)["C00_ack_baseline"])
			te.transport.matchClient = true
			input := writeInput(t, "mac,ip\n02:00:00:00:00:01,192.0.2.50\n"+
				tt.row+"\n02:00:00:00:00:04,192.0.2.50\n")
			code := te.run("batch", "-i", "veth0", "-t", "30ms", "--rate",
				"0", "--json", input)

			lines := jsonLines(t, &te.stdout)
			if len(lines) != 3 {
				t.Fatalf("%d JSON lines, want 2 documents and a summary; "+
					"stderr %q", len(lines), te.stderr.String())
			}
			sum := lines[2]["summary"].(map[string]any)
			bad := lines[2]["bad_rows"].([]any)[0].(map[string]any)
			got := []any{code, lines[0]["input_line"],
				lines[1]["input_line"], sum["pairs"], sum["checked"],
				sum["bad_rows"], sum["exit_code"], bad["line"],
				strings.HasPrefix("line 3: "+bad["error"].(string), tt.bad),
				strings.Contains(te.stderr.String(), tt.bad),
				strings.Contains(te.stderr.String(), "--ip")}
			want := []any{ExitBatchNotAllValid, 2.0, 4.0, 2.0, 2.0, 1.0,
				7.0, 3.0, true, true, false}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("exit, lines, summary, bad row, stderr "+
					"(-want +got):\n%s\nstderr: %s", diff, te.stderr.String())
			}
		})
	}
}

// TestBatchOperationalFailures: an unusable socket leaves an earlier
// --pcap file alone; a batch whose first send fails prints no table; a
// --pcap file that fills up mid-batch makes the summary's exit code 1,
// the process's.
func TestBatchOperationalFailures(t *testing.T) {
	input := writeInput(t, pairsCSV)

	t.Run("no socket", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.pcap")
		if err := os.WriteFile(path, []byte("earlier"), 0o600); err != nil {
			t.Fatal(err)
		}
		te := newTestEnv()
		te.listenErr = &os.SyscallError{Syscall: "socket", Err: syscall.EPERM}
		code := te.run("batch", "-i", "veth0", "-t", "30ms", "--pcap", path,
			input)
		got, _ := os.ReadFile(path)
		if code != ExitError || string(got) != "earlier" {
			t.Errorf("exit %d, file %q; want 1 and the file unchanged",
				code, got)
		}
	})

	t.Run("first send fails", func(t *testing.T) {
		te := newTestEnv()
		te.Listen = func(*net.Interface, probe.ListenOptions) (probe.Transport, error) {
			return &brokenTransport{failAt: 1}, nil
		}
		code := te.run("batch", "-i", "veth0", "-t", "30ms", "--rate", "0",
			input)
		got := []any{code, te.stdout.String(),
			strings.Count(te.stderr.String(), "\n")}
		if diff := cmp.Diff([]any{ExitError, "", 1}, got); diff != "" {
			t.Errorf("(-want +got):\n%s\nstderr %q", diff, te.stderr.String())
		}
	})

	t.Run("pcap fills up", func(t *testing.T) {
		te := newTestEnv(vectors(t)["C00_ack_baseline"])
		te.transport.matchClient = true
		te.Create = func(string) (io.WriteCloser, error) {
			return &fullFile{limit: 24}, nil
		}
		code := te.run("batch", "-i", "veth0", "-t", "30ms", "--rate", "0",
			"--json", "--pcap", "batch.pcap", input)
		lines := jsonLines(t, &te.stdout)
		sum, _ := lines[len(lines)-1]["summary"].(map[string]any)
		if diff := cmp.Diff([]any{ExitError, float64(ExitError)},
			[]any{code, sum["exit_code"]}); diff != "" {
			t.Errorf("exit codes (-want +got):\n%s", diff)
		}
	})
}

// TestBatchEmptyFlagValues: an empty --client-id or --format (an unset
// shell variable) is refused, as check refuses it, before anything runs.
func TestBatchEmptyFlagValues(t *testing.T) {
	input := writeInput(t, pairsCSV)
	for _, flag := range []string{"--client-id", "--format"} {
		te := newTestEnv()
		code := te.run("batch", "-i", "veth0", flag, "", input)
		msg := te.stderr.String()
		if code != ExitUsage || !strings.Contains(msg, flag+": is empty") ||
			te.listened != 0 {
			t.Errorf("%s \"\": exit %d, stderr %q, %d sockets; want 2 "+
				"naming the flag and no socket", flag, code, msg, te.listened)
		}
	}
}
