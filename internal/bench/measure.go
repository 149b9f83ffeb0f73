//go:build linux

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/leaseprobe/leaseprobe/probe"
)

// measurement is one run of a command, timed from inside the namespace
// so that entering the namespace is not counted.
type measurement struct {
	WallMS float64 `json:"wall_ms"`
	// OutputMS is when the first byte of stdout arrived: the moment a
	// person or a script has the result, before the process has exited.
	OutputMS float64 `json:"output_ms"`
	MaxRSSKB int64   `json:"max_rss_kb"`
	Exit     int     `json:"exit"`
	Stdout   string  `json:"stdout"`
}

// measureMain runs a command -n times and prints one JSON measurement a
// line: wall time, peak RSS (from the kernel's rusage) and exit code.
func measureMain(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	n := fs.Int("n", 1, "runs")
	keep := fs.Bool("stdout", false, "include the command's stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("measure: no command")
	}

	enc := json.NewEncoder(os.Stdout)
	for range *n {
		m, out, err := runOnce(fs.Arg(0), fs.Args()[1:])
		if err != nil {
			return err
		}
		if *keep {
			m.Stdout = string(out)
		}
		if err := enc.Encode(m); err != nil {
			return err
		}
	}

	return nil
}

// runOnce runs a command and times it: when its first output arrived and
// when it exited.
func runOnce(name string, args []string) (measurement, []byte, error) {
	var m measurement
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return m, nil, err
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return m, nil, err
	}
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, rerr := pipe.Read(buf)
		if n > 0 && out == nil {
			m.OutputMS = ms(time.Since(start))
		}
		out = append(out, buf[:n]...)
		if rerr != nil {
			break
		}
	}
	err = cmd.Wait()
	m.WallMS = ms(time.Since(start))
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		return m, nil, err
	}
	m.Exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.MaxRSSKB = ru.Maxrss
	}

	return m, out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sockCloseMain opens and closes the probe's raw socket on an interface
// -n times and prints how long each close took, one number (ms) a line.
// Releasing an AF_PACKET socket waits for an RCU grace period in the
// kernel (synchronize_net in packet_release): a cost every check pays at
// exit that a UDP client such as dhcping does not.
func sockCloseMain(args []string) error {
	fs := flag.NewFlagSet("sockclose", flag.ContinueOnError)
	n := fs.Int("n", 1, "runs")
	name := fs.String("i", "", "interface")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(*name)
	if err != nil {
		return err
	}

	for range *n {
		t, err := probe.Listen(ifi, probe.ListenOptions{})
		if err != nil {
			return err
		}
		start := time.Now()
		if err := t.Close(); err != nil {
			return err
		}
		fmt.Printf("%.3f\n", ms(time.Since(start)))
	}

	return nil
}
