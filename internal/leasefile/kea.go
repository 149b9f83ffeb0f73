package leasefile

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Kea's memfile back end appends a row each time a lease changes and
// records a deletion as a row with a valid lifetime of 0; the last row
// for an address is the one that counts. Kea does not quote fields: it
// writes the commas inside hostname and user_context as "&#x2c", so a
// plain split on ',' is right.

// keaHeader records where the columns of a Kea lease file are; optional
// columns are -1 when absent.
type keaHeader struct {
	n                            int
	addr, hw, cid, valid, expire int
	state                        int
}

// keaMaxValid is the valid lifetime Kea writes for a lease that never
// expires.
const keaMaxValid = math.MaxUint32

// parseKea reads FormatKea. Blank lines are skipped; the first other
// line is the header.
func parseKea(p *parser, lr *lineReader) error {
	var h *keaHeader
	for {
		line, long, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}

		text := strings.TrimSpace(string(line))
		if text == "" {
			continue
		}
		if h == nil {
			if long {
				return fmt.Errorf("kea line %d: %w: %w", lr.num,
					ErrHeader, errLongLine)
			}

			hdr, err := readKeaHeader(text)
			if err != nil {
				return fmt.Errorf("kea line %d: %w", lr.num, err)
			}
			h = &hdr

			continue
		}
		if long {
			p.settle(badOutcome(lr.num, text, errLongLine))

			continue
		}
		p.keaRow(h, lr.num, text)
	}
	if h == nil {
		return fmt.Errorf("kea: %w: the input has no header line", ErrHeader)
	}

	return nil
}

// readKeaHeader finds the columns in the header line text.
func readKeaHeader(text string) (keaHeader, error) {
	names := strings.Split(text, ",")
	h := keaHeader{n: len(names), addr: -1, hw: -1, cid: -1, valid: -1,
		expire: -1, state: -1}
	for i, name := range names {
		var col *int
		switch columnName(name) {
		case "address":
			col = &h.addr
		case "hwaddr":
			col = &h.hw
		case "client_id":
			col = &h.cid
		case "valid_lifetime":
			col = &h.valid
		case "expire":
			col = &h.expire
		case "state":
			col = &h.state
		default:
			continue
		}
		if *col >= 0 {
			return h, fmt.Errorf("%w: column %q appears twice", ErrHeader,
				columnName(name))
		}
		*col = i
	}
	if h.addr < 0 || h.hw < 0 {
		return h, fmt.Errorf("%w: want a Kea DHCPv4 header starting "+
			"\"address,hwaddr\" (found %s)", ErrHeader, quoteList(names))
	}

	return h, nil
}

// keaRow reads one data line.
func (p *parser) keaRow(h *keaHeader, line int, text string) {
	f := strings.Split(text, ",")
	if len(f) != h.n {
		p.settle(badOutcome(line, text, fmt.Errorf(
			"has %d fields, the header has %d", len(f), h.n)))

		return
	}
	addr, err := parseIPv4(f[h.addr])
	if err != nil {
		p.settle(badOutcome(line, text, err))

		return
	}
	p.supersede(addr, h.outcome(p, line, text, f))
}

// outcome decides what the row f amounts to.
func (h *keaHeader) outcome(p *parser, line int, text string,
	f []string) outcome {
	bad := func(err error) outcome { return badOutcome(line, text, err) }
	// Lease states: 0 default, 1 declined, 2 expired-reclaimed; newer
	// versions add more, none of them a binding in use.
	if h.state >= 0 {
		st, err := strconv.ParseUint(f[h.state], 10, 32)
		if err != nil {
			return bad(fmt.Errorf("bad state %q", short(f[h.state])))
		}
		if st != 0 {
			return outcome{skip: SkipInactive}
		}
	}

	var valid uint64
	if h.valid >= 0 {
		var err error
		valid, err = strconv.ParseUint(f[h.valid], 10, 32)
		if err != nil {
			return bad(fmt.Errorf("bad valid lifetime %q",
				short(f[h.valid])))
		}
		if valid == 0 {
			return outcome{skip: SkipInactive}
		}
	}
	if h.expire >= 0 && valid != keaMaxValid {
		expire, err := strconv.ParseInt(f[h.expire], 10, 64)
		if err != nil || expire < 0 {
			return bad(fmt.Errorf("bad expire time %q",
				short(f[h.expire])))
		}
		if p.expired(expire) {
			return outcome{skip: SkipExpired}
		}
	}

	var cid string
	if h.cid >= 0 {
		cid = f[h.cid]
	}
	e, err := newEntry(line, f[h.hw], f[h.addr], cid)

	return entryOutcome(e, text, err)
}
