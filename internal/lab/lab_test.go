//go:build linux

package lab_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// newLab builds a lab for a test that checks the tear-down itself.
func newLab(t *testing.T) *lab.Lab {
	t.Helper()
	lab.Require(t)

	l, err := lab.New(lab.Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { l.Close() })

	return l
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// assertGone checks that the namespaces no longer exist and that the PIDs
// name no process.
func assertGone(t *testing.T, namespaces []string, pids []int) {
	t.Helper()

	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	for _, ns := range namespaces {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
			t.Errorf("namespace %s still exists", ns)
		}
		if strings.Contains(string(out), ns) {
			t.Errorf("ip netns list still shows %s", ns)
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists (kill 0: %v)", pid, err)
		}
	}
}

func TestLabServerListensAndCloseRemovesEverything(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	ctx := t.Context()

	srv, err := l.AddServer("server")
	noErr(t, err)
	client, err := l.AddClient("client")
	noErr(t, err)
	d, err := srv.StartDnsmasq(ctx, lab.DnsmasqConfig{
		Leases: []lab.Lease{{
			MAC: client.MAC,
			IP:  lab.ServerAddr(50),
		}},
	})
	noErr(t, err)

	// Port 67 is open inside the server's namespace, seen from inside it.
	res, err := srv.Run(ctx, "cat", "/proc/net/udp")
	noErr(t, err)
	if !strings.Contains(string(res.Stdout), ":0043 ") {
		t.Errorf("no UDP port 67 socket in %s:\n%s", srv.NS, res.Stdout)
	}

	// The probe interface has the fixed MAC and no IPv4 address.
	res, err = client.Run(ctx, "ip", "-o", "addr", "show", "dev", client.Iface)
	noErr(t, err)
	if strings.Contains(string(res.Stdout), "inet ") {
		t.Errorf("client interface has an IPv4 address:\n%s", res.Stdout)
	}
	if got, want := client.MAC.String(), "02:00:00:00:00:02"; got != want {
		t.Errorf("client MAC = %s, want %s", got, want)
	}
	res, err = client.Run(ctx, "cat", "/sys/class/net/"+client.Iface+"/address")
	noErr(t, err)
	if got := strings.TrimSpace(string(res.Stdout)); got != client.MAC.String() {
		t.Errorf("client interface address = %s, want %s", got, client.MAC)
	}

	// The seeded lease is in dnsmasq's file, with a day to run.
	leases, err := d.Leases()
	noErr(t, err)
	fields := strings.Fields(leases)
	if len(fields) != 5 || fields[1] != client.MAC.String() ||
		fields[2] != "192.0.2.50" || fields[3] != "*" || fields[4] != "*" {
		t.Errorf("lease file = %q", leases)
	}
	if len(fields) == 5 {
		exp, _ := strconv.ParseInt(fields[0], 10, 64)
		if left := time.Until(time.Unix(exp, 0)); left < 23*time.Hour {
			t.Errorf("seeded lease expires in %v, want about a day", left)
		}
	}

	// No lab interface exists in this (the host's) namespace.
	for _, h := range l.Hosts() {
		if out, _ := exec.Command("ip", "-o", "link", "show", "dev", h.Iface).
			CombinedOutput(); !bytes.Contains(out, []byte("does not exist")) {
			t.Errorf("%s visible in host namespace: %s", h.Iface, out)
		}
	}

	namespaces, pids := l.Namespaces(), l.PIDs()
	if len(namespaces) != 3 {
		t.Errorf("namespaces = %v, want bridge, server and client", namespaces)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertGone(t, namespaces, pids)
	if _, err := os.Stat(l.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lab dir %s still exists: %v", l.Dir, err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.AddClient("late"); !errors.Is(err, lab.ErrClosed) {
		t.Errorf("AddClient after Close: %v, want ErrClosed", err)
	}
}

func TestLabBadDnsmasqConfigReportsLogAndCleansUp(t *testing.T) {
	t.Parallel()
	l := newLab(t)

	srv, err := l.AddServer("server")
	noErr(t, err)
	_, err = srv.StartDnsmasq(t.Context(), lab.DnsmasqConfig{
		Extra: []string{"--dhcp-range=not-an-address"},
	})
	if err == nil {
		t.Fatal("StartDnsmasq with a bad range: no error")
	}
	// dnsmasq says what is wrong with its command line on stderr; the
	// error must carry it.
	if !strings.Contains(err.Error(), "dhcp-range") {
		t.Errorf("error lacks dnsmasq's complaint: %v", err)
	}

	namespaces, pids := l.Namespaces(), l.PIDs()
	if len(pids) != 1 {
		t.Errorf("pids = %v, want the one dnsmasq", pids)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertGone(t, namespaces, pids)
}

// TestLabCleansUpAfterFatal runs TestHelperFatal in a child process: a test
// that builds a lab through ForTest, starts dnsmasq and tcpdump and fails
// with t.Fatal. The child's cleanup must leave nothing behind.
func TestLabCleansUpAfterFatal(t *testing.T) {
	t.Parallel()
	lab.Require(t)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperFatal$", "-test.v")
	cmd.Env = append(os.Environ(), "LAB_HELPER_FATAL=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("helper passed, want it to fail:\n%s", out)
	}
	if !bytes.Contains(out, []byte("deliberate failure")) {
		t.Fatalf("helper did not reach its failure:\n%s", out)
	}
	if !bytes.Contains(out, []byte("log of dnsmasq on server")) {
		t.Errorf("failed test's cleanup did not log dnsmasq's log:\n%s", out)
	}

	var namespaces []string
	var pids []int
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if ns, ok := strings.CutPrefix(line, "helper-ns "); ok {
			namespaces = append(namespaces, ns)
		}
		if s, ok := strings.CutPrefix(line, "helper-pid "); ok {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("bad pid line %q", line)
			}
			pids = append(pids, pid)
		}
	}
	if len(namespaces) != 3 || len(pids) != 2 {
		t.Fatalf("helper reported namespaces %v and pids %v:\n%s", namespaces, pids, out)
	}
	assertGone(t, namespaces, pids)
}

func TestHelperFatal(t *testing.T) {
	if os.Getenv("LAB_HELPER_FATAL") != "1" {
		t.Skip("helper for TestLabCleansUpAfterFatal")
	}

	l := lab.ForTest(t)
	srv, err := l.AddServer("server")
	noErr(t, err)
	client, err := l.AddClient("client")
	noErr(t, err)
	_, err = srv.StartDnsmasq(t.Context(), lab.DnsmasqConfig{})
	noErr(t, err)
	_, err = client.Capture(t.Context())
	noErr(t, err)

	for _, ns := range l.Namespaces() {
		fmt.Printf("helper-ns %s\n", ns)
	}
	for _, pid := range l.PIDs() {
		fmt.Printf("helper-pid %d\n", pid)
	}
	t.Fatal("deliberate failure")
}

func TestLabRefusesHostInterfaces(t *testing.T) {
	t.Parallel()
	l := newLab(t)

	client, err := l.AddClient("client")
	noErr(t, err)
	// lo exists in every namespace, the caller's included.
	_, err = client.CaptureOn(t.Context(), "lo")
	if !errors.Is(err, lab.ErrHostInterface) {
		t.Errorf("CaptureOn(lo) = %v, want ErrHostInterface", err)
	}
	if len(l.PIDs()) != 0 {
		t.Errorf("refused capture started processes %v", l.PIDs())
	}
}

func TestLabRun(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	h, err := l.AddClient("client")
	noErr(t, err)

	res, err := h.Run(t.Context(), "sh", "-c", "echo out; echo err >&2; exit 7")
	noErr(t, err)
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 7 {
		t.Errorf("Run = stdout %q, stderr %q, exit %d; want out, err, 7",
			res.Stdout, res.Stderr, res.ExitCode)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	res, err = h.Run(ctx, "sleep", "30")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run past its deadline: err = %v, want DeadlineExceeded", err)
	}
	if res == nil || res.Elapsed > 5*time.Second {
		t.Errorf("Run past its deadline returned %+v", res)
	}
	pids := l.PIDs()
	assertGone(t, nil, pids)
}

func TestLabCapture(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	a, err := l.AddServer("a")
	noErr(t, err)
	b, err := l.AddServer("b")
	noErr(t, err)

	c, err := a.Capture(t.Context())
	noErr(t, err)
	// bash's /dev/udp sends one datagram; the ARP exchange before it and
	// the ICMP error after it are captured too.
	script := "echo lab-capture > /dev/udp/" + a.Addr().String() + "/9"
	res, err := b.Run(t.Context(), "bash", "-c", script)
	noErr(t, err)
	if res.ExitCode != 0 {
		t.Fatalf("bash: exit %d: %s", res.ExitCode, res.Stderr)
	}

	frames, err := c.Frames()
	noErr(t, err)
	var found bool
	for _, f := range frames {
		eth, ok := f.Packet.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if !ok || eth.SrcMAC.String() != b.MAC.String() {
			continue
		}
		if udp, ok := f.Packet.Layer(layers.LayerTypeUDP).(*layers.UDP); ok &&
			udp.DstPort == 9 && string(udp.Payload) == "lab-capture\n" {
			found = true
		}
	}
	if !found {
		t.Errorf("datagram from %s not among %d captured frames", b.MAC, len(frames))
	}
	t.Logf("tcpdump: %s", c.Stderr())
	if !strings.Contains(c.Stderr(), "packets captured") {
		t.Errorf("tcpdump did not report its count on exit: %q", c.Stderr())
	}
}

// A lab whose owner died without closing it (a test binary killed by its
// timeout) is removed by the next New.
func TestNewReapsLabsOfDeadOwners(t *testing.T) {
	t.Parallel()
	lab.Require(t)

	// A PID that is certainly dead: a process that has been reaped.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}

	id := fmt.Sprintf("%06x", time.Now().UnixNano()&0xffffff)
	ns := lab.NSPrefix + id + "-stale"
	dir := t.TempDir()
	staleDir := filepath.Join(dir, "leaseprobe-lab-"+id+"-x")
	if err := os.Mkdir(staleDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })

	state := fmt.Sprintf("pid %d\ndir %s\nns %s\n", dead.Process.Pid, staleDir, ns)
	if err := os.MkdirAll("/run/leaseprobe-lab", 0o755); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join("/run/leaseprobe-lab", id)
	if err := os.WriteFile(statePath, []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}

	newLab(t)

	assertGone(t, []string{ns}, nil)
	for _, p := range []string{staleDir, statePath} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after reaping (%v)", p, err)
		}
	}
}
