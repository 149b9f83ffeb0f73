//go:build linux

package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultPoolStart and DefaultPoolEnd bound the dhcp-range of a dnsmasq
// whose config names none.
var (
	DefaultPoolStart = netip.MustParseAddr("192.0.2.20")
	DefaultPoolEnd   = netip.MustParseAddr("192.0.2.200")
)

// DefaultLeaseTime is the lease time of a dnsmasq whose config names none.
const DefaultLeaseTime = time.Hour

// startTimeout bounds the wait for dnsmasq's DHCP socket when the caller's
// context has no deadline.
const startTimeout = 10 * time.Second

// Lease is one line of a dnsmasq lease file.
type Lease struct {
	MAC net.HardwareAddr
	IP  netip.Addr
	// Hostname is written as "*" when empty.
	Hostname string
	// ClientID is option 61 as stored by the server; written as "*" when
	// empty.
	ClientID []byte
	// Expiry is the absolute expiry; zero means a day from now.
	Expiry time.Time
}

// line formats the lease the way dnsmasq stores it:
// EXPIRY MAC IP HOSTNAME CLIENTID.
func (l Lease) line(now time.Time) string {
	expiry := l.Expiry
	if expiry.IsZero() {
		expiry = now.Add(24 * time.Hour)
	}
	host := l.Hostname
	if host == "" {
		host = "*"
	}
	clid := "*"
	if len(l.ClientID) > 0 {
		parts := make([]string, len(l.ClientID))
		for i, b := range l.ClientID {
			parts[i] = fmt.Sprintf("%02x", b)
		}
		clid = strings.Join(parts, ":")
	}

	return fmt.Sprintf("%d %s %s %s %s", expiry.Unix(), l.MAC, l.IP, host, clid)
}

// DnsmasqConfig is the DHCP setup of one dnsmasq. DNS is always off.
type DnsmasqConfig struct {
	// Authoritative adds --dhcp-authoritative: NAK requests for addresses
	// the server does not know, instead of staying silent.
	Authoritative bool
	// PoolStart and PoolEnd bound the dhcp-range; zero values mean
	// DefaultPoolStart and DefaultPoolEnd.
	PoolStart, PoolEnd netip.Addr
	// LeaseTime is the range's lease time; zero means DefaultLeaseTime.
	// dnsmasq raises anything below two minutes to two minutes.
	LeaseTime time.Duration
	// Router, DNS and Domain are sent as options 3, 6 and 15 when set.
	Router netip.Addr
	DNS    []netip.Addr
	Domain string
	// Leases are written to the lease file before dnsmasq starts.
	Leases []Lease
	// Extra arguments are appended to the command line as they are.
	Extra []string
}

// Dnsmasq is a dnsmasq running in a lab host.
type Dnsmasq struct {
	Host   *Host
	Config DnsmasqConfig
	// Args is dnsmasq's full command line after the program name.
	Args []string

	LeaseFile string
	LogFile   string
	PIDFile   string

	proc   *Process
	output *syncBuffer
}

// Program returns ProgramDnsmasq.
func (d *Dnsmasq) Program() string {
	return ProgramDnsmasq
}

// Name says where dnsmasq runs: "dnsmasq on HOST".
func (d *Dnsmasq) Name() string {
	return ProgramDnsmasq + " on " + d.Host.Name
}

// PID returns dnsmasq's process id.
func (d *Dnsmasq) PID() int {
	return d.proc.PID()
}

// Process returns the running dnsmasq process.
func (d *Dnsmasq) Process() *Process {
	return d.proc
}

// Stop stops dnsmasq: SIGTERM, then SIGKILL after StopGrace.
func (d *Dnsmasq) Stop() error {
	return d.proc.Stop(syscall.SIGTERM, StopGrace)
}

// Log returns dnsmasq's log file and anything it printed itself.
func (d *Dnsmasq) Log() string {
	data, _ := os.ReadFile(d.LogFile)
	out := string(data)
	if printed := d.output.String(); printed != "" {
		out += printed
	}

	return out
}

// LogTail returns the last n lines of Log.
func (d *Dnsmasq) LogTail(n int) string {
	return tailLines(d.Log(), n)
}

// Leases returns the current contents of dnsmasq's lease file.
func (d *Dnsmasq) Leases() (string, error) {
	data, err := os.ReadFile(d.LeaseFile)
	if err != nil {
		return "", fmt.Errorf("lab: read leases of %s: %w", d.Host.Name, err)
	}

	return string(data), nil
}

// StartDnsmasq writes cfg's leases to a fresh lease file and starts dnsmasq
// in the host's namespace, bound to its lab interface, with its own pid,
// lease and log files in the lab's directory. It returns once dnsmasq's own
// UDP port 67 socket exists, or with an error that carries the tail of the
// log. ctx bounds the wait (10s when it has no deadline).
func (h *Host) StartDnsmasq(ctx context.Context, cfg DnsmasqConfig) (*Dnsmasq, error) {
	if !h.Prefix.IsValid() {
		return nil, fmt.Errorf("lab: dnsmasq on %s: host has no address", h.Name)
	}

	dir := filepath.Join(h.lab.Dir, "dnsmasq-"+h.Name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: dnsmasq on %s: %w", h.Name, err)
	}
	d := &Dnsmasq{
		Host:      h,
		Config:    cfg,
		LeaseFile: filepath.Join(dir, "leases"),
		LogFile:   filepath.Join(dir, "log"),
		PIDFile:   filepath.Join(dir, "pid"),
		output:    newSyncBuffer(""),
	}

	var leases strings.Builder
	now := time.Now()
	for _, l := range cfg.Leases {
		leases.WriteString(l.line(now) + "\n")
	}
	if err := os.WriteFile(d.LeaseFile, []byte(leases.String()), 0o644); err != nil {
		return nil, fmt.Errorf("lab: dnsmasq on %s: %w", h.Name, err)
	}

	d.Args = dnsmasqArgs(h, cfg, d)
	p, err := h.lab.start(h.NS, d.output, d.output, h.lab.dnsmasqPath, d.Args...)
	if err != nil {
		return nil, err
	}
	d.proc = p

	h.lab.register(d)

	if err := waitUDP67(ctx, p); err != nil {
		err = fmt.Errorf("lab: dnsmasq on %s: %w\nlog tail:\n%s", h.Name, err, d.LogTail(20))

		return nil, errors.Join(err, d.Stop())
	}
	h.lab.logf("lab: dnsmasq on %s listening (pid %d)", h.Name, p.PID())

	return d, nil
}

func dnsmasqArgs(h *Host, cfg DnsmasqConfig, d *Dnsmasq) []string {
	start, end := cfg.PoolStart, cfg.PoolEnd
	if !start.IsValid() {
		start = DefaultPoolStart
	}
	if !end.IsValid() {
		end = DefaultPoolEnd
	}
	lease := cfg.LeaseTime
	if lease == 0 {
		lease = DefaultLeaseTime
	}
	mask := net.IP(net.CIDRMask(h.Prefix.Bits(), 32)).String()

	args := []string{
		"--keep-in-foreground",
		"--conf-file=/dev/null",
		"--port=0",
		"--interface=" + h.Iface,
		"--bind-interfaces",
		"--dhcp-range=" + start.String() + "," + end.String() + "," + mask +
			"," + strconv.Itoa(int(lease/time.Second)),
		"--dhcp-leasefile=" + d.LeaseFile,
		"--pid-file=" + d.PIDFile,
		"--log-dhcp",
		"--log-facility=" + d.LogFile,
		// Stay root, in group root: changing user or group clears the
		// parent-death signal the lab sets, and a dnsmasq whose test
		// binary was killed would live on. (Debian's dnsmasq otherwise
		// switches to group dip even when it keeps user root.)
		"--user=root",
		"--group=root",
	}
	if cfg.Authoritative {
		args = append(args, "--dhcp-authoritative")
	}
	if cfg.Router.IsValid() {
		args = append(args, "--dhcp-option=option:router,"+cfg.Router.String())
	}
	if len(cfg.DNS) > 0 {
		list := make([]string, len(cfg.DNS))
		for i, a := range cfg.DNS {
			list[i] = a.String()
		}
		args = append(args, "--dhcp-option=option:dns-server,"+strings.Join(list, ","))
	}
	if cfg.Domain != "" {
		args = append(args, "--dhcp-option=option:domain-name,"+cfg.Domain)
	}

	return append(args, cfg.Extra...)
}

// ownsUDPPort reports whether process pid holds a UDP socket bound to port.
func ownsUDPPort(pid int, port uint16) (bool, error) {
	inodes, err := udpInodes(fmt.Sprintf("/proc/%d/net/udp", pid), port)
	if err != nil || len(inodes) == 0 {
		return false, err
	}

	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		// The process may be between fork and exec, or gone.
		return false, nil
	}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		inode, ok := strings.CutPrefix(target, "socket:[")
		if !ok {
			continue
		}
		if inodes[strings.TrimSuffix(inode, "]")] {
			return true, nil
		}
	}

	return false, nil
}

// udpInodes returns the inodes of the sockets in a /proc net/udp table
// whose local port is port.
func udpInodes(path string, port uint16) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}

		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()

	want := fmt.Sprintf(":%04X", port)
	inodes := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid
		// timeout inode ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		if strings.HasSuffix(fields[1], want) {
			inodes[fields[9]] = true
		}
	}

	return inodes, sc.Err()
}
