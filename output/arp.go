package output

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/leaseprobe/leaseprobe/probe"
)

// ARPInfo is the "arp" object: what the RFC 5227 probe heard.
type ARPInfo struct {
	ProbesSent int                `json:"probes_sent"`
	Status     string             `json:"status"`
	Responders []ARPResponderInfo `json:"responders"`
	Ignored    map[string]int     `json:"ignored"`
}

// ARPResponderInfo is one MAC heard claiming or probing for the address.
type ARPResponderInfo struct {
	MAC       string `json:"mac"`
	Kind      string `json:"kind"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Count     int    `json:"count"`
}

// newARPInfo converts an ARP result; nil stays nil (JSON null).
func newARPInfo(a *probe.ARPResult) *ARPInfo {
	if a == nil {
		return nil
	}

	info := &ARPInfo{
		ProbesSent: a.ProbesSent,
		Status:     string(a.Status()),
		Responders: []ARPResponderInfo{},
		Ignored:    map[string]int{},
	}
	for _, r := range a.Responders {
		info.Responders = append(info.Responders, ARPResponderInfo{
			MAC: r.MAC.String(), Kind: string(r.Kind),
			ElapsedMS: millis(r.Elapsed), Count: r.Count})
	}
	maps.Copy(info.Ignored, a.Ignored)

	return info
}

// ARPDocument is the JSON document of `leaseprobe arp`.
type ARPDocument struct {
	SchemaVersion int           `json:"schema_version"`
	Tool          ToolInfo      `json:"tool"`
	StartedAt     string        `json:"started_at"`
	Interface     InterfaceInfo `json:"interface"`
	IP            string        `json:"ip"`
	// MAC is the expected owner given with --mac, or null.
	MAC         *string  `json:"mac"`
	TimeoutMS   int64    `json:"timeout_ms"`
	ElapsedMS   int64    `json:"elapsed_ms"`
	Interrupted bool     `json:"interrupted"`
	ExitCode    int      `json:"exit_code"`
	ARP         *ARPInfo `json:"arp"`
}

// WriteARPJSON writes rep as one indented ARPDocument and a newline.
func WriteARPJSON(w io.Writer, rep *probe.ARPReport, meta Meta) error {
	if rep == nil {
		return errors.New("write json: nil report")
	}

	doc := &ARPDocument{
		SchemaVersion: SchemaVersion,
		Tool:          ToolInfo{Name: ToolName, Version: meta.Version},
		StartedAt:     rep.StartedAt.UTC().Format(jsonTime),
		Interface: InterfaceInfo{Name: rep.Interface,
			MAC: ptr(rep.InterfaceMAC.String())},
		IP:          rep.IP.String(),
		TimeoutMS:   millis(rep.Timeout),
		ElapsedMS:   millis(rep.Elapsed),
		Interrupted: rep.Interrupted,
		ExitCode:    meta.ExitCode,
		ARP:         newARPInfo(rep.ARP),
	}
	if rep.ClientMAC != nil {
		doc.MAC = ptr(rep.ClientMAC.String())
	}

	enc := newEncoder(w)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json: %w", err)
	}

	return nil
}

// WriteARPReport writes the report of `leaseprobe arp` for a person.
func WriteARPReport(w io.Writer, rep *probe.ARPReport, opts ReportOptions) error {
	if rep == nil {
		return errors.New("write report: nil report")
	}

	if opts.Location == nil {
		opts.Location = time.UTC
	}
	r := &reporter{opts: opts, st: newStyles(opts.Color)}
	r.line("%s", r.st.head.Sprintf("ARP probe for %s", rep.IP))
	r.field("interface",
		fmt.Sprintf("%s (%s)", rep.Interface, rep.InterfaceMAC))
	owner := "not given (--mac): any answer counts as a conflict"
	if rep.ClientMAC != nil {
		owner = rep.ClientMAC.String()
	}
	r.field("expected", owner)
	r.field("started", r.timestamp(rep.StartedAt))
	listened := shortDuration(rep.Elapsed.Round(time.Millisecond))
	if rep.Interrupted {
		listened += " " + r.st.warn.Sprint("(interrupted)")
	}
	r.field("sent", fmt.Sprintf("%s, listened %s",
		plural(rep.ARP.ProbesSent, "probe", "probes"), listened))
	r.arpBlock(rep.ARP, rep.IP.String(), rep.ClientMAC.String(), true)
	if _, err := w.Write(r.buf.Bytes()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}

	return nil
}

// arpBlock writes what the ARP probe heard and one plain sentence on
// what it means. acked is false when the DHCP probe beside it had no
// clean ACK: a client then has no lease to decline.
func (r *reporter) arpBlock(a *probe.ARPResult, ip, client string, acked bool) {
	status := a.Status()
	word := r.st.good.Sprint(status)
	if status == probe.ARPConflict {
		word = r.st.bad.Sprint(status)
	}
	r.line("")
	r.line("%s %s", r.st.head.Sprint("arp:"), word)
	r.field("probes", fmt.Sprintf("%d sent (sender IP 0.0.0.0, RFC 5227)",
		a.ProbesSent))

	var conflicts, probers []string
	for _, rs := range a.Responders {
		text := fmt.Sprintf("%s %s at %.1f ms", rs.MAC, rs.Kind,
			float64(rs.Elapsed)/float64(time.Millisecond))
		if rs.Count > 1 {
			text += fmt.Sprintf(" ×%d", rs.Count)
		}
		r.field("heard", text)
		switch rs.Kind {
		case probe.KindConflict:
			conflicts = append(conflicts, rs.MAC.String())
		case probe.KindProbe:
			probers = append(probers, rs.MAC.String())
		}
	}
	if n := sumCounts(a.Ignored); n > 0 {
		r.field("ignored", skippedText(a.Ignored)[len("skipped "):])
	}

	var text string
	switch {
	case status == probe.ARPConflict && client == "":
		text = fmt.Sprintf("%s is in use by %s. Name the MAC it should "+
			"belong to with --mac to tell its owner apart from a stranger.",
			ip, strings.Join(conflicts, ", "))
	case status == probe.ARPConflict && !acked:
		text = fmt.Sprintf("Another host (%s) answers ARP for %s: the "+
			"address is in use, whatever the server says of the lease.",
			strings.Join(conflicts, ", "), ip)
	case status == probe.ARPConflict:
		text = fmt.Sprintf("Another host (%s) answers ARP for %s. A real "+
			"client would now decline the address (DHCPDECLINE) and start "+
			"over with DHCPDISCOVER; leaseprobe never sends a DECLINE.",
			strings.Join(conflicts, ", "), ip)
	case status == probe.ARPOwner:
		text = fmt.Sprintf("The client %s answers ARP for %s: it, or a "+
			"proxy answering for it, is on line.", client, ip)
	default:
		text = fmt.Sprintf("No host answered ARP for %s.", ip)
	}
	if len(probers) > 0 {
		text += fmt.Sprintf(" %s is probing for the same address right "+
			"now: it wants it too.", strings.Join(probers, ", "))
	}
	for _, l := range wrap(text, wrapWidth-2) {
		r.line("  %s", l)
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}

	return n
}
