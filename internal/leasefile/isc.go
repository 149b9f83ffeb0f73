package leasefile

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ISC dhcpd appends a new "lease ADDR { ... }" block each time a lease
// changes, and reads the file from top to bottom, so the last block for
// an address is the one that counts (dhcpd.leases(5)). The parser below
// reads the file as tokens: words, strings, '{', '}' and ';'.

// iscToken is one token of a dhcpd.leases file.
type iscToken struct {
	kind  byte   // 'w' word, 's' string, or one of '{', '}', ';'
	text  string // the word, or the string with its escapes decoded
	line  int
	first bool // the token starts at column 0
}

// maxStmt is how many tokens of a statement are kept; the statements
// that matter have at most four.
const maxStmt = 8

// iscParser reads the tokens of a dhcpd.leases file.
type iscParser struct {
	p    *parser
	text string // the line being tokenized

	stmt     []iscToken // tokens of the statement being read
	stmtText string     // the line where stmt begins

	skip      int    // depth of the blocks being skipped
	skipStart int    // line where the skipped top-level block begins
	skipText  string // and its text

	lease *iscLease // the lease block being read
}

// iscLease gathers the statements of one lease block.
type iscLease struct {
	line  int
	text  string
	addr  netip.Addr
	err   error    // first problem found in the block
	state string   // "binding state", lower case
	ends  []string // words after "ends"
	hw    []string // words after "hardware"
	uid   *iscToken
}

// parseISC reads FormatISC.
func parseISC(p *parser, lr *lineReader) error {
	ip := &iscParser{p: p}
	for {
		line, long, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}

		ip.text = string(line)
		if long {
			ip.problem(lr.num, errLongLine)

			continue
		}

		if err := iscTokenize(line, lr.num, ip.token); err != nil {
			ip.problem(lr.num, err)
		}
	}
	ip.abandon("at the end of the input")

	return nil
}

// problem records a line that could not be tokenized: against the lease
// being read, or as a bad row of its own.
func (ip *iscParser) problem(line int, err error) {
	if ip.lease != nil {
		ip.lease.fail(fmt.Errorf("line %d: %w", line, err))

		return
	}
	ip.p.settle(badOutcome(line, ip.text, err))
}

// abandon ends a block that was never closed; where says where that
// became clear.
func (ip *iscParser) abandon(where string) {
	switch {
	case ip.lease != nil:
		ip.lease.fail(fmt.Errorf("block not closed %s", where))
		ip.closeLease()
	case ip.skip > 0:
		ip.p.settle(badOutcome(ip.skipStart, ip.skipText,
			fmt.Errorf("block not closed %s", where)))
	}
	ip.skip = 0
	ip.stmt = ip.stmt[:0]
}

// token feeds one token to the parser.
func (ip *iscParser) token(t iscToken) {
	// dhcpd writes "lease" at the start of a line and indents what is
	// inside blocks: seeing it there ends whatever was left open.
	if t.first && t.kind == 'w' && strings.EqualFold(t.text, "lease") {
		if ip.lease != nil || ip.skip > 0 {
			ip.abandon(fmt.Sprintf("before line %d", t.line))
		}
		ip.stmt = ip.stmt[:0]
	}

	if ip.skip > 0 {
		switch t.kind {
		case '{':
			ip.skip++
		case '}':
			ip.skip--
		}

		return
	}

	switch t.kind {
	case '{':
		ip.open(t)
	case '}':
		if ip.lease != nil {
			ip.closeLease()
		}
		ip.stmt = ip.stmt[:0]
	case ';':
		if ip.lease != nil {
			ip.lease.statement(ip.stmt)
		}
		ip.stmt = ip.stmt[:0]
	default:
		if len(ip.stmt) == 0 {
			ip.stmtText = ip.text
		}
		if len(ip.stmt) < maxStmt {
			ip.stmt = append(ip.stmt, t)
		}
	}
}

// open handles a '{': a lease block starts, or a block to skip.
func (ip *iscParser) open(brace iscToken) {
	hdr := ip.stmt
	ip.stmt = ip.stmt[:0]
	if ip.lease != nil {
		// "on commit { ... }" and the like inside a lease.
		ip.skip = 1

		return
	}

	start, text := brace.line, ip.text
	if len(hdr) > 0 {
		start, text = hdr[0].line, ip.stmtText
	}
	ip.skipStart, ip.skipText = start, text
	if len(hdr) == 0 || hdr[0].kind != 'w' {
		ip.skip = 1

		return
	}

	switch strings.ToLower(hdr[0].text) {
	case "lease":
		l := &iscLease{line: start, text: text}
		if len(hdr) != 2 || hdr[1].kind != 'w' {
			l.fail(errors.New("want \"lease ADDRESS {\""))
		} else if a, err := parseIPv4(hdr[1].text); err != nil {
			l.fail(err)
		} else {
			l.addr = a
		}
		ip.lease = l
	case "ia-na", "ia-ta", "ia-pd":
		ip.p.settle(outcome{skip: SkipIPv6})
		ip.skip = 1
	default:
		// failover peer, host, class, subclass, group...
		ip.skip = 1
	}
}

// closeLease settles the lease block being read.
func (ip *iscParser) closeLease() {
	l := ip.lease
	ip.lease = nil
	o := l.outcome(ip.p)
	if l.addr.IsValid() {
		ip.p.supersede(l.addr, o)

		return
	}
	ip.p.settle(o)
}

// fail records the first problem of the block.
func (l *iscLease) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

// statement takes in one statement of the block; keywords are
// case-insensitive, as dhcpd reads them.
func (l *iscLease) statement(s []iscToken) {
	if len(s) == 0 || s[0].kind != 'w' {
		return
	}

	words := func() []string {
		w := make([]string, 0, len(s)-1)
		for _, t := range s[1:] {
			w = append(w, t.text)
		}

		return w
	}
	// "next binding state" and "rewind binding state" begin with other
	// words and so fall through to the default.
	switch strings.ToLower(s[0].text) {
	case "binding":
		if len(s) != 3 || !strings.EqualFold(s[1].text, "state") {
			l.fail(errors.New("bad binding state statement"))

			return
		}
		l.state = strings.ToLower(s[2].text)
	case "ends":
		l.ends = words()
	case "hardware":
		l.hw = words()
	case "uid":
		if len(s) != 2 {
			l.fail(errors.New("bad uid statement"))

			return
		}
		uid := s[1]
		l.uid = &uid
	}
}

// outcome decides what the block amounts to.
func (l *iscLease) outcome(p *parser) outcome {
	bad := func(err error) outcome { return badOutcome(l.line, l.text, err) }
	if l.err != nil {
		return bad(l.err)
	}

	switch l.state {
	case "":
		return bad(errors.New("no binding state"))
	case "active":
	default:
		return outcome{skip: SkipInactive}
	}

	ends, never, err := iscTime(l.ends)
	if err != nil {
		return bad(err)
	}
	if !never && p.expired(ends.Unix()) {
		return outcome{skip: SkipExpired}
	}

	if len(l.hw) == 0 {
		return bad(errors.New("active lease has no hardware address"))
	}
	if len(l.hw) != 2 {
		return bad(errors.New("want \"hardware ethernet MAC\""))
	}
	if !strings.EqualFold(l.hw[0], "ethernet") {
		return bad(fmt.Errorf("hardware type %q is not ethernet",
			short(l.hw[0])))
	}

	var cid []byte
	if l.uid != nil {
		cid, err = iscUID(*l.uid)
		if err != nil {
			return bad(err)
		}
	}
	e, err := newEntry(l.line, l.hw[1], l.addr.String(), "")
	e.ClientID = cid

	return entryOutcome(e, l.text, err)
}

// iscUID decodes a uid: a string (dhcpd's default octal-escaped form) or
// colon-separated hex (lease-id-format hex).
func iscUID(t iscToken) ([]byte, error) {
	if t.kind == 's' {
		cid, err := checkClientID([]byte(t.text))
		if err != nil {
			return nil, fmt.Errorf("bad uid: %w", err)
		}

		return cid, nil
	}

	b, err := parseHex(t.text)
	if err != nil {
		return nil, fmt.Errorf("bad uid %q: %w", short(t.text), err)
	}
	if b, err = checkClientID(b); err != nil {
		return nil, fmt.Errorf("bad uid: %w", err)
	}

	return b, nil
}

// iscTime reads the words after "ends": "never", "epoch SECONDS", or
// "WEEKDAY YYYY/MM/DD HH:MM:SS" in UTC.
func iscTime(w []string) (t time.Time, never bool, err error) {
	switch {
	case len(w) == 0:
		return t, false, errors.New("active lease has no end time")
	case len(w) == 1 && strings.EqualFold(w[0], "never"):
		return t, true, nil
	case len(w) == 2 && strings.EqualFold(w[0], "epoch"):
		n, err := strconv.ParseInt(w[1], 10, 64)
		if err != nil {
			return t, false, fmt.Errorf("bad end time %q", short(w[1]))
		}

		return time.Unix(n, 0), false, nil
	case len(w) == 3:
		t, err := time.Parse("2006/1/2 15:4:5", w[1]+" "+w[2])
		if err != nil {
			return t, false, fmt.Errorf("bad end time %q",
				short(w[1]+" "+w[2]))
		}

		return t, false, nil
	}

	return t, false, fmt.Errorf("bad end time %q",
		short(strings.Join(w, " ")))
}

// iscTokenize passes the tokens of line, whose number is num, to emit.
// A '#' outside a string starts a comment. A string must end on its
// line: dhcpd escapes line breaks in the strings it writes.
func iscTokenize(line []byte, num int, emit func(iscToken)) error {
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case isSpace(c):
			i++
		case c == '#':
			return nil
		case c == '{' || c == '}' || c == ';':
			emit(iscToken{kind: c, line: num, first: i == 0})
			i++
		case c == '"':
			s, n, err := iscString(line[i+1:])
			if err != nil {
				return err
			}
			emit(iscToken{kind: 's', text: s, line: num, first: i == 0})
			i += 1 + n
		default:
			j := i
			for j < len(line) && !isSpace(line[j]) &&
				!strings.ContainsRune("#{};\"", rune(line[j])) {
				j++
			}
			emit(iscToken{kind: 'w', text: string(line[i:j]), line: num,
				first: i == 0})
			i = j
		}
	}

	return nil
}

// isSpace reports whether c is ASCII white space.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
		c == '\f'
}

// iscString decodes a quoted string whose opening quote is just before
// b, and returns how many bytes it took, closing quote included. The
// escapes are those of dhcpd's lexer: \t \r \n \b, \NNN in octal (first
// digit 0 to 3), \xHH, and a backslash before any other byte.
func iscString(b []byte) (string, int, error) {
	var out []byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			return string(out), i + 1, nil
		}
		if c != '\\' {
			out = append(out, c)

			continue
		}

		i++
		if i == len(b) {
			break
		}
		switch e := b[i]; {
		case e == 't':
			out = append(out, '\t')
		case e == 'r':
			out = append(out, '\r')
		case e == 'n':
			out = append(out, '\n')
		case e == 'b':
			out = append(out, '\b')
		case e >= '0' && e <= '3':
			v := e - '0'
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' &&
				b[i+1] <= '7'; k++ {
				i++
				v = v<<3 | (b[i] - '0')
			}
			out = append(out, v)
		case e == 'x':
			var v byte
			for k := 0; k < 2 && i+1 < len(b); k++ {
				d, ok := hexDigit(b[i+1])
				if !ok {
					break
				}
				i++
				v = v<<4 | d
			}
			out = append(out, v)
		default:
			out = append(out, e)
		}
	}

	return "", len(b), errors.New("string not closed on its line")
}
