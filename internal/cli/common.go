package cli

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/leaseprobe/leaseprobe/internal/pcapfile"
	"github.com/leaseprobe/leaseprobe/output"
	"github.com/leaseprobe/leaseprobe/probe"
)

// target holds the flags every probing command shares: where to probe,
// for whom, for how long, and how to print.
type target struct {
	env   *Env
	flags *pflag.FlagSet

	iface   string
	mac     string
	ip      string
	timeout time.Duration
	json    bool
	color   string
	verbose bool
	pcap    string
}

// addFlags binds the shared flags; the help of --mac, --ip and --timeout
// differs between commands.
func (o *target) addFlags(f *pflag.FlagSet, macHelp, ipHelp, timeoutHelp string) {
	o.flags = f
	f.StringVarP(&o.iface, "interface", "i", "",
		"interface to probe on (default: the interface of the default IPv4 route)")
	f.StringVarP(&o.mac, "mac", "m", "", macHelp)
	f.StringVarP(&o.ip, "ip", "a", "", ipHelp)
	f.DurationVarP(&o.timeout, "timeout", "t", 3*time.Second, timeoutHelp)
	f.BoolVar(&o.json, "json", false,
		"print one JSON document instead of the report")
	f.StringVar(&o.color, "color", "auto",
		"colour the report: auto, always or never")
	f.BoolVarP(&o.verbose, "verbose", "v", false,
		"explain each step on stderr")
	f.StringVar(&o.pcap, "pcap", "",
		"write every frame sent and considered to this pcap file")
}

// arpFlags holds --arp and --arp-count, which check and batch share.
type arpFlags struct {
	arp      bool
	arpCount int
}

// arpProbes checks --arp and --arp-count, as set in flags, and returns
// how many ARP probes each probe sends: 0 without --arp.
func (a *arpFlags) arpProbes(flags *pflag.FlagSet) (int, error) {
	switch {
	case flags.Changed("arp-count") && !a.arp:
		return 0, usageErrorf("arp-count",
			"needs --arp; add --arp to ARP-probe the address")
	case !a.arp:
		return 0, nil
	case a.arpCount < 1 || a.arpCount > probe.MaxARPProbes:
		return 0, usageErrorf("arp-count", "must be from 1 to %d",
			probe.MaxARPProbes)
	}

	return a.arpCount, nil
}

// startCapture opens --pcap, if given, and makes c record into it. The
// returned function closes the file and reports any write error.
func (o *target) startCapture(c *probe.Config) (func() error, error) {
	if o.pcap == "" {
		return func() error { return nil }, nil
	}

	f, err := o.env.Create(o.pcap)
	if err != nil {
		return nil, usageErrorf("pcap", "cannot create the file: %v", err)
	}
	w, err := pcapfile.NewWriter(f)
	if err != nil {
		f.Close()

		return nil, failf("--pcap %s: %w", o.pcap, err)
	}
	c.Record = w.Write

	return func() error {
		err := w.Err()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return failf("--pcap %s: %w", o.pcap, err)
		}

		return nil
	}, nil
}

// addCompletions completes --interface with this host's interface names
// and the enum flags with their values; none of them completes files.
func (o *target) addCompletions(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("interface", func(*cobra.Command,
		[]string, string) ([]string, cobra.ShellCompDirective) {
		all, err := o.env.Interfaces()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, ifi := range all {
			if len(ifi.HardwareAddr) == 6 && ifi.Flags&net.FlagLoopback == 0 {
				names = append(names, ifi.Name)
			}
		}

		return names, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("color",
		cobra.FixedCompletions([]string{"auto", "always", "never"},
			cobra.ShellCompDirectiveNoFileComp))
	for _, name := range []string{"mac", "ip", "timeout"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
}

// flagValue is a string flag's name and value.
type flagValue struct{ name, value string }

// checkEmpty refuses flags given with an empty value, such as -a "$ip"
// with ip unset: leaving them out picks a default, which would probe
// someone else than meant. more names a command's own string flags.
func (o *target) checkEmpty(more ...flagValue) error {
	all := append([]flagValue{{"interface", o.iface}, {"mac", o.mac},
		{"ip", o.ip}, {"pcap", o.pcap}}, more...)
	for _, f := range all {
		if o.flags.Changed(f.name) && strings.TrimSpace(f.value) == "" {
			return usageErrorf(f.name, "is empty; give a value, or leave "+
				"the flag out to use its default")
		}
	}

	return nil
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

func (o *target) colorEnabled() (bool, error) {
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
func (o *target) findInterface() (*net.Interface, error) {
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

// standInMAC takes the place of what an unusable interface would have
// given (its MAC, the default client MAC) while the flags are checked.
var standInMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}

// usable reports, as an operational failure, an interface that cannot
// carry the probe: down, without carrier, or without an Ethernet address.
// Commands call it after checking the values given on the command line,
// which are usage errors on any interface, and before deriving defaults
// from the interface, such as the client MAC.
func usable(ifi *net.Interface) error {
	if err := probe.CheckInterface(ifi); err != nil {
		return listenError(ifi.Name, err)
	}

	return nil
}

// interfaceList names the interfaces that could be probed on now: up,
// with a link and an Ethernet address.
func (o *target) interfaceList() string {
	all, err := o.env.Interfaces()
	if err != nil {
		return "see 'ip link'"
	}

	var names []string
	for _, ifi := range all {
		if probe.CheckInterface(&ifi) == nil {
			names = append(names, ifi.Name)
		}
	}
	if len(names) == 0 {
		return "this host has no Ethernet interface that is up with a link"
	}

	return "choose one of: " + strings.Join(names, ", ")
}

// clientMAC reads --mac. When it is not given, it is the interface's own
// MAC if orOwn is set, else nil.
func (o *target) clientMAC(ifi *net.Interface, orOwn bool) (net.HardwareAddr, error) {
	if o.mac == "" {
		if orOwn {
			return ifi.HardwareAddr, nil
		}

		return nil, nil
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

// address reads --ip. When it is not given, it is the interface's
// primary IPv4 address if orOwn is set, else a usage error.
func (o *target) address(ifi *net.Interface, orOwn bool) (netip.Addr, error) {
	if o.ip == "" {
		if !orOwn {
			return netip.Addr{}, usageErrorf("ip",
				"the address to probe is required, e.g. --ip 192.0.2.50")
		}
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
		return ip, usageErrorf("ip", "%q %v", o.ip, probe.ValidateIP(ip))
	}
	if err := probe.ValidateIP(ip); err != nil {
		return ip, usageErrorf("ip", "%s %v", o.ip, err)
	}

	return ip, nil
}

// open opens the probe socket on an interface findInterface returned.
func (o *target) open(ifi *net.Interface, opts probe.ListenOptions) (probe.Transport, error) {
	t, err := o.env.Listen(ifi, opts)
	if err != nil {
		return nil, listenError(ifi.Name, err)
	}

	return t, nil
}

// listenError turns a socket failure into one actionable line.
func listenError(name string, err error) error {
	switch {
	case errors.Is(err, os.ErrPermission):
		return failf("open raw socket on %s: needs CAP_NET_RAW: run with "+
			"sudo, or setcap cap_net_raw+ep on the binary", name)
	case errors.Is(err, probe.ErrNotSupported):
		return failf("probing is not supported on %s yet", runtime.GOOS)
	case errors.Is(err, probe.ErrInterfaceDown):
		return failf("--interface %s is down; bring it up first "+
			"(ip link set %s up)", name, name)
	case errors.Is(err, probe.ErrNoCarrier):
		return failf("--interface %s is up but has no link (cable, Wi-Fi "+
			"association or peer down); the frames would be dropped", name)
	case errors.Is(err, probe.ErrNoEthernet):
		return failf("--interface %s has no Ethernet address (loopback, "+
			"tun, wireguard or ppp?); probe on an Ethernet or Wi-Fi "+
			"interface", name)
	default:
		return failf("%w", err)
	}
}
