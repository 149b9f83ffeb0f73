package output

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leaseprobe/leaseprobe/probe"
)

// ReportOptions tunes WriteReport.
type ReportOptions struct {
	// Color adds ANSI colours. Every state is also spelled out in words,
	// so nothing is lost without it.
	Color bool
	// Verbose also lists each reply's destination MAC and raw options.
	Verbose bool
	// Location is the time zone for timestamps; nil means UTC.
	Location *time.Location
}

// reportTime is the layout of timestamps in the report.
const reportTime = "2006-01-02 15:04:05 MST"

// wrapWidth is where explanations are wrapped.
const wrapWidth = 78

// WriteReport writes a plain-text report of res for a person to read: what
// was sent, one block per answering server, and the verdict explained.
func WriteReport(w io.Writer, res *probe.Result, opts ReportOptions) error {
	if res == nil {
		return errors.New("write report: nil result")
	}

	if opts.Location == nil {
		opts.Location = time.UTC
	}
	r := &reporter{opts: opts, st: newStyles(opts.Color), res: res}
	r.header()
	for _, s := range res.Servers() {
		r.server(s)
	}
	if res.ARP != nil {
		r.arpBlock(res.ARP, res.Request.IP.String(),
			res.Request.ClientMAC.String(), acked(res))
	}
	r.verdict()
	r.footer()
	if _, err := w.Write(r.buf.Bytes()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}

	return nil
}

// acked says whether a probe's answer was an ACK for the address and no
// refusal: what a client needs before it would decline over a conflict.
func acked(res *probe.Result) bool {
	for _, s := range res.Servers() {
		if s.Verdict() != probe.Valid {
			return false
		}
	}

	return len(res.Replies) > 0
}

// reporter accumulates one report.
type reporter struct {
	buf  bytes.Buffer
	opts ReportOptions
	st   styles
	res  *probe.Result
}

func (r *reporter) line(format string, args ...any) {
	fmt.Fprintf(&r.buf, format+"\n", args...)
}

// field writes one indented "label  value" line.
func (r *reporter) field(label, value string) {
	r.line("  %-10s %s", label, value)
}

func (r *reporter) header() {
	req := r.res.Request
	if noRequest(req) {
		// A capture held replies but not the request they answer.
		r.line("%s", r.st.head.Sprintf("replies for %s, xid %s",
			req.ClientMAC, formatXID(req.XID)))
		r.field("request", "not in the capture")
		r.field("started", r.timestamp(r.res.StartedAt))

		return
	}
	r.line("%s", r.st.head.Sprintf("DHCPREQUEST for %s as %s",
		req.IP, req.ClientMAC))
	if req.Interface == "" {
		// Read from a capture: only the sender's MAC is known.
		r.field("sent from", req.InterfaceMAC.String())
	} else {
		r.field("interface",
			fmt.Sprintf("%s (%s)", req.Interface, req.InterfaceMAC))
	}
	r.field("xid", formatXID(req.XID))
	clientID := "none"
	if req.ClientID != nil {
		clientID = hex.EncodeToString(req.ClientID)
	}
	r.field("client-id", clientID)
	if req.Hostname != "" {
		r.field("hostname", printable(req.Hostname))
	}
	r.field("broadcast", onOff(req.Broadcast))
	r.field("started", r.timestamp(r.res.StartedAt))

	sent := plural(req.Sent, "request", "requests")
	listened := shortDuration(r.res.Elapsed.Round(time.Millisecond))
	if req.Interface == "" {
		// A capture does not record how long the prober listened, only
		// where the capture ends.
		r.field("sent", fmt.Sprintf("%s; the capture ends %s after the "+
			"first", sent, listened))

		return
	}
	if r.res.Interrupted {
		listened += fmt.Sprintf(" of %s %s",
			shortDuration(r.res.Timeout), r.st.warn.Sprint("(interrupted)"))
	}
	r.field("sent", fmt.Sprintf("%s, listened %s", sent, listened))
}

func (r *reporter) server(s probe.Server) {
	r.line("")
	r.line("%s %s", r.st.head.Sprintf("server %s:", s.Key), r.serverWord(s))
	for i, rep := range s.Replies {
		if i > 0 {
			r.line("")
		}
		r.reply(rep)
	}
}

// serverWord names the reply types a server sent, such as "ACK+NAK",
// coloured after the server's own verdict.
func (r *reporter) serverWord(s probe.Server) string {
	var words []string
	for _, t := range []probe.MessageType{probe.ACK, probe.NAK, probe.Malformed} {
		if hasType(s.Replies, t) {
			words = append(words, string(t))
		}
	}
	word := strings.Join(words, "+")
	switch s.Verdict() {
	case probe.Valid:
		return r.st.good.Sprint(word)
	case probe.Invalid:
		return r.st.bad.Sprint(word)
	default:
		return r.st.warn.Sprint(word)
	}
}

func (r *reporter) reply(rep *probe.Reply) {
	arrival := fmt.Sprintf("%s at %.1f ms", r.st.msgType(rep.Type),
		float64(rep.Elapsed)/float64(time.Millisecond))
	if rep.Count > 1 {
		arrival += fmt.Sprintf(" ×%d", rep.Count)
	}
	r.field("reply", arrival)
	r.field("server-id", describeServerID(rep))

	from := fmt.Sprintf("%s (%s)", addrText(rep.SourceIP), rep.SourceMAC)
	if known(rep.RelayIP) {
		from += fmt.Sprintf(" via relay %s (hops %d)", rep.RelayIP, rep.Hops)
	}
	r.field("from", from)
	r.relayAgentField(rep)
	// A unicast reply is worth a line: it reached this port only because
	// the frame was sent to this interface's (or the client's) MAC.
	// A capture may not have recorded the destination: then it is left
	// out rather than guessed.
	unicast := !isBroadcastMAC(rep.DestinationMAC)
	if rep.DestinationMAC != nil && (unicast || r.opts.Verbose) {
		to := rep.DestinationMAC.String() + " (broadcast)"
		if unicast {
			to = rep.DestinationMAC.String() + " (unicast)"
		}
		r.field("to", to)
	}

	switch rep.Type {
	case probe.ACK:
		r.ackFields(rep)
	case probe.NAK:
		if rep.Message != nil {
			r.field("message", strconv.Quote(*rep.Message))
		} else if hasOption(rep, 56) {
			r.field("message", "none (option 56 is empty)")
		} else {
			r.field("message", "none (no option 56)")
		}
	}

	if r.opts.Verbose {
		for _, o := range rep.Options {
			r.field(fmt.Sprintf("option %d", o.Code), hexOrEmpty(o.Data))
		}
	}
	for _, w := range rep.Warnings {
		r.line("  %s", r.st.warning(w))
	}
}

func (r *reporter) ackFields(rep *probe.Reply) {
	r.field("your-ip", addrText(rep.YourIP))
	r.field("lease", leaseText(rep))
	if t, ok := rep.ExpiresAt(); ok {
		r.field("expires", r.timestamp(t))
	}
	if known(rep.SubnetMask) {
		r.field("mask", rep.SubnetMask.String())
	}
	if len(rep.Routers) > 0 {
		r.field("routers", strings.Join(addrStrings(rep.Routers), ", "))
	}
	if len(rep.DNSServers) > 0 {
		r.field("dns", strings.Join(addrStrings(rep.DNSServers), ", "))
	}
	if rep.DomainName != "" {
		r.field("domain", printable(rep.DomainName))
	}
	if len(rep.DomainSearch) > 0 {
		r.field("search", printable(strings.Join(rep.DomainSearch, ", ")))
	}
	for _, rt := range rep.ClasslessRoutes {
		r.field("route", fmt.Sprintf("%s via %s", rt.Destination, rt.Router))
	}
	// Many servers (dnsmasq among them) put their own address in siaddr
	// on every reply: alone it says nothing about the lease.
	switch {
	case rep.BootFile != "" || rep.ServerName != "":
		boot := addrText(rep.NextServer)
		if rep.ServerName != "" {
			boot += " (" + printable(rep.ServerName) + ")"
		}
		if rep.BootFile != "" {
			boot += " file " + printable(rep.BootFile)
		}
		r.field("boot", boot)
	case known(rep.NextServer) && r.opts.Verbose:
		r.field("next-server", rep.NextServer.String())
	}
}

// relayAgentField shows option 82 as the server echoed it: circuit and
// remote id as text when printable, else hex.
func (r *reporter) relayAgentField(rep *probe.Reply) {
	ra := rep.RelayAgent
	if ra == nil {
		return
	}

	var parts []string
	if ra.CircuitID != nil {
		parts = append(parts, "circuit-id "+textOrHex(ra.CircuitID))
	}
	if ra.RemoteID != nil {
		parts = append(parts, "remote-id "+textOrHex(ra.RemoteID))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d sub-options", len(ra.SubOptions)))
	}
	r.field("agent", strings.Join(parts, ", "))
}

// textOrHex shows bytes as quoted text when they are printable ASCII,
// else as hex.
func textOrHex(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(b)
		}
	}

	return strconv.Quote(string(b))
}

func (r *reporter) verdict() {
	v := r.res.Verdict()
	r.line("")
	r.line("%s %s", r.st.head.Sprint("verdict:"), r.st.verdict(v))
	for _, l := range wrap(r.explain(v), wrapWidth-2) {
		r.line("  %s", l)
	}
}

// explain says in plain words what verdict v means for this result.
func (r *reporter) explain(v probe.Verdict) string {
	noClientID := r.res.Request.ClientID == nil
	switch v {
	case probe.Valid:
		text := "A server accepts this binding as it stands. " +
			"Note that answering with an ACK may have committed or " +
			"extended the lease on that server: the probe is not " +
			"read-only for servers that acknowledge it."
		if ackers, _ := ackersAndNakers(r.res.Servers()); len(ackers) > 1 {
			text += fmt.Sprintf(" %d servers acknowledged it (%s): more "+
				"than one server answers for this segment; make sure "+
				"that is meant (a failover pair) and not an overlapping "+
				"or rogue server.", len(ackers), strings.Join(ackers, ", "))
		}
		if r.res.ARP != nil && r.res.ARP.Status() == probe.ARPOwner {
			text += " The client itself appears to be on line: it " +
				"answered ARP for the address."
		}
		if r.res.Request.First {
			text += " The probe stopped at the first answer (--first): " +
				"a server that disagrees may have gone unseen."
		}

		return text
	case probe.Invalid:
		text := "The answering server(s) refuse this binding. A real client " +
			"would give up the address and start again with DHCPDISCOVER."
		if noClientID {
			text += " No client identifier was sent: servers may tie " +
				"leases to a client identifier (option 61) rather than " +
				"the MAC, so try again with --client-id."
		}

		return text
	case probe.NoAnswer:
		text := "No server claimed to know this binding before the " +
			"timeout. That does not mean the address is free, nor that " +
			"the lease is invalid: a server that is not authoritative " +
			"stays silent for clients it does not know. Check that the " +
			"interface is on the right network or VLAN, and try a longer " +
			"--timeout"
		if noClientID {
			text += ", or --client-id if the server keys leases on " +
				"option 61"
		}
		if !r.res.Request.Broadcast {
			text += ". Without the broadcast flag servers send their " +
				"replies to the client's MAC: a switch delivers them to " +
				"the port where that MAC lives, which may be the real " +
				"client's and not this one"
		}
		if r.res.Interrupted {
			text += ". The probe was interrupted before its timeout"
		}

		return text + "."
	case probe.Disputed:
		ackers, nakers := ackersAndNakers(r.res.Servers())

		return fmt.Sprintf("Servers disagree: ACK from %s; NAK from %s. "+
			"The verdict does not depend on which reply came first. "+
			"Common causes are a failover pair out of step, split pools, "+
			"or a rogue or second server on the segment.",
			strings.Join(ackers, ", "), strings.Join(nakers, ", "))
	case probe.Conflict:
		return "A server acknowledged the binding, but another host " +
			"answers ARP for this address: the lease cannot be used " +
			"as it stands. The ACK may still have committed or extended " +
			"the lease on the server."
	default:
		return ""
	}
}

func (r *reporter) footer() {
	skipped := skippedText(r.res.Skipped)
	if len(r.res.Warnings) == 0 && skipped == "" {
		return
	}

	r.line("")
	for _, w := range r.res.Warnings {
		r.line("%s", r.st.warning(w))
	}
	if skipped != "" {
		r.line("%s", skipped)
	}
}

func (r *reporter) timestamp(t time.Time) string {
	return t.In(r.opts.Location).Format(reportTime)
}

// skippedText sums up skipped frames, most frequent reason first, or
// returns "" when none were skipped.
func skippedText(skipped map[string]int) string {
	type reason struct {
		name  string
		count int
	}
	var reasons []reason
	total := 0
	for name, n := range skipped {
		if n > 0 {
			reasons = append(reasons, reason{name, n})
			total += n
		}
	}
	if total == 0 {
		return ""
	}

	slices.SortFunc(reasons, func(a, b reason) int {
		if a.count != b.count {
			return b.count - a.count
		}

		return strings.Compare(a.name, b.name)
	})
	parts := make([]string, len(reasons))
	for i, re := range reasons {
		parts[i] = fmt.Sprintf("%d %s", re.count, re.name)
	}

	return fmt.Sprintf("skipped %s: %s",
		plural(total, "frame", "frames"), strings.Join(parts, ", "))
}

// describeServerID says how option 54 appeared; it never prints "<nil>".
func describeServerID(rep *probe.Reply) string {
	raw := hexOrEmpty(serverIDRaw(rep))
	switch rep.ServerIDState {
	case probe.ServerIDPresent:
		return rep.ServerID.String()
	case probe.ServerIDAbsent:
		return "absent"
	case probe.ServerIDMalformed:
		return fmt.Sprintf("malformed (%s)", raw)
	case probe.ServerIDDuplicated:
		if rep.ServerID.IsValid() {
			return fmt.Sprintf("%s (duplicated)", rep.ServerID)
		}

		return fmt.Sprintf("duplicated (%s)", raw)
	default:
		return "unknown"
	}
}

// leaseText renders the lease, T1 and T2 times, such as "12h (T1 6h,
// T2 10h30m)".
func leaseText(rep *probe.Reply) string {
	if rep.LeaseTime == nil {
		return "none (no option 51)"
	}

	text := shortDuration(*rep.LeaseTime)
	var timers []string
	if rep.RenewalTime != nil {
		timers = append(timers, "T1 "+shortDuration(*rep.RenewalTime))
	}
	if rep.RebindingTime != nil {
		timers = append(timers, "T2 "+shortDuration(*rep.RebindingTime))
	}
	if len(timers) > 0 {
		text += " (" + strings.Join(timers, ", ") + ")"
	}

	return text
}

// addrText renders an address, or "none" when it is unset or 0.0.0.0.
func addrText(a netip.Addr) string {
	if !known(a) {
		return "none"
	}

	return a.String()
}

func hexOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}

	return hex.EncodeToString(b)
}

// hasOption reports whether the reply carried option code.
func hasOption(rep *probe.Reply, code uint8) bool {
	for _, o := range rep.Options {
		if o.Code == code {
			return true
		}
	}

	return false
}

// printable returns s as is, or quoted when it holds characters that are
// not printable, so text from the network cannot drive the terminal.
func printable(s string) string {
	// Bytes that are not UTF-8 range over as U+FFFD, which is printable,
	// yet a terminal may take them raw as C1 controls (0x9b is CSI).
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return strconv.Quote(s)
		}
	}

	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}

	return "off"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}

	return fmt.Sprintf("%d %s", n, many)
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var cur string
	for _, word := range strings.Fields(text) {
		switch {
		case cur == "":
			cur = word
		case len(cur)+1+len(word) > width:
			lines = append(lines, cur)
			cur = word
		default:
			cur += " " + word
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}

	return lines
}
