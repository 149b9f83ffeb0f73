package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/leaseprobe/leaseprobe/internal/pcapfile"
	"github.com/leaseprobe/leaseprobe/output"
	"github.com/leaseprobe/leaseprobe/probe"
)

// readOptions holds the flag values of `leaseprobe read`.
type readOptions struct {
	env   *Env
	json  bool
	color string
}

const readLong = `Read analyses a packet capture (pcap or pcapng, as written by tcpdump,
Wireshark or leaseprobe check --pcap) instead of the network. It finds every
INIT-REBOOT DHCPREQUEST in it, pairs each with the replies that carry its xid
and client MAC, and reports them as check would, with the same verdicts.
Replies whose request is not in the capture are reported on their own, with
no request sent. When the capture holds the probe's RFC 5227 ARP probes
(check --arp --pcap writes them), the ARP frames are classified as check
--arp does, and the verdict may be conflict. Frames cut short by the snap
length or of a link type read does not know are counted in a warning; a
corrupt file is an error. Nothing is sent on any network.

Captures of Ethernet, Linux "any" (cooked, SLL and SLL2) and raw IP are
understood. With --json it prints a JSON array of check documents.

Exit codes: for a capture with exactly one probe, that probe's code as in
check; otherwise 0 when the capture could be read, 1 when it could not,
2 for bad usage.`

const readExample = `  # What did the probe we captured yesterday get back?
  leaseprobe read probe.pcap

  # A capture taken on a switch mirror port, as JSON
  tcpdump -i eth1 -w dhcp.pcap 'udp port 67 or udp port 68'
  leaseprobe read dhcp.pcap --json | jq '.[] | {ip: .request.ip, verdict}'`

func newReadCommand(env *Env) *cobra.Command {
	o := &readOptions{env: env}
	cmd := &cobra.Command{
		Use:     "read FILE",
		Short:   "Analyse the DHCP probes in a pcap or pcapng capture",
		Long:    readLong,
		Example: readExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: ExitUsage, err: fmt.Errorf(
					"%s takes one capture file (or - for standard "+
						"input), got %d arguments", cmd.CommandPath(), len(args))}
			}

			if args[0] == "" {
				return &exitError{code: ExitUsage, err: fmt.Errorf(
					"%s: FILE is empty: name a capture file, or - for "+
						"standard input", cmd.CommandPath())}
			}

			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			return o.run(args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false,
		"print a JSON array of documents instead of the report")
	f.StringVar(&o.color, "color", "auto",
		"colour the report: auto, always or never")
	_ = cmd.RegisterFlagCompletionFunc("color",
		cobra.FixedCompletions([]string{"auto", "always", "never"},
			cobra.ShellCompDirectiveNoFileComp))

	return cmd
}

func (o *readOptions) run(path string) error {
	color, err := (&target{env: o.env, color: o.color}).colorEnabled()
	if err != nil {
		return err
	}

	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return failf("read %s: %w", path, err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return failf("read %s: is a directory, not a capture file",
				path)
		}
		r = f
	}

	frames, stats, err := pcapfile.Read(r)
	if err != nil {
		return failf("%s: %w", path, err)
	}
	results := probe.Analyze(frames)
	if len(results) == 0 && stats.Truncated > 0 {
		// The frames were there but cut too short to tell: saying "no
		// request in the capture" would be wrong.
		return failf("%s: no probe could be read: %d frame(s) were cut "+
			"short by the capture's snap length; capture with tcpdump -s 0",
			path, stats.Truncated)
	}
	// What could not be read whole is said once on standard error and in
	// every result, as check says what it could not see.
	for _, w := range stats.Warnings() {
		fmt.Fprintf(o.env.Stderr, "leaseprobe: %s: %s\n", path, w)
		for _, res := range results {
			res.Warnings = append(res.Warnings, w)
		}
	}

	codes := make([]int, len(results))
	for i, res := range results {
		codes[i] = verdictCode(res.Verdict())
	}
	if err := o.print(results, codes, color); err != nil {
		return failf("write output: %w", err)
	}

	code := ExitValid
	if len(results) == 1 && results[0].Request.Sent > 0 {
		code = codes[0]
	}

	return &verdictError{code: code}
}

func (o *readOptions) print(results []*probe.Result, codes []int, color bool) error {
	if o.json {
		docs := make([]*output.Document, len(results))
		for i, res := range results {
			docs[i] = output.NewDocument(res, output.Meta{Version: Version(),
				ExitCode: codes[i]})
		}

		return output.WriteJSONList(o.env.Stdout, docs)
	}

	if len(results) == 0 {
		_, err := fmt.Fprintln(o.env.Stdout,
			"no INIT-REBOOT request and no DHCP reply in the capture")

		return err
	}
	for i, res := range results {
		if i > 0 {
			if _, err := fmt.Fprintln(o.env.Stdout); err != nil {
				return err
			}
		}
		err := output.WriteReport(o.env.Stdout, res, output.ReportOptions{
			Color: color, Location: time.Local})
		if err != nil {
			return err
		}
	}

	return nil
}
