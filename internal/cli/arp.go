package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/leaseprobe/leaseprobe/output"
	"github.com/leaseprobe/leaseprobe/probe"
)

// arpOptions holds the flag values of `leaseprobe arp`.
type arpOptions struct {
	target

	count int
}

const arpLong = `Arp checks whether any host is using an IPv4 address, the way a DHCP
client does before it takes a lease into use (RFC 5227 §2.1.1, RFC 2131
§4.4.1). It broadcasts ARP probes: requests with sender IP 0.0.0.0, the
interface's MAC as sender and the address as target, and listens for the
whole timeout.

A host that answers for the address, or announces it, is a conflict; the
client named with --mac answering is the owner, on line; another host
probing for the same address is reported as such. It works on an
interface without an IPv4 address. It never sends a DHCPDECLINE.

Exit codes: 0 free or owner, 1 error, 2 bad usage, 5 conflict,
130 interrupted (143 on SIGTERM).`

const arpExample = `  # Is anyone using 192.0.2.50 on this segment?
  sudo leaseprobe arp -i eth0 --ip 192.0.2.50

  # Tell the lease holder's own answer apart from a stranger's
  sudo leaseprobe arp -i eth0 --ip 192.0.2.50 --mac 02:00:00:00:00:01 --json`

func newARPCommand(env *Env) *cobra.Command {
	o := &arpOptions{target: target{env: env}}
	cmd := &cobra.Command{
		Use:     "arp",
		Short:   "ARP-probe an address (RFC 5227) to see who is using it",
		Long:    arpLong,
		Example: arpExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context())
		},
	}

	f := cmd.Flags()
	o.addFlags(f, "the MAC the address should belong to, "+
		"so its answer is told apart from a stranger's",
		"IPv4 address to probe (required)",
		"how long to listen (Go duration, at least 10ms, at most 5m)")
	f.IntVar(&o.count, "count", 3, "how many probes to spread over the timeout")
	o.addCompletions(cmd)
	_ = cmd.RegisterFlagCompletionFunc("count", cobra.NoFileCompletions)

	return cmd
}

func (o *arpOptions) run(ctx context.Context) error {
	if err := o.checkEmpty(); err != nil {
		return err
	}
	color, err := o.colorEnabled()
	if err != nil {
		return err
	}
	ifi, err := o.findInterface()
	if err != nil {
		return err
	}

	c := probe.Config{Interface: ifi.Name, InterfaceMAC: ifi.HardwareAddr,
		Timeout: o.timeout, ARPProbes: o.count}
	if c.IP, err = o.address(ifi, false); err != nil {
		return err
	}
	if c.ClientMAC, err = o.clientMAC(ifi, false); err != nil {
		return err
	}
	if o.count < 1 || o.count > probe.MaxARPProbes {
		return usageErrorf("count", "must be from 1 to %d", probe.MaxARPProbes)
	}
	if err := usable(ifi); err != nil {
		return err
	}
	if err := configError(c.ValidateARP(), ifi.Name); err != nil {
		return err
	}
	o.env.hooks(&c, o.verbose)

	// The socket first: --pcap must not truncate a file for a probe that
	// cannot run.
	t, err := o.open(ifi, probe.ListenOptions{ARP: true})
	if err != nil {
		return err
	}
	defer t.Close()
	closeCapture, err := o.startCapture(&c)
	if err != nil {
		return err
	}

	rep, runErr := probe.RunARP(ctx, t, c)
	capErr := closeCapture()
	if rep == nil {
		return configError(runErr, ifi.Name)
	}
	if runErr != nil && rep.ARP.ProbesSent == 0 {
		// Nothing went out: one line on stderr, nothing on stdout.
		return failf("probe on %s: %w", ifi.Name, runErr)
	}
	code := ExitValid
	if rep.ARP.Status() == probe.ARPConflict {
		code = ExitConflict
	}
	switch {
	case runErr != nil, capErr != nil:
		code = ExitError
	case rep.Interrupted:
		code = interruptCode(ctx)
	}

	if o.json {
		err = output.WriteARPJSON(o.env.Stdout, rep,
			output.Meta{Version: Version(), ExitCode: code})
	} else {
		err = output.WriteARPReport(o.env.Stdout, rep, output.ReportOptions{
			Color: color, Verbose: o.verbose, Location: time.Local})
	}
	if err != nil {
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
