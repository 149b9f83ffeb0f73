package output

import (
	"fmt"

	"github.com/fatih/color"

	"github.com/leaseprobe/leaseprobe/probe"
)

// ColorEnabled decides whether to colour output from the --color mode,
// whether the NO_COLOR environment variable is set (and non-empty), and
// whether the writer is a terminal.
//
//   - "auto" colours only a terminal, and never when NO_COLOR is set.
//   - "always" colours even when NO_COLOR is set: an explicit flag is a
//     more specific request than an environment variable.
//   - "never" never colours.
//
// Any other mode is an error.
func ColorEnabled(mode string, noColorEnv, isTerminal bool) (bool, error) {
	switch mode {
	case "auto":
		return isTerminal && !noColorEnv, nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	default:
		return false, fmt.Errorf(
			"invalid --color %q: want auto, always or never", mode)
	}
}

// styles holds one colour instance per kind of text. Each instance is
// switched on or off by itself, so the global color.NoColor is left alone.
type styles struct {
	good, bad, warn, head *color.Color
}

func newStyles(enabled bool) styles {
	s := styles{
		good: color.New(color.FgGreen),
		bad:  color.New(color.FgRed),
		warn: color.New(color.FgYellow),
		head: color.New(color.Bold),
	}
	for _, c := range []*color.Color{s.good, s.bad, s.warn, s.head} {
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}

	return s
}

// verdict colours a verdict word.
func (s styles) verdict(v probe.Verdict) string {
	return s.verdictStyle(v).Sprint(v)
}

// verdictStyle is the colour of a verdict word.
func (s styles) verdictStyle(v probe.Verdict) *color.Color {
	switch v {
	case probe.Valid:
		return s.good
	case probe.Invalid, probe.Conflict:
		return s.bad
	default:
		return s.warn
	}
}

// msgType colours a reply type word.
func (s styles) msgType(t probe.MessageType) string {
	switch t {
	case probe.ACK:
		return s.good.Sprint(t)
	case probe.NAK:
		return s.bad.Sprint(t)
	default:
		return s.warn.Sprint(t)
	}
}

// warning renders one warning line, without its newline.
func (s styles) warning(text string) string {
	return s.warn.Sprint("warning:") + " " + text
}
