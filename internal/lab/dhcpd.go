//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DhcpdConfig is the setup of one ISC dhcpd: one subnet with one range
// (and, when the subnet is not the host's own, an empty declaration of
// the host's own network, without which dhcpd will not listen on it).
type DhcpdConfig struct {
	ServerOptions
	// Extra lines are added to the configuration file as they are, after
	// the global statements and before the subnet declarations.
	Extra []string
}

// Dhcpd is an ISC dhcpd running in a lab host.
type Dhcpd struct {
	Host   *Host
	Config DhcpdConfig

	// ConfigFile, LeaseFile and PIDFile are dhcpd's -cf, -lf and -pf.
	ConfigFile string
	LeaseFile  string
	PIDFile    string

	proc   *Process
	output *syncBuffer
}

// Program returns ProgramDhcpd.
func (d *Dhcpd) Program() string {
	return ProgramDhcpd
}

// Name says where dhcpd runs: "dhcpd on HOST".
func (d *Dhcpd) Name() string {
	return ProgramDhcpd + " on " + d.Host.Name
}

// Process returns the running dhcpd.
func (d *Dhcpd) Process() *Process {
	return d.proc
}

// Stop stops dhcpd: SIGTERM, then SIGKILL after StopGrace.
func (d *Dhcpd) Stop() error {
	return d.proc.Stop(syscall.SIGTERM, StopGrace)
}

// Log returns what dhcpd has logged (on its standard error, -d).
func (d *Dhcpd) Log() string {
	return d.output.String()
}

// LogTail returns the last n lines of Log.
func (d *Dhcpd) LogTail(n int) string {
	return tailLines(d.Log(), n)
}

// Leases returns the current contents of dhcpd's lease file.
func (d *Dhcpd) Leases() (string, error) {
	data, err := os.ReadFile(d.LeaseFile)
	if err != nil {
		return "", fmt.Errorf("lab: read leases of %s: %w", d.Name(), err)
	}

	return string(data), nil
}

// StartDhcpd writes cfg's leases to a fresh lease file and starts
// `dhcpd -4 -f -d -cf CONF -lf LEASES -pf PID IFACE` in the host's
// namespace, with every file in a directory of the lab's own. It returns
// once dhcpd owns a UDP port 67 socket and has said it is starting
// service, or with an error that carries the tail of its log. ctx bounds
// the wait (10s when it has no deadline).
func (h *Host) StartDhcpd(ctx context.Context, cfg DhcpdConfig) (*Dhcpd, error) {
	if err := cfg.check(h); err != nil {
		return nil, fmt.Errorf("lab: dhcpd on %s: %w", h.Name, err)
	}
	path, err := lookTool(ProgramDhcpd)
	if err != nil {
		return nil, err
	}

	dir := filepath.Join(h.lab.Dir, "dhcpd-"+h.Name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: dhcpd on %s: %w", h.Name, err)
	}
	d := &Dhcpd{
		Host:       h,
		Config:     cfg,
		ConfigFile: filepath.Join(dir, "dhcpd.conf"),
		LeaseFile:  filepath.Join(dir, "dhcpd.leases"),
		PIDFile:    filepath.Join(dir, "dhcpd.pid"),
		output:     newSyncBuffer(""),
	}

	var leases strings.Builder
	now := time.Now()
	for _, l := range cfg.Leases {
		leases.WriteString(dhcpdLease(l, now))
	}
	if err := os.WriteFile(d.LeaseFile, []byte(leases.String()), 0o644); err != nil {
		return nil, fmt.Errorf("lab: dhcpd on %s: %w", h.Name, err)
	}
	if err := os.WriteFile(d.ConfigFile, []byte(dhcpdConf(h, cfg)), 0o644); err != nil {
		return nil, fmt.Errorf("lab: dhcpd on %s: %w", h.Name, err)
	}

	// -f: foreground; -d: log to standard error (else to syslog, which
	// is the host's).
	args := []string{"-4", "-f", "-d", "-cf", d.ConfigFile, "-lf", d.LeaseFile,
		"-pf", d.PIDFile, h.Iface}
	p, err := h.lab.start(h.NS, d.output, d.output, path, args...)
	if err != nil {
		return nil, err
	}
	d.proc = p
	h.lab.register(d)

	// dhcpd says "Server starting service." once its sockets are open and
	// its leases read.
	if err := waitReady(ctx, p, d.output.String, "Server starting service."); err != nil {
		err = fmt.Errorf("lab: dhcpd on %s: %w\nlog tail:\n%s", h.Name, err,
			d.LogTail(20))

		return nil, errors.Join(err, d.Stop())
	}
	h.lab.logf("lab: dhcpd on %s listening (pid %d)", h.Name, p.PID())

	return d, nil
}

// dhcpdTime formats t the way dhcpd.leases(5) writes times: weekday
// (0 is Sunday), date and time, in UTC.
func dhcpdTime(t time.Time) string {
	t = t.UTC()

	return fmt.Sprintf("%d %s", int(t.Weekday()), t.Format("2006/01/02 15:04:05"))
}

// dhcpdLease formats l as a lease declaration of dhcpd.leases(5): active,
// given out a day ago. A younger lease would be answered as it stands:
// dhcpd hands a lease that has run less than a quarter of its time
// (dhcp-cache-threshold) back unaltered, with the time it has left
// instead of the configured lease time.
func dhcpdLease(l Lease, now time.Time) string {
	ends := l.expiry(now)
	starts := now.Add(-24 * time.Hour)
	if !ends.After(starts) {
		starts = ends.Add(-24 * time.Hour)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "lease %s {\n", l.IP)
	fmt.Fprintf(&b, "  starts %s;\n", dhcpdTime(starts))
	fmt.Fprintf(&b, "  ends %s;\n", dhcpdTime(ends))
	fmt.Fprintf(&b, "  cltt %s;\n", dhcpdTime(starts))
	b.WriteString("  binding state active;\n")
	b.WriteString("  next binding state free;\n")
	fmt.Fprintf(&b, "  hardware ethernet %s;\n", l.MAC)
	if len(l.ClientID) > 0 {
		fmt.Fprintf(&b, "  uid %s;\n", colonHex(l.ClientID))
	}
	if l.Hostname != "" {
		fmt.Fprintf(&b, "  client-hostname %q;\n", l.Hostname)
	}
	b.WriteString("}\n")

	return b.String()
}

// dhcpdConf builds dhcpd.conf.
func dhcpdConf(h *Host, cfg DhcpdConfig) string {
	start, end := cfg.pool()
	lease := int(cfg.leaseTime() / time.Second)
	subnet := cfg.subnet(h)

	var b strings.Builder
	b.WriteString("ddns-update-style none;\n")
	if cfg.Authoritative {
		b.WriteString("authoritative;\n")
	} else {
		b.WriteString("not authoritative;\n")
	}
	fmt.Fprintf(&b, "default-lease-time %d;\nmax-lease-time %d;\n", lease, lease)
	b.WriteString("ping-check false;\n")
	if len(cfg.DNS) > 0 {
		list := make([]string, len(cfg.DNS))
		for i, a := range cfg.DNS {
			list[i] = a.String()
		}
		fmt.Fprintf(&b, "option domain-name-servers %s;\n", strings.Join(list, ", "))
	}
	if cfg.Domain != "" {
		fmt.Fprintf(&b, "option domain-name %q;\n", cfg.Domain)
	}
	for _, line := range cfg.Extra {
		b.WriteString(line + "\n")
	}

	fmt.Fprintf(&b, "subnet %s netmask %s {\n", subnet.Addr(), maskOf(subnet))
	fmt.Fprintf(&b, "  range %s %s;\n", start, end)
	fmt.Fprintf(&b, "  option subnet-mask %s;\n", maskOf(subnet))
	if cfg.Router.IsValid() {
		fmt.Fprintf(&b, "  option routers %s;\n", cfg.Router)
	}
	b.WriteString("}\n")

	if own := h.Prefix.Masked(); own != subnet {
		fmt.Fprintf(&b, "subnet %s netmask %s {\n}\n", own.Addr(), maskOf(own))
	}

	return b.String()
}
