package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/leaseprobe/leaseprobe/internal/leasefile"
	"github.com/leaseprobe/leaseprobe/output"
	"github.com/leaseprobe/leaseprobe/probe"
)

// batchOptions holds the flag values of `leaseprobe batch`.
type batchOptions struct {
	target
	arpFlags

	format      string
	retries     int
	clientID    string
	noBroadcast bool
	rate        float64
	concurrency int
}

const batchLong = `Batch checks many (MAC, IP[, client-id]) pairs, each exactly as check
does: its own DHCPREQUEST with its own random xid, every reply collected
within its own timeout, from every server. All probes share one socket.

Input (a file, or - for standard input), detected or chosen with --format:
  csv      a header line with mac and ip columns, and optionally client_id
  jsonl    one {"mac": .., "ip": .., "client_id": ..} object per line
  dnsmasq  a dnsmasq lease file
  isc      an ISC dhcpd.leases file (active bindings only)
  kea      a Kea memfile lease CSV (active leases only)
Rows that cannot be used are reported with their line number and skipped;
they never stop the batch. A client identifier stored with a lease is sent
with that lease's probe; --client-id is the default for the others.

Every ACK may write a lease on the server, so probes are paced: at most
--rate started per second (0.001 or more, or 0 for no limit) and at most
--concurrency in flight. Ctrl-C stops sending, lets the probes in flight
finish, and prints what was found; a second Ctrl-C ends at once.

Output: a table and a summary line, or with --json one check document per
pair as JSON lines (with input_line), then a summary object. A progress
bar goes to stderr when it is a terminal.

Exit codes: 0 every pair valid and every row usable, 7 otherwise, 1 error,
2 bad usage, 130 interrupted (143 on SIGTERM).`

const batchExample = `  # Every lease dnsmasq holds, still valid?
  sudo leaseprobe batch -i eth0 /var/lib/misc/dnsmasq.leases

  # After a migration: the old ISC leases against the new servers, as JSON
  sudo leaseprobe batch -i eth0 --format isc dhcpd.leases --json > results.jsonl`

func newBatchCommand(env *Env) *cobra.Command {
	o := &batchOptions{target: target{env: env}}
	cmd := &cobra.Command{
		Use:     "batch [FILE|-]",
		Short:   "Check many MAC and address pairs from a lease file or list",
		Long:    batchLong,
		Example: batchExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &exitError{code: ExitUsage, err: fmt.Errorf(
					"%s takes one input file (or - for standard input), "+
						"got %d", cmd.CommandPath(), len(args))}
			}

			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "-"
			if len(args) == 1 {
				path = args[0]
			}

			return o.run(cmd.Context(), path)
		},
	}

	f := cmd.Flags()
	o.addFlags(f, "", "", "how long each probe collects replies "+
		"(Go duration, at least 10ms, at most 5m)")
	f.Lookup("json").Usage = "print JSON lines: one check document " +
		"per pair, then a summary"
	// A batch takes its MACs and addresses from the input.
	_ = f.MarkHidden("mac")
	_ = f.MarkHidden("ip")
	f.StringVar(&o.format, "format", "",
		"input format: csv, jsonl, dnsmasq, isc or kea (default: detect)")
	f.IntVar(&o.retries, "retries", 0,
		"send each request N more times, spread over the timeout")
	f.StringVar(&o.clientID, "client-id", "none",
		`option 61 for pairs without one: "none", "mac" or hex bytes`)
	f.BoolVar(&o.noBroadcast, "no-broadcast", false,
		"clear the BOOTP broadcast flag (promiscuous mode for the run)")
	f.BoolVar(&o.arp, "arp", false, "also ARP-probe each address")
	f.IntVar(&o.arpCount, "arp-count", 3,
		"with --arp: ARP probes per pair, spread over the timeout")
	f.Float64Var(&o.rate, "rate", 20,
		"start at most this many probes per second, at least 0.001 "+
			"(0: no limit)")
	f.IntVar(&o.concurrency, "concurrency", 64,
		"at most this many probes in flight")
	o.addCompletions(cmd)
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"csv", "jsonl", "dnsmasq", "isc", "kea"},
		cobra.ShellCompDirectiveNoFileComp))

	return cmd
}

// batchSettings is what the flags of a batch resolve to.
type batchSettings struct {
	cfg    probe.BatchConfig
	format leasefile.Format
	color  bool
	ifi    *net.Interface
}

// settings checks the flags and returns the batch configuration.
func (o *batchOptions) settings() (*batchSettings, error) {
	err := o.checkEmpty(flagValue{"client-id", o.clientID},
		flagValue{"format", o.format})
	if err != nil {
		return nil, err
	}
	if o.mac != "" || o.ip != "" {
		return nil, usageErrorf("mac", "and --ip do not apply to "+
			"batch: the pairs come from the input file")
	}
	arpProbes, err := o.arpProbes(o.flags)
	if err != nil {
		return nil, err
	}
	format, err := leasefile.ParseFormat(o.format)
	if err != nil {
		return nil, usageErrorf("format", "%q is not one of csv, "+
			"jsonl, dnsmasq, isc, kea", o.format)
	}
	color, err := o.colorEnabled()
	if err != nil {
		return nil, err
	}
	ifi, err := o.findInterface()
	if err != nil {
		return nil, err
	}
	ifErr := usable(ifi)
	c := probe.Config{Interface: ifi.Name, InterfaceMAC: ifi.HardwareAddr,
		Timeout: o.timeout, Retries: o.retries, Broadcast: !o.noBroadcast,
		ARPProbes: arpProbes}
	if ifErr != nil {
		// The flags are checked first, as they are wrong on any
		// interface; a stand-in MAC takes the unusable interface's place.
		c.InterfaceMAC = standInMAC
	}
	if o.clientID != "mac" {
		// "mac" is resolved per pair; anything else is one value.
		if c.ClientID, err = parseClientID(o.clientID, nil); err != nil {
			return nil, usageErrorf("client-id", "%v", err)
		}
	}
	o.env.hooks(&c, o.verbose)
	b := probe.BatchConfig{Template: c, Rate: o.rate,
		Concurrency: o.concurrency}
	if err := configError(b.Validate(), ifi.Name); err != nil {
		return nil, err
	}
	if ifErr != nil {
		return nil, ifErr
	}

	return &batchSettings{cfg: b, format: format, color: color, ifi: ifi}, nil
}

func (o *batchOptions) run(ctx context.Context, path string) error {
	set, err := o.settings()
	if err != nil {
		return err
	}
	b, ifi := set.cfg, set.ifi

	in, err := o.readInput(path, set.format)
	if err != nil {
		return err
	}
	for _, bad := range in.Bad {
		fmt.Fprintf(o.env.Stderr, "leaseprobe: %s: %v\n", path, bad)
	}
	jobs := make([]probe.Job, len(in.Entries))
	for i, e := range in.Entries {
		jobs[i] = probe.Job{ClientMAC: e.MAC, IP: e.IP, ClientID: e.ClientID}
		if e.ClientID == nil && o.clientID == "mac" {
			jobs[i].ClientID = append([]byte{1}, e.MAC...)
		}
	}

	// The socket first: --pcap must not truncate a file for a batch that
	// cannot run.
	t, err := o.open(ifi, probe.ListenOptions{
		Promiscuous: !b.Template.Broadcast, ARP: b.Template.ARPProbes > 0})
	if err != nil {
		return err
	}
	defer t.Close()
	closeCapture, err := o.startCapture(&b.Template)
	if err != nil {
		return err
	}

	rows := make([]output.BatchRow, len(jobs))
	for i, e := range in.Entries {
		rows[i] = output.BatchRow{Line: e.Line, MAC: e.MAC, IP: e.IP}
	}
	bar := o.progress(len(jobs))
	sum := output.BatchCounts{Format: string(in.Format), Pairs: len(jobs),
		Verdicts: map[string]int{}, BadRows: len(in.Bad),
		SkippedRows: in.Skipped}
	var writeErr error
	stats, runErr := probe.RunBatch(ctx, t, b, jobs, func(i int, res *probe.Result) {
		rows[i].Result = res
		sum.Checked++
		sum.Verdicts[string(res.Verdict())]++
		if bar != nil {
			_ = bar.Add(1)
		}
		if o.json && writeErr == nil {
			doc := output.NewDocument(res, output.Meta{Version: Version(),
				ExitCode: verdictCode(res.Verdict())})
			doc.InputLine = in.Entries[i].Line
			writeErr = output.WriteJSONLine(o.env.Stdout, doc)
		}
	})
	capErr := closeCapture()
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(o.env.Stderr)
	}
	if stats == nil {
		return configError(runErr, ifi.Name)
	}
	if runErr != nil && sum.Checked == 0 {
		// No probe ran its course: one line on stderr, no table.
		return failf("batch on %s: %w", ifi.Name, runErr)
	}

	sum.Interrupted = stats.Interrupted
	sum.KernelDrops = stats.KernelDrops
	sum.ElapsedMS = stats.Elapsed.Milliseconds()
	sum.ExitCode = o.exitCode(ctx, sum, errors.Join(runErr, capErr))
	if err := o.printSummary(rows, sum, in.Bad, set.color, writeErr); err != nil {
		return failf("write output: %w", err)
	}
	if runErr != nil {
		return failf("batch on %s: %w", ifi.Name, runErr)
	}
	if capErr != nil {
		return capErr
	}

	return &verdictError{code: sum.ExitCode}
}

// readInput opens and parses the input.
func (o *batchOptions) readInput(path string, format leasefile.Format) (*leasefile.Result, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, failf("read %s: %w", path, err)
		}
		defer f.Close()
		r = f
	}

	in, err := leasefile.Parse(r, format, o.env.Now())
	if err != nil {
		return nil, &exitError{code: ExitUsage,
			err: fmt.Errorf("%s: %w", path, err)}
	}

	return in, nil
}

// progress returns a progress bar on stderr when it is a terminal.
func (o *batchOptions) progress(n int) *progressbar.ProgressBar {
	if n == 0 || !o.env.IsTerminal(o.env.Stderr) {
		return nil
	}

	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(o.env.Stderr),
		progressbar.OptionSetDescription("probing"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

// exitCode is the batch's exit code.
func (o *batchOptions) exitCode(ctx context.Context, sum output.BatchCounts, runErr error) int {
	switch {
	case runErr != nil:
		return ExitError
	case sum.Interrupted:
		return interruptCode(ctx)
	case sum.BadRows > 0 || sum.Verdicts[string(probe.Valid)] != sum.Pairs:
		return ExitBatchNotAllValid
	default:
		return ExitValid
	}
}

func (o *batchOptions) printSummary(rows []output.BatchRow, sum output.BatchCounts,
	bad []leasefile.BadRow, color bool, writeErr error) error {
	if writeErr != nil {
		return writeErr
	}
	if o.json {
		s := output.BatchSummary{SchemaVersion: output.SchemaVersion,
			Summary: sum, BadRows: []output.BadRowInfo{}}
		for _, b := range bad {
			s.BadRows = append(s.BadRows, output.BadRowInfo{Line: b.Line,
				Error: b.Err.Error()})
		}

		return output.WriteJSONLine(o.env.Stdout, s)
	}

	return output.WriteBatchTable(o.env.Stdout, rows, sum,
		output.ReportOptions{Color: color})
}
