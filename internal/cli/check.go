package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/leaseprobe/leaseprobe/output"
	"github.com/leaseprobe/leaseprobe/probe"
)

// checkOptions holds the flag values of `leaseprobe check`.
type checkOptions struct {
	target
	arpFlags

	retries     int
	clientID    string
	hostname    string
	noBroadcast bool
	first       bool
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

The probe needs a raw socket (CAP_NET_RAW). The deb and rpm packages
grant it at install; otherwise run it with sudo, or grant it once with
  sudo setcap cap_net_raw+ep "$(command -v leaseprobe)"

Exit codes: 0 valid, 1 error, 2 bad usage, 3 invalid, 4 no answer,
5 conflict, 6 disputed, 130 interrupted (143 on SIGTERM).`

const checkExample = `  # Is 192.0.2.50 still leased to this laptop's own MAC?
  sudo leaseprobe check -i eth0 -a 192.0.2.50

  # A customer's lease, with the client identifier Windows would send
  sudo leaseprobe check -i eth0 -m 02:00:00:00:00:01 -a 192.0.2.50 --client-id mac

  # For a script: JSON on stdout, the verdict in the exit code
  sudo leaseprobe check -i eth0 -m 02:00:00:00:00:01 -a 192.0.2.50 --json`

func newCheckCommand(env *Env) *cobra.Command {
	o := &checkOptions{target: target{env: env}}
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
	o.addFlags(f, "client hardware address to probe for "+
		"(default: the interface's own)",
		"leased IPv4 address to confirm "+
			"(default: the interface's primary IPv4 address)",
		"how long to collect replies (Go duration, at least 10ms, at most 5m)")
	f.IntVar(&o.retries, "retries", 0,
		"send the request N more times, spread over the timeout "+
			"(at most 20, no closer than 10ms apart)")
	f.StringVar(&o.clientID, "client-id", "none",
		`option 61: "none", "mac" (type 1 + MAC), or hex bytes (01:02:.. or 0102..)`)
	f.StringVar(&o.hostname, "hostname", "", "option 12 (host name) to send")
	f.BoolVar(&o.noBroadcast, "no-broadcast", false,
		"clear the BOOTP broadcast flag (replies then go to the client MAC; "+
			"the interface is put in promiscuous mode to see them)")
	f.BoolVar(&o.arp, "arp", false,
		"also ARP-probe the address (RFC 5227) within the same timeout")
	f.IntVar(&o.arpCount, "arp-count", 3,
		"with --arp: how many ARP probes to spread over the timeout")
	f.BoolVar(&o.first, "first", false,
		"stop at the first ACK or NAK instead of listening the whole "+
			"timeout (a disagreeing server may go unseen)")
	o.addCompletions(cmd)
	_ = cmd.RegisterFlagCompletionFunc("client-id", cobra.FixedCompletions(
		[]string{"none\tsend no option 61",
			"mac\ttype 1 and the MAC, as Windows sends"},
		cobra.ShellCompDirectiveNoFileComp))
	for _, name := range []string{"retries", "hostname", "arp-count"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}

	return cmd
}

// config turns the flags into a probe configuration, checking every
// value before anything is opened or sent.
func (o *checkOptions) config() (probe.Config, *net.Interface, bool, error) {
	var c probe.Config
	err := o.checkEmpty(flagValue{"client-id", o.clientID},
		flagValue{"hostname", o.hostname})
	if err != nil {
		return c, nil, false, err
	}
	color, err := o.colorEnabled()
	if err != nil {
		return c, nil, false, err
	}
	if c.ARPProbes, err = o.arpProbes(o.flags); err != nil {
		return c, nil, false, err
	}

	ifi, err := o.findInterface()
	if err != nil {
		return c, nil, false, err
	}
	c.Interface = ifi.Name
	c.InterfaceMAC = ifi.HardwareAddr
	if err := usable(ifi); err != nil {
		return c, nil, false, o.unusable(c, err)
	}

	if c.ClientMAC, err = o.clientMAC(ifi, true); err != nil {
		return c, nil, false, err
	}
	if c.IP, err = o.address(ifi, true); err != nil {
		return c, nil, false, err
	}
	if err := o.fill(&c); err != nil {
		return c, nil, false, err
	}
	o.env.hooks(&c, o.verbose)

	if err := configError(c.Validate(), ifi.Name); err != nil {
		return c, nil, false, err
	}

	return c, ifi, color, nil
}

// unusable decides what to report when the interface cannot carry the
// probe (ifErr): a value given on the command line that is wrong on any
// interface is a usage error and comes first; only then the interface.
// What the interface would have supplied (its MAC, its address) is
// stood in for by documentation values, since it cannot be read.
func (o *checkOptions) unusable(c probe.Config, ifErr error) error {
	c.InterfaceMAC = standInMAC
	c.ClientMAC = standInMAC
	c.IP = netip.MustParseAddr("192.0.2.1")
	var err error
	if o.mac != "" {
		if c.ClientMAC, err = o.clientMAC(nil, false); err != nil {
			return err
		}
	}
	if o.ip != "" {
		if c.IP, err = o.address(nil, false); err != nil {
			return err
		}
	}
	if err := o.fill(&c); err != nil {
		return err
	}
	if err := configError(c.Validate(), c.Interface); err != nil {
		return err
	}

	return ifErr
}

// fill sets what check's own flags say: option 61 and 12, the timing,
// the broadcast flag and the ARP probe.
func (o *checkOptions) fill(c *probe.Config) error {
	var err error
	if c.ClientID, err = parseClientID(o.clientID, c.ClientMAC); err != nil {
		return usageErrorf("client-id", "%v", err)
	}
	if strings.ContainsFunc(o.hostname, func(r rune) bool {
		return r < 0x21 || r > 0x7e
	}) {
		return usageErrorf("hostname",
			"%q has spaces or non-ASCII characters; use a plain host name",
			o.hostname)
	}
	c.Hostname = o.hostname
	c.Timeout = o.timeout
	c.Retries = o.retries
	c.Broadcast = !o.noBroadcast
	c.First = o.first

	return nil
}

// hooks gives a probe configuration the clock and, when verbose, a
// logger that writes to stderr.
func (e *Env) hooks(c *probe.Config, verbose bool) {
	c.Now = e.Now
	if verbose {
		c.Logf = func(format string, args ...any) {
			fmt.Fprintf(e.Stderr, "leaseprobe: "+format+"\n", args...)
		}
	}
}

// configError maps a probe.ConfigError to a usage error naming its flag;
// an interface that cannot carry frames is an operational failure.
func configError(err error, iface string) error {
	var ce *probe.ConfigError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &ce):
		return err
	case ce.Field == "interface":
		return failf("--interface %s: %s", iface, ce.Problem)
	default:
		return usageErrorf(ce.Field, "%s", ce.Problem)
	}
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
		return nil, fmt.Errorf("%q is %d byte(s); option 61 takes 2 to 255 "+
			"(a type byte, then the identifier)", s, len(b))
	}

	return b, nil
}

func (o *checkOptions) run(ctx context.Context) error {
	c, ifi, color, err := o.config()
	if err != nil {
		return err
	}

	// The socket first: --pcap must not truncate a file for a probe that
	// cannot run.
	t, err := o.open(ifi, probe.ListenOptions{
		Promiscuous: !c.Broadcast, ARP: c.ARPProbes > 0})
	if err != nil {
		return err
	}
	defer t.Close()
	closeCapture, err := o.startCapture(&c)
	if err != nil {
		return err
	}
	if !c.Broadcast && c.Logf != nil {
		c.Logf("%s is in promiscuous mode for the probe: without the "+
			"broadcast flag replies go to %s", ifi.Name, c.ClientMAC)
	}

	res, runErr := probe.Run(ctx, t, c)
	capErr := closeCapture()
	if res == nil || (runErr != nil && !sentAny(res)) {
		// Nothing went out: one line on stderr, nothing on stdout.
		return failf("probe on %s: %w", ifi.Name, runErr)
	}
	code := verdictCode(res.Verdict())
	switch {
	case runErr != nil:
		// What arrived is still shown, but the probe did not run its
		// course: the document must say so, and carry the real code.
		code = ExitError
		res.Warnings = append(res.Warnings,
			"the probe stopped early: "+runErr.Error())
	case capErr != nil:
		code = ExitError
		res.Warnings = append(res.Warnings, capErr.Error())
	case res.Interrupted:
		code = interruptCode(ctx)
	}

	if err := o.print(res, code, color); err != nil {
		return failf("write output: %w", err)
	}
	if runErr != nil {
		return failf("probe on %s: %w", ifi.Name, runErr)
	}
	if capErr != nil {
		return capErr
	}

	return &verdictError{code: code}
}

// sentAny reports whether any frame of the probe reached the wire.
func sentAny(res *probe.Result) bool {
	return res.Request.Sent > 0 || (res.ARP != nil && res.ARP.ProbesSent > 0)
}

func (o *checkOptions) print(res *probe.Result, code int, color bool) error {
	if o.json {
		return output.WriteJSON(o.env.Stdout, res,
			output.Meta{Version: Version(), ExitCode: code})
	}

	return output.WriteReport(o.env.Stdout, res, output.ReportOptions{
		Color: color, Verbose: o.verbose, Location: time.Local})
}
