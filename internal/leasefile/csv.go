package leasefile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvDelims are the field separators a csv header may use, in the order
// they are tried: spreadsheets in many locales write ';'.
const csvDelims = ",;\t"

// csvHeader records where the columns of a csv input are.
type csvHeader struct {
	delim        rune
	n            int // number of fields in the header
	mac, ip, cid int // column indexes; cid is -1 when absent
}

// parseCSV reads FormatCSV. Blank lines and lines starting with '#' are
// skipped; the first other line is the header.
func parseCSV(p *parser, lr *lineReader) error {
	var h *csvHeader
	for {
		line, long, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}

		text := strings.TrimSpace(string(line))
		if text == "" || text[0] == '#' {
			continue
		}
		if h == nil {
			if long {
				return fmt.Errorf("csv line %d: %w: %w", lr.num,
					ErrHeader, errLongLine)
			}

			hdr, err := readCSVHeader(text)
			if err != nil {
				return fmt.Errorf("csv line %d: %w", lr.num, err)
			}
			h = &hdr

			continue
		}
		if long {
			p.settle(badOutcome(lr.num, text, errLongLine))

			continue
		}
		p.settle(h.row(lr.num, text))
	}
	if h == nil {
		return fmt.Errorf("csv: %w: the input has no header line naming "+
			"the mac and ip columns", ErrHeader)
	}

	return nil
}

// readCSVHeader finds the mac, ip and client_id columns in the header
// line text, trying each separator in turn.
func readCSVHeader(text string) (csvHeader, error) {
	for _, d := range csvDelims {
		names, err := splitCSV(text, d)
		if err != nil {
			continue
		}

		h := csvHeader{delim: d, n: len(names), mac: -1, ip: -1, cid: -1}
		var dup string
		for i, name := range names {
			var col *int
			switch columnName(name) {
			case "mac":
				col = &h.mac
			case "ip":
				col = &h.ip
			case "client_id":
				col = &h.cid
			default:
				continue
			}
			if *col >= 0 {
				dup = columnName(name)
			}
			*col = i
		}
		if h.mac < 0 || h.ip < 0 {
			continue
		}
		if dup != "" {
			return h, fmt.Errorf("%w: column %q appears twice", ErrHeader,
				dup)
		}

		return h, nil
	}

	names, err := splitCSV(text, ',')
	if err != nil {
		names = strings.Split(text, ",")
	}
	found := map[string]bool{}
	for _, name := range names {
		found[columnName(name)] = true
	}
	var missing []string
	for _, want := range []string{"mac", "ip"} {
		if !found[want] {
			missing = append(missing, fmt.Sprintf("%q", want))
		}
	}

	return csvHeader{}, fmt.Errorf("%w: no %s column (found %s)", ErrHeader,
		strings.Join(missing, " or "), quoteList(names))
}

// hasCSVColumns reports whether text is a csv header naming the mac and
// ip columns.
func hasCSVColumns(text string) bool {
	for _, d := range csvDelims {
		names, err := splitCSV(text, d)
		if err != nil {
			continue
		}

		var mac, ip bool
		for _, name := range names {
			switch columnName(name) {
			case "mac":
				mac = true
			case "ip":
				ip = true
			}
		}
		if mac && ip {
			return true
		}
	}

	return false
}

// columnName folds a header field: case, surrounding space, and '-' or
// ' ' for '_' do not matter ("Client-ID" is "client_id").
func columnName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))

	return strings.NewReplacer("-", "_", " ", "_").Replace(s)
}

// quoteList quotes up to ten names for a message.
func quoteList(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}

	var b strings.Builder
	for i, name := range names {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(names)-i)

			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", short(strings.TrimSpace(name)))
	}

	return b.String()
}

// row reads one data line.
func (h *csvHeader) row(line int, text string) outcome {
	fields, err := splitCSV(text, h.delim)
	if err != nil {
		return badOutcome(line, text, err)
	}
	if len(fields) != h.n {
		return badOutcome(line, text, fmt.Errorf(
			"has %d fields, the header has %d", len(fields), h.n))
	}

	var cid string
	if h.cid >= 0 {
		cid = fields[h.cid]
	}
	e, err := newEntry(line, fields[h.mac], fields[h.ip], cid)

	return entryOutcome(e, text, err)
}

// splitCSV splits one line into fields, honouring RFC 4180 quotes.
func splitCSV(text string, delim rune) ([]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	fields, err := r.Read()
	if err == nil {
		return fields, nil
	}

	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("column %d: %w", pe.Column, pe.Err)
	}
	if errors.Is(err, io.EOF) {
		return nil, errors.New("no fields")
	}

	return nil, err
}
