package leasefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// parseJSONL reads FormatJSONL. Blank lines and lines starting with '#'
// are skipped.
func parseJSONL(p *parser, lr *lineReader) error {
	for {
		line, long, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}

		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if long {
			p.settle(badOutcome(lr.num, string(line), errLongLine))

			continue
		}
		p.settle(jsonRow(lr.num, line))
	}
}

// jsonRow reads one object: {"mac": "...", "ip": "...", "client_id":
// "..." or null}. Other keys are ignored; key names are case-sensitive,
// and an object with a key twice is a bad row.
func jsonRow(line int, text []byte) outcome {
	bad := func(err error) outcome {
		return badOutcome(line, string(text), err)
	}
	if text[0] != '{' {
		return bad(errors.New("not a JSON object"))
	}

	var obj map[string]json.RawMessage
	if err := json.Unmarshal(text, &obj); err != nil {
		return bad(fmt.Errorf("bad JSON: %w", err))
	}
	// Unmarshal keeps the last of duplicate keys; which one was meant
	// cannot be known.
	if key := duplicateKey(text); key != "" {
		return bad(fmt.Errorf("key %q appears more than once", key))
	}
	mac, err := jsonString(obj, "mac", true)
	if err != nil {
		return bad(err)
	}
	ip, err := jsonString(obj, "ip", true)
	if err != nil {
		return bad(err)
	}
	cid, err := jsonString(obj, "client_id", false)
	if err != nil {
		return bad(err)
	}
	e, err := newEntry(line, mac, ip, cid)

	return entryOutcome(e, string(text), err)
}

// duplicateKey returns the first key that appears twice at the top level
// of text, a JSON object json.Unmarshal accepted, or "" if none does.
func duplicateKey(text []byte) string {
	dec := json.NewDecoder(bytes.NewReader(text))
	if _, err := dec.Token(); err != nil { // the opening brace
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return ""
		}
	}

	return ""
}

// jsonString returns the string value of key; null counts as absent.
func jsonString(obj map[string]json.RawMessage, key string,
	required bool) (string, error) {
	raw, ok := obj[key]
	if !ok || string(raw) == "null" {
		if required {
			return "", fmt.Errorf("no %q key", key)
		}

		return "", nil
	}

	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is not a string", key)
	}

	return s, nil
}
