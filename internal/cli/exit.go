package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/leaseprobe/leaseprobe/probe"
)

// Exit codes: a stable contract for scripts. Main is their only owner.
const (
	// ExitValid: at least one ACK and no NAK.
	ExitValid = 0
	// ExitError: the probe could not run (permission, interface, socket).
	ExitError = 1
	// ExitUsage: bad flags or values; nothing was sent.
	ExitUsage = 2
	// ExitInvalid: NAK(s) and no ACK.
	ExitInvalid = 3
	// ExitNoAnswer: no ACK or NAK before the timeout.
	ExitNoAnswer = 4
	// ExitConflict: an ACK, but the ARP probe found another host on the
	// address (check --arp), or a conflict (arp).
	ExitConflict = 5
	// ExitDisputed: ACK and NAK from different servers.
	ExitDisputed = 6
	// ExitBatchNotAllValid: a batch ran, but not every pair was valid, or
	// some input rows could not be used.
	ExitBatchNotAllValid = 7
	// ExitInterrupted: stopped by Ctrl-C (SIGINT); what arrived was
	// printed. SIGTERM gives 143, as shells report it.
	ExitInterrupted = 130
)

// SignalError is the cause main gives the context it cancels on a
// signal, so that the exit code can name the signal.
type SignalError struct {
	Signal os.Signal
}

func (e SignalError) Error() string { return "stopped by " + e.Signal.String() }

// interruptCode is the exit code of a run stopped by ctx: 128 plus the
// signal's number, as shells report it, or 130 when the cause is unknown.
func interruptCode(ctx context.Context) int {
	var se SignalError
	if errors.As(context.Cause(ctx), &se) {
		if n, ok := se.Signal.(syscall.Signal); ok {
			return 128 + int(n)
		}
	}

	return ExitInterrupted
}

// verdictCode maps a verdict to its exit code.
func verdictCode(v probe.Verdict) int {
	switch v {
	case probe.Valid:
		return ExitValid
	case probe.Invalid:
		return ExitInvalid
	case probe.Conflict:
		return ExitConflict
	case probe.Disputed:
		return ExitDisputed
	default:
		return ExitNoAnswer
	}
}

// exitError carries an exit code with the error that caused it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf reports a bad value of flag, and what would be right.
func usageErrorf(flag, format string, args ...any) error {
	return &exitError{code: ExitUsage,
		err: fmt.Errorf("--"+flag+": "+format, args...)}
}

// failf reports an operational failure: exit 1.
func failf(format string, args ...any) error {
	return &exitError{code: ExitError, err: fmt.Errorf(format, args...)}
}

// verdictError ends a command that ran and printed its result with the
// code of its verdict; it prints nothing more.
type verdictError struct{ code int }

func (e *verdictError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitCode finds the code err stands for.
func exitCode(err error) int {
	var ve *verdictError
	var ee *exitError
	switch {
	case err == nil:
		return ExitValid
	case errors.As(err, &ve):
		return ve.code
	case errors.As(err, &ee):
		return ee.code
	default:
		return ExitError
	}
}
