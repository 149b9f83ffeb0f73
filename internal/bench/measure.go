//go:build linux

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// measurement is one run of a command, timed from inside the namespace
// so that entering the namespace is not counted.
type measurement struct {
	WallMS   float64 `json:"wall_ms"`
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
		cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		out, err := cmd.Output()
		wall := time.Since(start)
		m := measurement{WallMS: float64(wall.Microseconds()) / 1000}
		if err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				return err
			}
		}
		m.Exit = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSSKB = ru.Maxrss
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
