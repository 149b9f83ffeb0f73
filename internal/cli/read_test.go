package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/leaseprobe/leaseprobe/internal/pcapfile"
)

// writeCapture writes frames, one millisecond apart, to a pcap file.
func writeCapture(t *testing.T, frames ...[]byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for i, f := range frames {
		w.Write(f, t0.Add(time.Duration(i)*time.Millisecond))
	}
	path := filepath.Join(t.TempDir(), "probe.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	return path
}

func TestCheckPcapThenRead(t *testing.T) {
	v := vectors(t)
	te := newTestEnv(v["C04a_ack_from_A"], v["C04b_nak_from_B"])
	path := filepath.Join(t.TempDir(), "out.pcap")
	if code := te.run(append(append([]string{}, probeArgs...), "--pcap",
		path, "--json")...); code != ExitDisputed {
		t.Fatalf("check exit %d: %s", code, te.stderr.String())
	}
	var checked struct {
		Request struct{ XID string } `json:"request"`
	}
	if err := json.Unmarshal(te.stdout.Bytes(), &checked); err != nil {
		t.Fatal(err)
	}

	rd := newTestEnv()
	code := rd.run("read", "--json", path)
	var docs []struct {
		Verdict string `json:"verdict"`
		Request struct {
			XID  string `json:"xid"`
			Sent int    `json:"sent"`
		} `json:"request"`
		Replies []struct{ Type string } `json:"replies"`
	}
	if err := json.Unmarshal(rd.stdout.Bytes(), &docs); err != nil {
		t.Fatalf("read --json: %v\n%s", err, rd.stdout.String())
	}
	if len(docs) != 1 {
		t.Fatalf("read found %d probes, want 1", len(docs))
	}
	got := []any{code, docs[0].Verdict, docs[0].Request.XID,
		docs[0].Request.Sent, len(docs[0].Replies)}
	want := []any{ExitDisputed, "disputed", checked.Request.XID, 1, 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadOrphansAndExitCodes(t *testing.T) {
	v := vectors(t)
	tests := []struct {
		name   string
		frames [][]byte
		code   int
		want   string
	}{
		{"reply without request", [][]byte{v["C04b_nak_from_B"]}, ExitValid,
			"not in the capture"},
		{"nothing of interest", [][]byte{v["C16_b_reply_broadcast"]},
			ExitValid, "no INIT-REBOOT request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			code := te.run("read", "--color", "never",
				writeCapture(t, tt.frames...))
			if code != tt.code || !strings.Contains(te.stdout.String(), tt.want) {
				t.Errorf("exit %d, report:\n%s\nwant exit %d and %q", code,
					te.stdout.String(), tt.code, tt.want)
			}
		})
	}
}

func TestReadBadInput(t *testing.T) {
	notCapture := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notCapture, []byte("not a capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A pcap file with an unbounded snap length whose one record header
	// claims 2 GB.
	corrupt := filepath.Join(t.TempDir(), "corrupt.pcap")
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(b, 0xffffffff)
	b = le.AppendUint32(b, 1)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(b, 1<<31)
	b = le.AppendUint32(b, 1<<31)
	b = append(b, make([]byte, 100)...)
	if err := os.WriteFile(corrupt, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no file", []string{"read"}, ExitUsage, "one capture file"},
		{"two files", []string{"read", "a", "b"}, ExitUsage, "one capture file"},
		{"missing file", []string{"read", "/nonexistent/x.pcap"}, ExitError,
			"no such file"},
		{"not a capture", []string{"read", notCapture}, ExitError,
			"not a pcap or pcapng file"},
		{"corrupt record", []string{"read", corrupt}, ExitError,
			corrupt + ": read capture frame 1: corrupt capture"},
		{"empty file name", []string{"read", ""}, ExitUsage,
			"FILE is empty"},
		{"directory", []string{"read", t.TempDir()}, ExitError,
			"is a directory"},
		{"unwritable --pcap", append(append([]string{}, probeArgs...),
			"--pcap", "/nonexistent/dir/x.pcap"), ExitUsage, "--pcap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEnv()
			code := te.run(tt.args...)
			msg := te.stderr.String()
			if code != tt.code || !strings.Contains(msg, tt.want) ||
				strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want %d and one line with %q",
					code, msg, tt.code, tt.want)
			}
			if te.transport.sent != 0 {
				t.Errorf("sent %d frames", te.transport.sent)
			}
		})
	}
}

// truncate rewrites the pcap file at path as tcpdump -s snap would have
// captured it, and returns how many frames were cut.
func truncate(t *testing.T, path string, snap int) int {
	t.Helper()
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := pcapgo.NewWriterNanos(&out)
	if err := w.WriteFileHeader(uint32(snap), r.LinkType()); err != nil {
		t.Fatal(err)
	}
	cut := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if len(data) > snap {
			data, cut = data[:snap], cut+1
		}
		ci.CaptureLength = len(data)
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	return cut
}

func TestReadWarnsOfFramesCutBySnapLength(t *testing.T) {
	v := vectors(t)
	te := newTestEnv(v["C00_ack_baseline"])
	path := filepath.Join(t.TempDir(), "out.pcap")
	if code := te.run(append(append([]string{}, probeArgs...), "--pcap",
		path)...); code != ExitValid {
		t.Fatalf("check exit %d: %s", code, te.stderr.String())
	}
	cut := truncate(t, path, 200)
	if cut < 2 {
		t.Fatalf("only %d frames longer than 200 bytes", cut)
	}

	// Cut this short, not one frame can be read as DHCP: the capture
	// could not be read, which is not the same as holding no probe.
	rd := newTestEnv()
	code := rd.run("read", "--color", "never", "--json", path)
	want := fmt.Sprintf("leaseprobe: %s: no probe could be read: %d "+
		"frame(s) were cut short by the capture's snap length; capture "+
		"with tcpdump -s 0\n", path, cut)
	if diff := cmp.Diff([]any{ExitError, want, ""},
		[]any{code, rd.stderr.String(), rd.stdout.String()}); diff != "" {
		t.Errorf("exit, stderr and stdout (-want +got):\n%s", diff)
	}
}

func TestCheckARPThenReadAgree(t *testing.T) {
	v := vectors(t)
	tests := []struct {
		name   string
		frames []string
		code   int
	}{
		{"stranger answers ARP", []string{"C00_ack_baseline",
			"C16_b_reply_broadcast"}, ExitConflict},
		{"nobody answers ARP", []string{"C00_ack_baseline"}, ExitValid},
	}
	type doc struct {
		Verdict  string          `json:"verdict"`
		ExitCode int             `json:"exit_code"`
		ARP      json.RawMessage `json:"arp"`
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var frames [][]byte
			for _, n := range tt.frames {
				frames = append(frames, v[n])
			}
			te := newTestEnv(frames...)
			path := filepath.Join(t.TempDir(), "out.pcap")
			code := te.run(append(append([]string{}, probeArgs...), "--arp",
				"--pcap", path, "--json")...)
			var checked doc
			if err := json.Unmarshal(te.stdout.Bytes(), &checked); err != nil {
				t.Fatal(err)
			}

			rd := newTestEnv()
			readCode := rd.run("read", "--json", path)
			var read []doc
			if err := json.Unmarshal(rd.stdout.Bytes(), &read); err != nil {
				t.Fatalf("read --json: %v\n%s", err, rd.stdout.String())
			}
			if len(read) != 1 {
				t.Fatalf("read found %d probes, want 1", len(read))
			}
			var arpCheck, arpRead map[string]any
			_ = json.Unmarshal(checked.ARP, &arpCheck)
			_ = json.Unmarshal(read[0].ARP, &arpRead)
			for _, a := range []map[string]any{arpCheck, arpRead} {
				// Times differ by how the capture rounds them.
				for _, r := range a["responders"].([]any) {
					delete(r.(map[string]any), "elapsed_ms")
				}
			}
			want := []any{tt.code, tt.code, checked.Verdict, arpCheck}
			got := []any{code, readCode, read[0].Verdict, arpRead}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("check and read (-want +got):\n%s", diff)
			}
		})
	}
}
