// Package cli holds leaseprobe's commands: one file each, wired to the
// probe and output packages. Main is the only place that turns errors into
// exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/leaseprobe/leaseprobe/probe"
)

// Env is what the commands take from the process: streams, environment,
// clock, and access to interfaces and sockets. Tests replace any of it.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up an environment variable.
	Getenv func(string) (string, bool)
	// IsTerminal reports whether a writer is a terminal.
	IsTerminal func(io.Writer) bool
	// InterfaceByName finds a network interface.
	InterfaceByName func(string) (*net.Interface, error)
	// Interfaces lists the network interfaces, for error messages.
	Interfaces func() ([]net.Interface, error)
	// DefaultInterface names the interface of the IPv4 default route.
	DefaultInterface func() (string, error)
	// PrimaryIPv4 returns an interface's first IPv4 address.
	PrimaryIPv4 func(*net.Interface) (netip.Addr, error)
	// Listen opens the probe's socket on an interface.
	Listen func(*net.Interface, probe.ListenOptions) (probe.Transport, error)
	// Now returns the current time.
	Now func() time.Time
	// Create creates or truncates a file to write, such as --pcap.
	Create func(name string) (io.WriteCloser, error)
}

// OSEnv is the Env of a real process.
func OSEnv() *Env {
	return &Env{
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.LookupEnv,
		IsTerminal:       isTerminal,
		InterfaceByName:  net.InterfaceByName,
		Interfaces:       net.Interfaces,
		DefaultInterface: probe.DefaultInterface,
		PrimaryIPv4:      probe.PrimaryIPv4,
		Listen: func(ifi *net.Interface, o probe.ListenOptions) (probe.Transport, error) {
			return probe.Listen(ifi, o)
		},
		Now: time.Now,
		Create: func(name string) (io.WriteCloser, error) {
			return os.Create(name)
		},
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)

	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// NewRootCommand builds the leaseprobe command tree.
func NewRootCommand(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "leaseprobe",
		Short: "Ask every DHCPv4 server on a segment whether a lease is valid",
		Long: `leaseprobe behaves like a DHCPv4 client rebooting with a lease it
remembers (RFC 2131 INIT-REBOOT): it broadcasts one DHCPREQUEST for a client
MAC and IPv4 address and reports, per server, every ACK and NAK that answers.
It can also ARP-probe the address (RFC 5227) and analyse packet captures.

Commands:
  check       ask every DHCP server whether a MAC still holds an address
  arp         ARP-probe an address to see who is using it
  read        analyse the probes in a pcap or pcapng capture
  batch       check many leases from a CSV, JSON lines or lease file
  completion  print a shell completion script
  version     print the version, commit, build date and Go version

Safety: leaseprobe only sends DHCPREQUEST (and ARP probes); never DISCOVER,
RELEASE or DECLINE. An ACK is a real answer: the server may have committed
or extended the lease, and stored the hostname and client identifier sent.

Exit codes: 0 valid (arp: free or owner), 1 error (permission, an interface
that is down or has no Ethernet address, a socket failure), 2 bad usage
(nothing was sent), 3 invalid, 4 no answer, 5 conflict, 6 disputed,
7 batch: not every pair valid, or some input rows unusable,
130 interrupted (143 on SIGTERM).

Environment: NO_COLOR turns colour off unless --color always is given.
Probing needs CAP_NET_RAW: the deb and rpm packages grant it at install;
otherwise run with sudo, or grant it once with
  sudo setcap cap_net_raw+ep "$(command -v leaseprobe)"`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetVersionTemplate("leaseprobe {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: flagError(cmd, err)}
	})
	// --version has no -v: in the subcommands -v is --verbose.
	root.Flags().Bool("version", false, "print the version and exit")
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newCheckCommand(env), newARPCommand(env),
		newReadCommand(env), newBatchCommand(env), newCompletionCommand(env),
		newVersionCommand(env))

	return root
}

// pflagValue matches pflag's message for a value it cannot parse.
var pflagValue = regexp.MustCompile(
	`^invalid argument "(.*)" for "(?:-\w, )?--([\w-]+)" flag: (.*)$`)

// flagError rewrites pflag's parse errors into one line that names the
// flag and the fix.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	m := pflagValue.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("%s; see '%s --help'", msg, cmd.CommandPath())
	}

	value, flag, why := m[1], m[2], m[3]
	want := "a valid value"
	switch {
	case strings.HasPrefix(why, "time: "):
		want = "a duration such as 500ms, 3s or 1m"
	case strings.Contains(why, "ParseInt"):
		want = "a whole number"
	case strings.Contains(why, "ParseFloat"):
		want = "a number"
	case strings.Contains(why, "ParseBool"):
		want = "true or false"
	}

	return fmt.Errorf("--%s: %q is not %s", flag, value, want)
}

// Main runs leaseprobe with args and returns the process exit code. It is
// the only place that prints an error.
func Main(ctx context.Context, env *Env, args []string) int {
	root := NewRootCommand(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)

	var ve *verdictError
	if err != nil && !errors.As(err, &ve) {
		var ee *exitError
		if !errors.As(err, &ee) && isUsage(err) {
			code = ExitUsage
		}
		fmt.Fprintf(env.Stderr, "leaseprobe: %v\n", err)
	}

	return code
}

// isUsage recognises the errors cobra itself returns for bad command
// lines: unknown commands and wrong argument counts.
func isUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "accepts ", "unknown flag",
		"unknown shorthand", "requires at least", "invalid argument"} {
		if strings.Contains(msg, s) {
			return true
		}
	}

	return false
}
