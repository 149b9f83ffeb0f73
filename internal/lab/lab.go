//go:build linux

package lab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Subnet is the lab's own link: RFC 5737 TEST-NET-1. Servers get .1, .2, …
var Subnet = netip.MustParsePrefix("192.0.2.0/24")

// OtherSubnet is a second documentation range (TEST-NET-2), for addresses
// that belong to no server of the lab.
var OtherSubnet = netip.MustParsePrefix("198.51.100.0/24")

// ClientMAC is the MAC address of the first client's probe interface.
// Later clients count up from it in the last byte.
var ClientMAC = net.HardwareAddr{0x02, 0, 0, 0, 0x00, 0x02}

// ServerMAC returns the fixed MAC address of the n-th server (1-based).
func ServerMAC(n int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0, 0, 0, 0x01, byte(n)}
}

// ServerAddr returns the fixed address of the n-th server (1-based).
func ServerAddr(n int) netip.Addr {
	a := Subnet.Addr().As4()
	a[3] = byte(n)

	return netip.AddrFrom4(a)
}

// NSPrefix starts the name of every namespace a lab creates.
const NSPrefix = "lpt"

// stateDir records which process owns which namespaces, so a lab can clean
// up after a run that was killed before it could close its own.
const stateDir = "/run/leaseprobe-lab"

var (
	// ErrClosed is returned by a lab that has been closed.
	ErrClosed = errors.New("lab: closed")
	// ErrHostInterface is returned for an interface name that exists in
	// the namespace of the calling process: the lab never touches those.
	ErrHostInterface = errors.New("lab: interface exists in the host namespace")
)

// Options tune a Lab.
type Options struct {
	// Logf receives a line for each notable step; nil discards them.
	Logf func(format string, args ...any)
}

// Lab is a bridge in its own namespace and the hosts attached to it.
type Lab struct {
	// ID is random and short; every name in the lab contains it.
	ID string
	// Dir is a temporary directory for the lab's files, removed by Close.
	Dir string
	// BridgeNS is the namespace that holds the bridge.
	BridgeNS string
	// Bridge is the interface name, inside BridgeNS, of the bridge of the
	// first segment (Main).
	Bridge string

	ipPath      string
	dnsmasqPath string
	tcpdumpPath string
	logf        func(format string, args ...any)

	mu         sync.Mutex
	closed     bool
	namespaces []string
	procs      []*Process
	hosts      []*Host
	hostNames  []string
	servers    []Server
	segments   []*Segment
	clients    int
	// links counts the veth pairs made, for their names.
	links int

	closeOnce sync.Once
	closeErr  error
}

// New builds an empty lab: a namespace with a bridge in it. On error,
// whatever was made is removed again.
func New(opts Options) (*Lab, error) {
	if missing := Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("lab: needs %s: %s",
			strings.Join(missing, ", "), howToGet(missing))
	}

	l := &Lab{logf: opts.Logf}
	if l.logf == nil {
		l.logf = func(string, ...any) {}
	}
	l.ipPath, _ = lookTool("ip")
	l.dnsmasqPath, _ = lookTool("dnsmasq")
	l.tcpdumpPath, _ = lookTool("tcpdump")

	l.reapStale()

	if err := l.pickID(); err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "leaseprobe-lab-"+l.ID+"-")
	if err != nil {
		return nil, fmt.Errorf("lab: make temp dir: %w", err)
	}
	l.Dir = dir

	if err := l.makeBridge(); err != nil {
		return nil, errors.Join(err, l.Close())
	}

	return l, nil
}

// ForTest builds a lab for t, after Require(t, programs...), and closes
// it in t.Cleanup. When the test has failed, the cleanup first logs the
// log of each server and relay the lab started.
func ForTest(t testing.TB, programs ...string) *Lab {
	t.Helper()
	Require(t, programs...)

	l, err := New(Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}

	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range l.Servers() {
				t.Logf("log of %s:\n%s", s.Name(), s.LogTail(40))
			}
		}
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})

	return l
}

// pickID chooses a random lab ID whose names are all free.
func (l *Lab) pickID() error {
	for range 10 {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("lab: random id: %w", err)
		}
		id := hex.EncodeToString(b[:])
		if _, err := os.Stat(filepath.Join("/run/netns", NSPrefix+id+"-br")); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(stateDir, id)); err == nil {
			continue
		}
		l.ID = id

		return nil
	}

	return errors.New("lab: no free lab id after 10 tries")
}

// makeBridge creates the bridge namespace and the bridge of the first
// segment in it.
func (l *Lab) makeBridge() error {
	l.BridgeNS = NSPrefix + l.ID + "-br"
	l.Bridge = "lp" + l.ID + "br"
	if err := refuseHostInterface(l.Bridge); err != nil {
		return err
	}

	if err := l.addNS(l.BridgeNS); err != nil {
		return err
	}

	return l.addBridge(&Segment{Name: "main", Bridge: l.Bridge, Prefix: Subnet})
}

// addBridge creates seg's bridge in the bridge namespace and records seg.
func (l *Lab) addBridge(seg *Segment) error {
	seg.lab = l
	steps := [][]string{
		{"link", "add", seg.Bridge, "type", "bridge", "stp_state", "0"},
		{"link", "set", seg.Bridge, "up"},
	}
	for _, args := range steps {
		if err := l.ipIn(l.BridgeNS, args...); err != nil {
			return err
		}
	}

	l.mu.Lock()
	seg.index = len(l.segments)
	l.segments = append(l.segments, seg)
	l.mu.Unlock()

	return nil
}

// addNS creates a namespace, records it for Close and turns IPv6 off in
// it, so that no router solicitation or MLD report from the kernel shows
// up next to the probe's frames.
func (l *Lab) addNS(ns string) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
		return fmt.Errorf("lab: namespace %s already exists", ns)
	}

	if err := l.ip("netns", "add", ns); err != nil {
		return err
	}

	l.mu.Lock()
	l.namespaces = append(l.namespaces, ns)
	l.mu.Unlock()
	l.saveState()

	const script = `[ -d /proc/sys/net/ipv6 ] || exit 0
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6`
	if err := l.ip("netns", "exec", ns, "sh", "-c", script); err != nil {
		return err
	}

	return l.ipIn(ns, "link", "set", "lo", "up")
}

// ownsNS reports whether ns was created by this lab.
func (l *Lab) ownsNS(ns string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	return slices.Contains(l.namespaces, ns)
}

func (l *Lab) checkOpen() error {
	l.mu.Lock()
	defer l.mu.Unlock()

	if l.closed {
		return ErrClosed
	}

	return nil
}

// Namespaces lists the namespaces the lab has created, bridge first.
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return slices.Clone(l.namespaces)
}

// PIDs lists the PIDs of every process the lab has started, running or not.
func (l *Lab) PIDs() []int {
	l.mu.Lock()
	defer l.mu.Unlock()

	pids := make([]int, 0, len(l.procs))
	for _, p := range l.procs {
		pids = append(pids, p.PID())
	}

	return pids
}

// Hosts lists the hosts in the order they were added.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()

	return slices.Clone(l.hosts)
}

// Servers lists the servers and relays started in the lab, in the order
// they were started.
func (l *Lab) Servers() []Server {
	l.mu.Lock()
	defer l.mu.Unlock()

	return slices.Clone(l.servers)
}

// Close stops every process the lab started (SIGTERM, then SIGKILL after
// StopGrace), kills anything else left in its namespaces, deletes the
// namespaces and removes Dir. It is safe to call more than once and from
// several goroutines; every call returns the first call's result.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = l.close()
	})

	return l.closeErr
}

func (l *Lab) close() error {
	l.mu.Lock()
	l.closed = true
	procs := slices.Clone(l.procs)
	namespaces := slices.Clone(l.namespaces)
	l.mu.Unlock()

	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() {
			if err := p.Stop(syscall.SIGTERM, StopGrace); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	for _, ns := range slices.Backward(namespaces) {
		if err := l.killStrays(ns); err != nil {
			errs = append(errs, err)
		}
		if err := l.ip("netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}

	if l.Dir != "" {
		if err := os.RemoveAll(l.Dir); err != nil {
			errs = append(errs, fmt.Errorf("lab: remove %s: %w", l.Dir, err))
		}
	}
	if l.ID != "" {
		os.Remove(filepath.Join(stateDir, l.ID))
	}
	l.logf("lab: %s closed", l.ID)

	return errors.Join(errs...)
}

// killStrays kills, by PID, any process still inside ns after the lab's own
// processes have been stopped: children they forked.
func (l *Lab) killStrays(ns string) error {
	pids, err := l.nsPIDs(ns)
	if err != nil {
		return err
	}

	for _, pid := range pids {
		l.logf("lab: killing stray pid %d in %s", pid, ns)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil &&
			!errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("lab: kill stray pid %d in %s: %w", pid, ns, err)
		}
	}

	return nil
}

// nsPIDs lists the processes inside namespace ns.
func (l *Lab) nsPIDs(ns string) ([]int, error) {
	out, err := exec.Command(l.ipPath, "netns", "pids", ns).Output()
	if err != nil {
		return nil, fmt.Errorf("lab: ip netns pids %s: %w", ns, err)
	}

	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("lab: ip netns pids %s: bad pid %q", ns, f)
		}
		pids = append(pids, pid)
	}

	return pids, nil
}

// ip runs `ip ARGS...`. Only the netns subcommands may run this way: link
// and address commands go through ipIn, so that they always name a lab
// namespace.
func (l *Lab) ip(args ...string) error {
	if len(args) == 0 || args[0] != "netns" {
		return fmt.Errorf("lab: refusing ip %s outside a lab namespace",
			strings.Join(args, " "))
	}

	return l.runIP(args)
}

// ipIn runs `ip -n NS ARGS...` in one of the lab's namespaces.
func (l *Lab) ipIn(ns string, args ...string) error {
	if !l.ownsNS(ns) {
		return fmt.Errorf("lab: namespace %q is not part of this lab", ns)
	}

	return l.runIP(append([]string{"-n", ns}, args...))
}

func (l *Lab) runIP(args []string) error {
	cmd := exec.Command(l.ipPath, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("lab: ip %s: %w: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)))
	}

	return nil
}

// ipOutput runs `ip -n NS ARGS...` and returns its standard output.
func (l *Lab) ipOutput(ns string, args ...string) (string, error) {
	if !l.ownsNS(ns) {
		return "", fmt.Errorf("lab: namespace %q is not part of this lab", ns)
	}

	full := append([]string{"-n", ns}, args...)
	out, err := exec.Command(l.ipPath, full...).Output()
	if err != nil {
		return "", fmt.Errorf("lab: ip %s: %w", strings.Join(full, " "), err)
	}

	return string(out), nil
}

// refuseHostInterface returns ErrHostInterface when name is an interface of
// the caller's own namespace.
func refuseHostInterface(name string) error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("lab: list host interfaces: %w", err)
	}

	for _, ifi := range ifaces {
		if ifi.Name == name {
			return fmt.Errorf("%w: %s", ErrHostInterface, name)
		}
	}

	return nil
}

// saveState writes the owner PID and namespace list of this lab to
// stateDir. Failing to write it only loses the clean-up of killed runs.
func (l *Lab) saveState() {
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d\n", os.Getpid())
	fmt.Fprintf(&b, "dir %s\n", l.Dir)
	for _, ns := range l.Namespaces() {
		fmt.Fprintf(&b, "ns %s\n", ns)
	}

	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		l.logf("lab: state: %v", err)
		return
	}
	path := filepath.Join(stateDir, l.ID)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		l.logf("lab: state: %v", err)
	}
}

var stateNSRe = regexp.MustCompile(`^` + NSPrefix + `[0-9a-f]{6}-[a-z0-9]+$`)

// reapStale removes the namespaces of labs whose owner process has died
// without closing them (a test binary killed by its timeout, say).
func (l *Lab) reapStale() {
	entries, err := os.ReadDir(stateDir)
	if err != nil {
		return
	}

	for _, e := range entries {
		path := filepath.Join(stateDir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}

		owner, namespaces, dir := parseState(string(data))
		if owner <= 0 || processAlive(owner) {
			continue
		}

		for _, ns := range namespaces {
			if !stateNSRe.MatchString(ns) {
				continue
			}
			if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
				continue
			}
			if pids, err := l.nsPIDs(ns); err == nil {
				for _, pid := range pids {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			exec.Command(l.ipPath, "netns", "del", ns).Run()
			l.logf("lab: removed namespace %s left by dead pid %d", ns, owner)
		}
		if strings.HasPrefix(filepath.Base(dir), "leaseprobe-lab-"+e.Name()+"-") {
			os.RemoveAll(dir)
		}
		os.Remove(path)
	}
}

func parseState(s string) (owner int, namespaces []string, dir string) {
	for _, line := range strings.Split(s, "\n") {
		key, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		switch key {
		case "pid":
			owner, _ = strconv.Atoi(val)
		case "ns":
			namespaces = append(namespaces, val)
		case "dir":
			dir = val
		}
	}

	return owner, namespaces, dir
}

// processAlive reports whether pid names a process that has not exited. A
// zombie nobody has reaped yet counts as exited.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}

	// The state follows the command name, which is in parentheses and
	// may itself hold spaces or parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return true
	}

	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// waitFor polls cond every interval until it returns true or an error, or
// until timeout has passed.
func waitFor(
	timeout, interval time.Duration,
	what string,
	cond func() (bool, error),
) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: %s: not after %v", what, timeout)
		}
		time.Sleep(interval)
	}
}
