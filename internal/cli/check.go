package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/leaseprobe/leaseprobe/output"
	"github.com/leaseprobe/leaseprobe/probe"
)

// checkOptions holds the flag values of `leaseprobe check`.
type checkOptions struct {
	env *Env

	iface       string
	mac         string
	ip          string
	timeout     time.Duration
	retries     int
	clientID    string
	hostname    string
	noBroadcast bool
	json        bool
	color       string
	verbose     bool
}

const checkLong = `Check sends one DHCPREQUEST as a client in the INIT-REBOOT state would
(RFC 2131 §4.3.2): broadcast from 0.0.0.0:68 to 255.255.255.255:67, with the
client's MAC as chaddr, the address in option 50, ciaddr 0, no server
identifier and a random xid. It then listens for the whole timeout and
reports every DHCPACK and DHCPNAK, from every server, grouped per server.

It never sends DHCPDISCOVER, DHCPRELEASE or DHCPDECLINE. But an ACK is a
real answer to a real request: the server may have committed or extended
the lease (and stored the client identifier sent) because of it.

Silence is not a verdict on the address: servers that are not
authoritative stay silent for clients they do not know.

The probe needs a raw socket (CAP_NET_RAW): run it with sudo, or once
  sudo setcap cap_net_raw+ep "$(command -v leaseprobe)"

Exit codes: 0 valid, 1 error, 2 bad usage, 3 invalid, 4 no answer,
5 conflict, 6 disputed, 130 interrupted.`

const checkExample = `  # Is 192.0.2.50 still leased to this laptop's own MAC?
  sudo leaseprobe check -i eth0 -a 192.0.2.50

  # A customer's lease, with the client identifier Windows would send
  sudo leaseprobe check -i eth0 -m 02:00:00:00:00:01 -a 192.0.2.50 --client-id mac

  # For a script: JSON on stdout, the verdict in the exit code
  sudo leaseprobe check -i eth0 -m 02:00:00:00:00:01 -a 192.0.2.50 --json`

func newCheckCommand(env *Env) *cobra.Command {
	o := &checkOptions{env: env}
	cmd := &cobra.Command{
		Use:     "check",
		Short:   "Ask every DHCP server whether a MAC still holds an address",
		Long:    checkLong,
		Example: checkExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context())
		},
	}

	f := cmd.Flags()
	f.StringVarP(&o.iface, "interface", "i", "",
		"interface to probe on (default: the interface of the default IPv4 route)")
	f.StringVarP(&o.mac, "mac", "m", "",
		"client hardware address to probe for (default: the interface's own)")
	f.StringVarP(&o.ip, "ip", "a", "",
		"leased IPv4 address to confirm (default: the interface's primary IPv4 address)")
	f.DurationVarP(&o.timeout, "timeout", "t", 3*time.Second,
		"how long to collect replies (Go duration, more than 0, at most 5m)")
	f.IntVar(&o.retries, "retries", 0,
		"send the request N more times, spread over the timeout")
	f.StringVar(&o.clientID, "client-id", "none",
		`option 61: "none", "mac" (type 1 + MAC), or hex bytes (01:02:.. or 0102..)`)
	f.StringVar(&o.hostname, "hostname", "", "option 12 (host name) to send")
	f.BoolVar(&o.noBroadcast, "no-broadcast", false,
		"clear the BOOTP broadcast flag (replies then go to the client MAC; "+
			"the interface is put in promiscuous mode to see them)")
	f.BoolVar(&o.json, "json", false,
		"print one JSON document instead of the report")
	f.StringVar(&o.color, "color", "auto", "colour the report: auto, always or never")
	f.BoolVarP(&o.verbose, "verbose", "v", false,
		"explain each step on stderr")

	return cmd
}

// noArgs refuses positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &exitError{code: ExitUsage, err: fmt.Errorf(
			"%s takes no arguments, got %q; use flags such as --ip",
			cmd.CommandPath(), args[0])}
	}

	return nil
}

// config turns the flags into a probe configuration, checking every
// value before anything is opened or sent.
func (o *checkOptions) config() (probe.Config, *net.Interface, bool, error) {
	var c probe.Config
	color, err := o.colorEnabled()
	if err != nil {
		return c, nil, false, err
	}

	ifi, err := o.findInterface()
	if err != nil {
		return c, nil, false, err
	}
	c.Interface = ifi.Name
	c.InterfaceMAC = ifi.HardwareAddr

	if c.ClientMAC, err = o.clientMAC(ifi); err != nil {
		return c, nil, false, err
	}
	if c.IP, err = o.address(ifi); err != nil {
		return c, nil, false, err
	}
	if c.ClientID, err = parseClientID(o.clientID, c.ClientMAC); err != nil {
		return c, nil, false, usageErrorf("client-id", "%v", err)
	}
	if strings.ContainsFunc(o.hostname, func(r rune) bool {
		return r < 0x21 || r > 0x7e
	}) {
		return c, nil, false, usageErrorf("hostname",
			"%q has spaces or non-ASCII characters; use a plain host name",
			o.hostname)
	}
	c.Hostname = o.hostname
	c.Timeout = o.timeout
	c.Retries = o.retries
	c.Broadcast = !o.noBroadcast
	c.Now = o.env.Now
	if o.verbose {
		c.Logf = func(format string, args ...any) {
			fmt.Fprintf(o.env.Stderr, "leaseprobe: "+format+"\n", args...)
		}
	}

	if err := c.Validate(); err != nil {
		var ce *probe.ConfigError
		if errors.As(err, &ce) {
			if ce.Field == "interface" {
				return c, nil, false, failf("--interface %s: %s", ifi.Name,
					ce.Problem)
			}

			return c, nil, false, usageErrorf(ce.Field, "%s", ce.Problem)
		}

		return c, nil, false, err
	}

	return c, ifi, color, nil
}

func (o *checkOptions) colorEnabled() (bool, error) {
	noColor, set := o.env.Getenv("NO_COLOR")
	on, err := output.ColorEnabled(o.color, set && noColor != "",
		o.env.IsTerminal(o.env.Stdout))
	if err != nil {
		return false, usageErrorf("color",
			"%q is not a mode; use auto, always or never", o.color)
	}

	return on, nil
}

// findInterface looks up --interface, or the default route's interface.
func (o *checkOptions) findInterface() (*net.Interface, error) {
	name := o.iface
	if name == "" {
		var err error
		if name, err = o.env.DefaultInterface(); err != nil {
			return nil, usageErrorf("interface",
				"none given and no default route to pick one (%v); "+
					"name one, e.g. -i eth0", err)
		}
	}

	ifi, err := o.env.InterfaceByName(name)
	if err != nil {
		return nil, usageErrorf("interface", "no interface named %q; %s",
			name, o.interfaceList())
	}

	return ifi, nil
}

// interfaceList names the interfaces that could be probed on.
func (o *checkOptions) interfaceList() string {
	all, err := o.env.Interfaces()
	if err != nil {
		return "see 'ip link'"
	}

	var names []string
	for _, ifi := range all {
		if len(ifi.HardwareAddr) == 6 && ifi.Flags&net.FlagLoopback == 0 {
			names = append(names, ifi.Name)
		}
	}
	if len(names) == 0 {
		return "this host has no Ethernet interface"
	}

	return "choose one of: " + strings.Join(names, ", ")
}

func (o *checkOptions) clientMAC(ifi *net.Interface) (net.HardwareAddr, error) {
	if o.mac == "" {
		return ifi.HardwareAddr, nil
	}

	mac, err := net.ParseMAC(o.mac)
	if err != nil {
		return nil, usageErrorf("mac",
			"%q is not a MAC address; write it like 02:00:00:00:00:01", o.mac)
	}
	if err := probe.ValidateClientMAC(mac); err != nil {
		return nil, usageErrorf("mac", "%s %v", o.mac, err)
	}

	return mac, nil
}

func (o *checkOptions) address(ifi *net.Interface) (netip.Addr, error) {
	if o.ip == "" {
		ip, err := o.env.PrimaryIPv4(ifi)
		if err != nil {
			return ip, usageErrorf("ip", "none given and %s has no IPv4 "+
				"address; give the leased address, e.g. --ip 192.0.2.50",
				ifi.Name)
		}

		return ip, nil
	}

	ip, err := netip.ParseAddr(o.ip)
	if err != nil {
		return ip, usageErrorf("ip",
			"%q is not an IPv4 address; write it like 192.0.2.50", o.ip)
	}
	if err := probe.ValidateIP(ip); err != nil {
		return ip, usageErrorf("ip", "%s %v", o.ip, err)
	}

	return ip, nil
}

// parseClientID reads --client-id: none, mac (RFC 2132 §9.14 type 1 and
// the hardware address, as Windows sends) or hex bytes.
func parseClientID(s string, mac net.HardwareAddr) ([]byte, error) {
	switch strings.ToLower(s) {
	case "none", "":
		return nil, nil
	case "mac":
		return append([]byte{1}, mac...), nil
	}

	clean := strings.NewReplacer(":", "", "-", "", ".", "").Replace(s)
	clean = strings.TrimPrefix(strings.ToLower(clean), "0x")
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%q is not none, mac or hex bytes "+
			"like 01:02:00:00:00:00:01", s)
	}
	if len(b) < 2 || len(b) > 255 {
		return nil, fmt.Errorf("%q is %d bytes; option 61 takes 2 to 255 "+
			"(a type byte, then the identifier)", s, len(b))
	}

	return b, nil
}

func (o *checkOptions) run(ctx context.Context) error {
	c, ifi, color, err := o.config()
	if err != nil {
		return err
	}

	if err := probe.CheckInterface(ifi); err != nil {
		return listenError(ifi.Name, err)
	}
	t, err := o.env.Listen(ifi, probe.ListenOptions{Promiscuous: !c.Broadcast})
	if err != nil {
		return listenError(ifi.Name, err)
	}
	defer t.Close()
	if !c.Broadcast && c.Logf != nil {
		c.Logf("%s is in promiscuous mode for the probe: without the "+
			"broadcast flag replies go to %s", ifi.Name, c.ClientMAC)
	}

	res, runErr := probe.Run(ctx, t, c)
	if res == nil {
		return failf("probe: %w", runErr)
	}
	code := verdictCode(res.Verdict())
	if res.Interrupted {
		code = ExitInterrupted
	}

	if err := o.print(res, code, color); err != nil {
		return failf("write output: %w", err)
	}
	if runErr != nil {
		return failf("probe on %s: %w", ifi.Name, runErr)
	}

	return &verdictError{code: code}
}

func (o *checkOptions) print(res *probe.Result, code int, color bool) error {
	if o.json {
		return output.WriteJSON(o.env.Stdout, res,
			output.Meta{Version: Version(), ExitCode: code})
	}

	return output.WriteReport(o.env.Stdout, res, output.ReportOptions{
		Color: color, Verbose: o.verbose, Location: time.Local})
}

// listenError turns a socket failure into one actionable line.
func listenError(name string, err error) error {
	switch {
	case errors.Is(err, os.ErrPermission):
		return failf("open raw socket on %s: needs CAP_NET_RAW: run with "+
			"sudo, or setcap cap_net_raw+ep on the binary", name)
	case errors.Is(err, probe.ErrNotSupported):
		return failf("leaseprobe check is not supported on %s yet",
			runtime.GOOS)
	case errors.Is(err, probe.ErrInterfaceDown):
		return failf("--interface %s is down; bring it up first "+
			"(ip link set %s up)", name, name)
	case errors.Is(err, probe.ErrNoEthernet):
		return failf("--interface %s has no Ethernet address (loopback, "+
			"tun, wireguard or ppp?); probe on an Ethernet or Wi-Fi "+
			"interface", name)
	default:
		return failf("%w", err)
	}
}
