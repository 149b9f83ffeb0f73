//go:build linux

// Command bench measures leaseprobe against real servers in a lab of
// network namespaces it builds and removes: the time a check adds to the
// network's own answer, replies caught from many servers and under a
// flood, a batch of leases against a loop of checks, and peak memory.
// Run it as root from the module root:
//
//	go run ./internal/bench            # the full suite (several minutes)
//	go run ./internal/bench -smoke     # tiny sizes, a few seconds
//
// Every figure is a median over -runs runs unless it says otherwise. The
// lab's addresses are documentation prefixes, and 198.18.0.0/15 (set
// aside for benchmarks by RFC 2544) for the 1,000-lease batch.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

func main() {
	if len(os.Args) > 1 {
		var err error
		switch os.Args[1] {
		case "flood":
			err = floodMain(os.Args[2:])
		case "measure":
			err = measureMain(os.Args[2:])
		case "sockclose":
			err = sockCloseMain(os.Args[2:])
		default:
			os.Exit(suiteMain(os.Args[1:]))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}

		return
	}
	os.Exit(suiteMain(nil))
}

// settings sizes the suite.
type settings struct {
	runs         int
	timeout      time.Duration
	servers      int
	floodServers int
	floodRate    int
	leases       int
	batchTimeout time.Duration
	batchRate    int
	loopRuns     int
	loopLimit    int
}

func suiteMain(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	smoke := fs.Bool("smoke", false, "tiny sizes: checks that the suite runs")
	s := settings{}
	fs.IntVar(&s.runs, "runs", 7, "runs per figure")
	fs.DurationVar(&s.timeout, "timeout", time.Second, "check's timeout")
	fs.IntVar(&s.servers, "servers", 32, "servers answering one request")
	fs.IntVar(&s.floodServers, "flood-servers", 4, "servers in the flood test")
	fs.IntVar(&s.floodRate, "flood-rate", 20000, "flood frames per second")
	fs.IntVar(&s.leases, "leases", 1000, "leases in the batch test")
	fs.DurationVar(&s.batchTimeout, "batch-timeout", 300*time.Millisecond,
		"each probe's timeout in the batch and loop tests")
	fs.IntVar(&s.batchRate, "batch-rate", 500, "batch --rate")
	fs.IntVar(&s.loopRuns, "loop-runs", 1, "runs of the one-by-one loops")
	fs.IntVar(&s.loopLimit, "loop-limit", 0,
		"check only this many pairs in the loops and scale (0: all)")
	_ = fs.Parse(args)
	if *smoke {
		s = settings{runs: 2, timeout: 300 * time.Millisecond, servers: 3,
			floodServers: 2, floodRate: 2000, leases: 10,
			batchTimeout: 200 * time.Millisecond, batchRate: 0, loopRuns: 1}
	}

	r, err := newRunner()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(r.dir)

	rep, err := r.suite(context.Background(), s)
	if rep != nil {
		rep.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}

	return 0
}

// runner holds the binaries the suite runs.
type runner struct {
	dir   string
	probe string // leaseprobe
	self  string // this program, for measure and flood in namespaces
}

func newRunner() (*runner, error) {
	dir, err := os.MkdirTemp("", "leaseprobe-bench-")
	if err != nil {
		return nil, err
	}
	r := &runner{dir: dir, probe: filepath.Join(dir, "leaseprobe")}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	// Built as the release builds it: static, no cgo.
	build := exec.Command(goTool, "build", "-trimpath", "-o", r.probe,
		"./cmd/leaseprobe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("build leaseprobe (run from the module "+
			"root): %w\n%s", err, out)
	}
	if r.self, err = os.Executable(); err != nil {
		return nil, err
	}

	return r, nil
}

// measure runs a command n times inside host's namespace, timed there.
func (r *runner) measure(h *lab.Host, n int, keep bool, args ...string) ([]measurement, error) {
	cmdArgs := []string{"netns", "exec", h.NS, r.self, "measure",
		"-n", fmt.Sprint(n), fmt.Sprintf("-stdout=%v", keep), "--"}
	out, err := exec.Command("ip", append(cmdArgs, args...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("measure %s: %w", strings.Join(args, " "), err)
	}

	var ms []measurement
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m measurement
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}

	return ms, sc.Err()
}

// newLab makes a lab whose log goes nowhere.
func newLab() (*lab.Lab, error) {
	return lab.New(lab.Options{})
}

var (
	clientMAC = net.HardwareAddr{2, 0, 0, 0, 0xaa, 1}
	leasedIP  = netip.MustParseAddr("192.0.2.50")
)

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}

	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func walls(ms []measurement) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = m.WallMS
	}

	return out
}

func maxRSS(ms []measurement) int64 {
	var m int64
	for _, x := range ms {
		m = max(m, x.MaxRSSKB)
	}

	return m
}
