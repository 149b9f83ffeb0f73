// Package leasefile reads the (MAC, IP, client identifier) bindings that
// leaseprobe checks in batch: hand-written lists in CSV or JSON lines, and
// the lease databases of dnsmasq, ISC dhcpd and Kea.
//
// Parse never stops at a malformed record, nor at one that could not be
// probed (an address or MAC that check --ip or --mac would refuse). It
// collects the record in Result.Bad with its line number and goes on;
// it fails only when the input cannot be read, its format cannot be made
// out, or a header line that the format needs is missing.
//
// The server formats hold more than current bindings, and Parse keeps
// only those a client holds at the given time:
//
//   - dnsmasq: leases whose expiry is before now are skipped (0 never
//     expires), as are DHCPv6 leases and the duid, agent-info and
//     vendorclass lines.
//   - isc: the file is a log; the last "lease" block for an address
//     replaces the earlier ones, and it counts only if its binding state
//     is active and it ends after now (or never).
//   - kea: the file is a log too; the last row for an address counts
//     only if its state is 0, its valid lifetime is not 0 (a deletion)
//     and it expires after now.
//
// For isc and kea, a malformed record whose address can be read takes
// part in this: it is reported only if it is the last for its address,
// and then the earlier records for that address are dropped.
package leasefile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Format names a lease file syntax.
type Format string

// The formats Parse understands.
const (
	// FormatCSV is a list with a header line naming the mac, ip and
	// optional client_id columns, in any order.
	FormatCSV Format = "csv"
	// FormatJSONL holds one JSON object per line with the keys mac, ip
	// and, optionally, client_id.
	FormatJSONL Format = "jsonl"
	// FormatDnsmasq is the lease file of dnsmasq (dhcp-leasefile).
	FormatDnsmasq Format = "dnsmasq"
	// FormatISC is the dhcpd.leases file of ISC dhcpd.
	FormatISC Format = "isc"
	// FormatKea is the DHCPv4 lease file of Kea's memfile back end.
	FormatKea Format = "kea"
)

// Reasons counted in Result.Skipped.
const (
	// SkipExpired counts leases whose expiry time is before now.
	SkipExpired = "expired"
	// SkipInactive counts leases the server no longer holds for a
	// client: ISC states other than active, Kea states other than
	// default, and Kea leases deleted with a valid lifetime of 0.
	SkipInactive = "inactive"
	// SkipIPv6 counts DHCPv6 leases.
	SkipIPv6 = "ipv6"
	// SkipSuperseded counts ISC blocks and Kea rows that a later record
	// for the same address replaced.
	SkipSuperseded = "superseded"
)

// SniffSize is how many bytes of its input Parse hands to Detect.
const SniffSize = 64 << 10

// maxLine is the longest line Parse reads whole; longer lines are
// reported as bad rows.
const maxLine = 1 << 20

// maxText bounds BadRow.Text.
const maxText = 256

// ErrUnknownFormat is returned when a format name is not one of Formats
// or when Detect cannot recognise the input.
var ErrUnknownFormat = errors.New("unknown lease file format")

// ErrHeader is returned when a csv or kea input has no header line, or
// one without the columns Parse needs.
var ErrHeader = errors.New("bad header line")

// errLongLine marks a line longer than maxLine.
var errLongLine = fmt.Errorf("line is longer than %d bytes", maxLine)

// Entry is one binding to check.
type Entry struct {
	// Line is the 1-based line where the record starts.
	Line int
	// MAC is a 6-byte unicast Ethernet address that
	// probe.ValidateClientMAC accepts.
	MAC net.HardwareAddr
	// IP is a unicast IPv4 address that probe.ValidateIP accepts.
	IP netip.Addr
	// ClientID is the client identifier (DHCP option 61) stored with
	// the lease, 2 to 255 bytes, or nil when the source has none.
	ClientID []byte
}

// BadRow is a record Parse could not use.
type BadRow struct {
	// Line is the 1-based line where the record starts.
	Line int
	// Text is that line, cut to about 256 bytes and made valid
	// UTF-8.
	Text string
	// Err says what is wrong with the record.
	Err error
}

// Error returns the line number and the problem, as in "line 12: ...".
func (b BadRow) Error() string { return fmt.Sprintf("line %d: %v", b.Line, b.Err) }

// Unwrap returns b.Err.
func (b BadRow) Unwrap() error { return b.Err }

// Result is what Parse found.
type Result struct {
	// Format is the format that was parsed, given or detected.
	Format Format
	// Entries are the usable bindings, in the order of their lines.
	Entries []Entry
	// Bad are the records that could not be used, in line order.
	Bad []BadRow
	// Skipped counts the records left out, by reason
	// (SkipExpired, SkipInactive, SkipIPv6, SkipSuperseded). It is
	// never nil.
	Skipped map[string]int
}

// Formats returns the formats Parse understands, in a fixed order.
func Formats() []Format {
	return []Format{FormatCSV, FormatJSONL, FormatDnsmasq, FormatISC, FormatKea}
}

// formatList names the formats for messages: "csv, jsonl, ... or kea".
func formatList() string {
	names := make([]string, 0, 5)
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	last := len(names) - 1

	return strings.Join(names[:last], ", ") + " or " + names[last]
}

// ParseFormat turns the value of a --format flag into a Format. Case and
// surrounding space are ignored; "" and "auto" give "", which makes Parse
// detect the format.
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" || name == "auto" {
		return "", nil
	}
	for _, f := range Formats() {
		if string(f) == name {
			return f, nil
		}
	}

	return "", fmt.Errorf("%w %q: want auto, %s", ErrUnknownFormat, s,
		formatList())
}

// Parse reads the bindings in r, which is in format f; an empty f makes
// Parse detect the format from the first SniffSize bytes.
//
// Leases that expired before now are counted in Result.Skipped instead
// of being returned; a zero now keeps them. Lines may end in LF or CRLF,
// the input may start with a UTF-8 byte order mark, and lines up to
// 1 MiB are read whole.
func Parse(r io.Reader, f Format, now time.Time) (*Result, error) {
	br := bufio.NewReaderSize(r, SniffSize)
	if f == "" {
		head, err := br.Peek(SniffSize)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read lease file: %w", err)
		}

		f, err = Detect(head)
		if err != nil {
			return nil, err
		}
	}

	var parse func(*parser, *lineReader) error
	switch f {
	case FormatCSV:
		parse = parseCSV
	case FormatJSONL:
		parse = parseJSONL
	case FormatDnsmasq:
		parse = parseDnsmasq
	case FormatISC:
		parse = parseISC
	case FormatKea:
		parse = parseKea
	default:
		return nil, fmt.Errorf("%w %q: want %s", ErrUnknownFormat, f,
			formatList())
	}

	p := &parser{
		res: &Result{Format: f, Skipped: map[string]int{}},
		now: now,
	}
	if err := parse(p, &lineReader{r: br}); err != nil {
		return nil, err
	}
	p.finish()

	return p.res, nil
}

// outcome is what one record amounts to: an entry, a bad row, a reason
// to skip it, or nothing at all (a zero outcome).
type outcome struct {
	entry *Entry
	bad   *BadRow
	skip  string
}

// badOutcome reports the record at line, whose text is text.
func badOutcome(line int, text string, err error) outcome {
	return outcome{bad: &BadRow{Line: line, Text: excerpt(text), Err: err}}
}

// entryOutcome turns the result of newEntry into an outcome.
func entryOutcome(e Entry, text string, err error) outcome {
	if err != nil {
		return badOutcome(e.Line, text, err)
	}

	return outcome{entry: &e}
}

// parser collects the outcomes of one Parse call.
type parser struct {
	res *Result
	now time.Time
	// latest holds, for formats whose files are append-only logs, the
	// last outcome for each address; finish settles them.
	latest map[netip.Addr]outcome
}

// settle adds o to the result.
func (p *parser) settle(o outcome) {
	switch {
	case o.entry != nil:
		p.res.Entries = append(p.res.Entries, *o.entry)
	case o.bad != nil:
		p.res.Bad = append(p.res.Bad, *o.bad)
	case o.skip != "":
		p.res.Skipped[o.skip]++
	}
}

// supersede makes o the latest outcome for addr, replacing any earlier.
func (p *parser) supersede(addr netip.Addr, o outcome) {
	if p.latest == nil {
		p.latest = map[netip.Addr]outcome{}
	}
	if _, ok := p.latest[addr]; ok {
		p.res.Skipped[SkipSuperseded]++
	}
	p.latest[addr] = o
}

// finish settles the latest outcomes and puts everything in line order.
func (p *parser) finish() {
	for _, o := range p.latest {
		p.settle(o)
	}
	slices.SortStableFunc(p.res.Entries, func(a, b Entry) int {
		return a.Line - b.Line
	})
	slices.SortStableFunc(p.res.Bad, func(a, b BadRow) int {
		return a.Line - b.Line
	})
}

// expired reports whether a lease ending at unix (seconds) ended before
// now. A zero now turns the check off.
func (p *parser) expired(unix int64) bool {
	return !p.now.IsZero() && unix < p.now.Unix()
}

// excerpt shortens s for BadRow.Text.
func excerpt(s string) string {
	if len(s) > maxText {
		s = s[:maxText]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}

	return s
}

// bom is the UTF-8 byte order mark.
const bom = "\xef\xbb\xbf"

// lineReader splits its input into lines and counts them.
type lineReader struct {
	r   *bufio.Reader
	num int // number of the last line returned
	buf []byte
}

// next returns the next line without its LF or CRLF ending, and the
// first maxLine bytes of a longer one with long set. At the end of the
// input it returns io.EOF.
func (lr *lineReader) next() (line []byte, long bool, err error) {
	lr.buf = lr.buf[:0]
	total := 0
	for {
		chunk, err := lr.r.ReadSlice('\n')
		total += len(chunk)
		if room := maxLine + 2 - len(lr.buf); room > 0 {
			lr.buf = append(lr.buf, chunk[:min(room, len(chunk))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && total == 0 {
			return nil, false, io.EOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, fmt.Errorf("read line %d: %w", lr.num+1, err)
		}

		break
	}

	lr.num++
	line = lr.buf
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if lr.num == 1 && bytes.HasPrefix(line, []byte(bom)) {
		line = line[len(bom):]
	}
	if total > maxLine+2 || len(line) > maxLine {
		return line[:min(len(line), maxLine)], true, nil
	}

	return line, false, nil
}
