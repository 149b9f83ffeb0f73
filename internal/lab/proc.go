//go:build linux

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StopGrace is how long a process has to exit after SIGTERM (or SIGINT)
// before it is killed.
const StopGrace = 2 * time.Second

// killWait bounds the wait for a process after SIGKILL.
const killWait = 5 * time.Second

// Process is a program the lab started inside one of its namespaces.
type Process struct {
	// Name is the program's base name, for messages.
	Name string
	// NS is the namespace it runs in.
	NS string

	cmd  *exec.Cmd
	done chan struct{}
	// err is cmd.Wait's result; read it only after done is closed.
	err error
}

// PID returns the process id. `ip netns exec` replaces itself with the
// program, so this is the program's own PID.
func (p *Process) PID() int {
	return p.cmd.Process.Pid
}

// Done is closed when the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} {
	return p.done
}

// Exited reports whether the process has exited and been reaped.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitCode returns the exit status once the process has exited: -1 when a
// signal ended it or when it is still running.
func (p *Process) ExitCode() int {
	if !p.Exited() {
		return -1
	}

	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the process by its PID. Signalling a process that has
// already exited is not an error.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}

	err := p.cmd.Process.Signal(sig)
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("lab: signal %s (pid %d): %w", p.Name, p.PID(), err)
	}

	return nil
}

// Wait waits for the process to exit, at most until ctx ends.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("lab: wait for %s (pid %d): %w", p.Name, p.PID(), ctx.Err())
	}
}

// Stop ends the process: sig first (SIGTERM if zero), then SIGKILL when it
// has not exited after grace. It returns once the process has been reaped.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	if sig == 0 {
		sig = syscall.SIGTERM
	}

	if err := p.Signal(sig); err != nil {
		return err
	}

	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}

	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), killWait)
	defer cancel()

	return p.Wait(ctx)
}

// start runs name with args in namespace ns. Output goes to stdout and
// stderr (either may be nil). The process gets its own process group, so a
// Ctrl-C on the terminal reaches only the caller, which then stops it; and
// it is killed if the calling thread dies without stopping it.
func (l *Lab) start(
	ns string,
	stdout, stderr io.Writer,
	name string,
	args ...string,
) (*Process, error) {
	return l.startEnv(ns, nil, stdout, stderr, name, args...)
}

// startEnv is start with extra environment variables ("KEY=value") added
// to the caller's environment.
func (l *Lab) startEnv(
	ns string,
	env []string,
	stdout, stderr io.Writer,
	name string,
	args ...string,
) (*Process, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	if !l.ownsNS(ns) {
		return nil, fmt.Errorf("lab: namespace %q is not part of this lab", ns)
	}

	argv := append([]string{"netns", "exec", ns, name}, args...)
	cmd := exec.Command(l.ipPath, argv...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}

	p := &Process{
		Name: baseName(name),
		NS:   ns,
		cmd:  cmd,
		done: make(chan struct{}),
	}

	// Hold the lock across Start so that Close either sees the process or
	// refuses to start it: nothing can slip past a closing lab.
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: start %s in %s: %w", p.Name, ns, err)
	}
	l.procs = append(l.procs, p)
	l.logf("lab: started %s in %s as pid %d", p.Name, ns, p.PID())

	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	return p, nil
}

func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}

	return path
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
// When marker is set, seen is closed the first time the text written so far
// contains it.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
}

func newSyncBuffer(marker string) *syncBuffer {
	return &syncBuffer{marker: marker, seen: make(chan struct{})}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	n, err := b.buf.Write(p)
	if b.marker != "" && bytes.Contains(b.buf.Bytes(), []byte(b.marker)) {
		select {
		case <-b.seen:
		default:
			close(b.seen)
		}
	}

	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()

	return bytes.Clone(b.buf.Bytes())
}
