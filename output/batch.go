package output

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/leaseprobe/leaseprobe/probe"
)

// WriteJSONLine writes v as JSON on one line, for JSON-lines output.
func WriteJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}

	return nil
}

// BatchSummary is the last line of `leaseprobe batch --json`.
type BatchSummary struct {
	SchemaVersion int          `json:"schema_version"`
	Summary       BatchCounts  `json:"summary"`
	BadRows       []BadRowInfo `json:"bad_rows"`
}

// BatchCounts sums up a batch.
type BatchCounts struct {
	Format      string         `json:"format"`
	Pairs       int            `json:"pairs"`
	Checked     int            `json:"checked"`
	Verdicts    map[string]int `json:"verdicts"`
	BadRows     int            `json:"bad_rows"`
	SkippedRows map[string]int `json:"skipped_rows"`
	Interrupted bool           `json:"interrupted"`
	KernelDrops int            `json:"kernel_drops"`
	ElapsedMS   int64          `json:"elapsed_ms"`
	ExitCode    int            `json:"exit_code"`
}

// BadRowInfo is one input record that could not be used.
type BadRowInfo struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// BatchRow is one checked pair for the batch table.
type BatchRow struct {
	Line   int
	MAC    net.HardwareAddr
	IP     netip.Addr
	Result *probe.Result
}

// WriteBatchTable writes a table of the checked pairs in input order,
// then one summary line.
func WriteBatchTable(w io.Writer, rows []BatchRow, sum BatchCounts, opts ReportOptions) error {
	st := newStyles(opts.Color)
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b BatchRow) int { return a.Line - b.Line })

	table := [][]cell{{{"LINE", st.head}, {"MAC", st.head},
		{"IP", st.head}, {"VERDICT", st.head}, {"SERVERS", st.head}}}
	for _, r := range rows {
		verdict := cell{text: "not checked"}
		servers := ""
		if r.Result != nil {
			v := r.Result.Verdict()
			verdict = cell{string(v), st.verdictStyle(v)}
			servers = serverSummary(r.Result)
		}
		table = append(table, []cell{{text: strconv.Itoa(r.Line)},
			{text: r.MAC.String()}, {text: r.IP.String()}, verdict,
			{text: servers}})
	}
	if _, err := io.WriteString(w, alignCells(table)); err != nil {
		return fmt.Errorf("write table: %w", err)
	}

	_, err := fmt.Fprintln(w, "\n"+summaryLine(sum))

	return err
}

// cell is one table cell: its plain text, and its colour (nil for
// none).
type cell struct {
	text  string
	style *color.Color
}

// alignCells lines up the columns of rows, each line ending in a newline.
// Every column but the last is padded to its widest text plus two
// spaces. Widths come from the plain text and the padding goes outside
// the colour codes, so that the codes take no width.
func alignCells(rows [][]cell) string {
	var widths []int
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}

	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			if c.style != nil && c.text != "" {
				b.WriteString(c.style.Sprint(c.text))
			} else {
				b.WriteString(c.text)
			}
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ",
					widths[i]-utf8.RuneCountInString(c.text)+2))
			}
		}
		b.WriteByte('\n')
	}

	return b.String()
}

// serverSummary lists each server's answer, such as "192.0.2.1 ACK".
func serverSummary(res *probe.Result) string {
	var parts []string
	for _, s := range res.Servers() {
		var types []string
		for _, t := range []probe.MessageType{probe.ACK, probe.NAK,
			probe.Malformed} {
			if hasType(s.Replies, t) {
				types = append(types, string(t))
			}
		}
		parts = append(parts, s.Key+" "+strings.Join(types, "+"))
	}
	if res.ARP != nil && res.ARP.Status() != probe.ARPFree {
		parts = append(parts, "arp "+string(res.ARP.Status()))
	}

	return strings.Join(parts, ", ")
}

// summaryLine says how many pairs got which verdict.
func summaryLine(sum BatchCounts) string {
	var parts []string
	for _, v := range []probe.Verdict{probe.Valid, probe.Invalid,
		probe.NoAnswer, probe.Disputed, probe.Conflict} {
		if n := sum.Verdicts[string(v)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		}
	}
	line := fmt.Sprintf("%d of %d pairs checked in %s", sum.Checked,
		sum.Pairs, shortDuration(time.Duration(sum.ElapsedMS)*time.Millisecond))
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if sum.BadRows > 0 {
		line += fmt.Sprintf("; %s skipped", plural(sum.BadRows, "bad row",
			"bad rows"))
	}
	if sum.Interrupted {
		line += " (interrupted)"
	}
	if sum.KernelDrops > 0 {
		line += fmt.Sprintf("; the kernel dropped %d frames: replies may "+
			"be missing, try a lower --rate", sum.KernelDrops)
	}

	return line
}
