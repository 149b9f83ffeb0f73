//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
)

// RelayConfig is the setup of one ISC dhcrelay.
type RelayConfig struct {
	// Down is the interface on the clients' segment; the host's own Iface
	// when empty. Its address becomes giaddr.
	Down string
	// Up is the interface on the servers' segment; required.
	Up string
	// Servers are the addresses requests are relayed to; at least one.
	Servers []netip.Addr
	// Extra arguments go before the server addresses as they are.
	Extra []string
}

// Relay is an ISC dhcrelay running in a lab host.
type Relay struct {
	Host   *Host
	Config RelayConfig
	// Args is dhcrelay's full command line after the program name.
	Args    []string
	PIDFile string

	proc   *Process
	output *syncBuffer
}

// Program returns ProgramRelay.
func (r *Relay) Program() string {
	return ProgramRelay
}

// Name says where dhcrelay runs: "dhcrelay on HOST".
func (r *Relay) Name() string {
	return ProgramRelay + " on " + r.Host.Name
}

// Process returns the running dhcrelay.
func (r *Relay) Process() *Process {
	return r.proc
}

// Stop stops dhcrelay: SIGTERM, then SIGKILL after StopGrace.
func (r *Relay) Stop() error {
	return r.proc.Stop(syscall.SIGTERM, StopGrace)
}

// Log returns what dhcrelay has logged (on its standard error, -d).
func (r *Relay) Log() string {
	return r.output.String()
}

// LogTail returns the last n lines of Log.
func (r *Relay) LogTail(n int) string {
	return tailLines(r.Log(), n)
}

// StartRelay starts `dhcrelay -4 -d -pf PID -id DOWN -iu UP SERVERS...` in
// the host's namespace: requests heard on Down are relayed to the servers
// through Up, with giaddr set to Down's address, and their replies are
// sent back out of Down. It returns once dhcrelay owns a UDP port 67
// socket, or with an error that carries its output. ctx bounds the wait
// (10s when it has no deadline).
func (h *Host) StartRelay(ctx context.Context, cfg RelayConfig) (*Relay, error) {
	if cfg.Down == "" {
		cfg.Down = h.Iface
	}
	if cfg.Up == "" || len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("lab: dhcrelay on %s: need an upstream interface "+
			"and at least one server", h.Name)
	}
	for _, iface := range []string{cfg.Down, cfg.Up} {
		if err := refuseHostInterface(iface); err != nil {
			return nil, err
		}
	}
	for _, a := range cfg.Servers {
		if err := checkDocPrefix(netip.PrefixFrom(a, 32)); err != nil {
			return nil, err
		}
	}
	path, err := lookTool(ProgramRelay)
	if err != nil {
		return nil, err
	}

	dir := filepath.Join(h.lab.Dir, "dhcrelay-"+h.Name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: dhcrelay on %s: %w", h.Name, err)
	}
	r := &Relay{
		Host:    h,
		Config:  cfg,
		PIDFile: filepath.Join(dir, "dhcrelay.pid"),
		output:  newSyncBuffer(""),
	}
	r.Args = []string{"-4", "-d", "-pf", r.PIDFile, "-id", cfg.Down, "-iu", cfg.Up}
	r.Args = append(r.Args, cfg.Extra...)
	for _, a := range cfg.Servers {
		r.Args = append(r.Args, a.String())
	}

	p, err := h.lab.start(h.NS, r.output, r.output, path, r.Args...)
	if err != nil {
		return nil, err
	}
	r.proc = p
	h.lab.register(r)

	if err := waitUDP67(ctx, p); err != nil {
		err = fmt.Errorf("lab: dhcrelay on %s: %w\noutput:\n%s", h.Name, err,
			r.LogTail(20))

		return nil, errors.Join(err, r.Stop())
	}
	h.lab.logf("lab: dhcrelay on %s listening (pid %d)", h.Name, p.PID())

	return r, nil
}
