//go:build linux

package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// KeaConfig is the setup of one kea-dhcp4: one subnet (id 1) with one
// pool, on the host's lab interface, raw sockets, leases in a memfile.
type KeaConfig struct {
	ServerOptions
	// Global is merged into the "Dhcp4" object of the configuration as it
	// is, after everything else, so it can override any key.
	Global map[string]any
}

// Kea is a kea-dhcp4 running in a lab host.
type Kea struct {
	Host   *Host
	Config KeaConfig

	// ConfigFile is the JSON configuration kea-dhcp4 was started with.
	ConfigFile string
	// LeaseFile is the memfile lease database (CSV with a header line).
	LeaseFile string
	// LogFile is where kea-dhcp4 logs.
	LogFile string
	// Dir holds the files above, the pid file, the logger's lock file and
	// the control socket.
	Dir string

	proc   *Process
	output *syncBuffer
}

// keaLeaseHeader is the header of Kea 2.2's lease4 memfile (schema 2.1).
const keaLeaseHeader = "address,hwaddr,client_id,valid_lifetime,expire," +
	"subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context"

// keaLine formats l as a row of Kea's lease4 memfile: a lease that started
// a day before it expires, in subnet 1, in the default state (0).
func keaLine(l Lease, now time.Time) string {
	const valid = 24 * 60 * 60

	return strings.Join([]string{
		l.IP.String(),
		l.MAC.String(),
		colonHex(l.ClientID),
		fmt.Sprint(valid),
		fmt.Sprint(l.expiry(now).Unix()),
		"1",
		"0",
		"0",
		l.Hostname,
		"0",
		"",
	}, ",")
}

// Program returns ProgramKea.
func (k *Kea) Program() string {
	return ProgramKea
}

// Name says where kea-dhcp4 runs: "kea-dhcp4 on HOST".
func (k *Kea) Name() string {
	return ProgramKea + " on " + k.Host.Name
}

// Process returns the running kea-dhcp4.
func (k *Kea) Process() *Process {
	return k.proc
}

// Stop stops kea-dhcp4: SIGTERM, then SIGKILL after StopGrace.
func (k *Kea) Stop() error {
	return k.proc.Stop(syscall.SIGTERM, StopGrace)
}

// Log returns kea-dhcp4's log file and anything it printed itself.
func (k *Kea) Log() string {
	return readOr(k.LogFile) + k.output.String()
}

// LogTail returns the last n lines of Log.
func (k *Kea) LogTail(n int) string {
	return tailLines(k.Log(), n)
}

// Leases returns the current contents of the memfile lease database.
func (k *Kea) Leases() (string, error) {
	data, err := os.ReadFile(k.LeaseFile)
	if err != nil {
		return "", fmt.Errorf("lab: read leases of %s: %w", k.Name(), err)
	}

	return string(data), nil
}

// StartKea writes cfg's leases to a fresh memfile and starts kea-dhcp4 in
// the foreground in the host's namespace, on its lab interface, with its
// configuration, lease, log and pid files, logger lock file and control
// socket in a directory of the lab's own (KEA_PIDFILE_DIR and
// KEA_LOCKFILE_DIR point there). It returns once kea-dhcp4 owns a UDP port
// 67 socket and has logged that it is ready (DHCP4_STARTED), or with an
// error that carries the tail of its log. ctx
// bounds the wait (10s when it has no deadline).
func (h *Host) StartKea(ctx context.Context, cfg KeaConfig) (*Kea, error) {
	if err := cfg.check(h); err != nil {
		return nil, fmt.Errorf("lab: kea-dhcp4 on %s: %w", h.Name, err)
	}
	path, err := lookTool(ProgramKea)
	if err != nil {
		return nil, err
	}

	dir := filepath.Join(h.lab.Dir, "kea-"+h.Name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: kea-dhcp4 on %s: %w", h.Name, err)
	}
	k := &Kea{
		Host:       h,
		Config:     cfg,
		ConfigFile: filepath.Join(dir, "kea-dhcp4.json"),
		LeaseFile:  filepath.Join(dir, "leases4.csv"),
		LogFile:    filepath.Join(dir, "log"),
		Dir:        dir,
		output:     newSyncBuffer(""),
	}

	leases := []string{keaLeaseHeader}
	now := time.Now()
	for _, l := range cfg.Leases {
		leases = append(leases, keaLine(l, now))
	}
	if err := os.WriteFile(k.LeaseFile, []byte(strings.Join(leases, "\n")+"\n"),
		0o644); err != nil {
		return nil, fmt.Errorf("lab: kea-dhcp4 on %s: %w", h.Name, err)
	}
	conf, err := json.MarshalIndent(keaConfig(h, cfg, k), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("lab: kea-dhcp4 on %s: %w", h.Name, err)
	}
	if err := os.WriteFile(k.ConfigFile, conf, 0o644); err != nil {
		return nil, fmt.Errorf("lab: kea-dhcp4 on %s: %w", h.Name, err)
	}

	env := []string{"KEA_PIDFILE_DIR=" + dir, "KEA_LOCKFILE_DIR=" + dir}
	p, err := h.lab.startEnv(h.NS, env, k.output, k.output, path, "-c", k.ConfigFile)
	if err != nil {
		return nil, err
	}
	k.proc = p
	h.lab.register(k)

	if err := k.waitStarted(ctx); err != nil {
		err = fmt.Errorf("lab: kea-dhcp4 on %s: %w\nlog tail:\n%s", h.Name, err,
			k.LogTail(20))

		return nil, errors.Join(err, k.Stop())
	}
	h.lab.logf("lab: kea-dhcp4 on %s listening (pid %d)", h.Name, p.PID())

	return k, nil
}

// keaConfig builds the configuration document.
func keaConfig(h *Host, cfg KeaConfig, k *Kea) map[string]any {
	start, end := cfg.pool()
	lease := int(cfg.leaseTime() / time.Second)

	opts := []map[string]any{}
	if cfg.Router.IsValid() {
		opts = append(opts, map[string]any{"name": "routers", "data": cfg.Router.String()})
	}
	if len(cfg.DNS) > 0 {
		list := make([]string, len(cfg.DNS))
		for i, a := range cfg.DNS {
			list[i] = a.String()
		}
		opts = append(opts, map[string]any{
			"name": "domain-name-servers", "data": strings.Join(list, ", "),
		})
	}
	if cfg.Domain != "" {
		opts = append(opts, map[string]any{"name": "domain-name", "data": cfg.Domain})
	}

	dhcp4 := map[string]any{
		"interfaces-config": map[string]any{
			"interfaces":       []string{h.Iface},
			"dhcp-socket-type": "raw",
		},
		"lease-database": map[string]any{
			"type":    "memfile",
			"name":    k.LeaseFile,
			"persist": true,
			// No lease file cleanup (kea-lfc) during a test.
			"lfc-interval": 0,
		},
		"control-socket": map[string]any{
			"socket-type": "unix",
			"socket-name": filepath.Join(k.Dir, "control"),
		},
		"authoritative":  cfg.Authoritative,
		"valid-lifetime": lease,
		"renew-timer":    lease / 2,
		"rebind-timer":   lease * 7 / 8,
		"subnet4": []map[string]any{{
			"id":          1,
			"subnet":      cfg.subnet(h).String(),
			"pools":       []map[string]any{{"pool": start.String() + " - " + end.String()}},
			"option-data": opts,
		}},
		"loggers": []map[string]any{{
			"name":       "kea-dhcp4",
			"severity":   "DEBUG",
			"debuglevel": 15,
			"output_options": []map[string]any{{
				"output": k.LogFile,
			}},
		}},
	}
	for key, v := range cfg.Global {
		dhcp4[key] = v
	}

	return map[string]any{"Dhcp4": dhcp4}
}

// waitStarted waits for kea-dhcp4's UDP port 67 socket, then for the line
// it logs when it is ready to process packets (DHCP4_STARTED). The socket
// alone is not enough: a request sent after it appeared but before that
// line went unanswered about once in twenty starts.
func (k *Kea) waitStarted(ctx context.Context) error {
	return waitReady(ctx, k.proc, func() string { return readOr(k.LogFile) },
		" DHCP4_STARTED ")
}
