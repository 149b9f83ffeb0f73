//go:build linux

// Command demo shows leaseprobe against a real dnsmasq, in a throw-away lab
// of network namespaces: a lease that is valid, a wrong address for the
// same client (invalid), a client the server does not know (no answer),
// and the valid lease again while a stranger uses the address (the ARP
// probe finds the conflict).
//
// Run it as root from the module root: go run ./internal/demo (or make
// demo). It builds leaseprobe into a temporary directory, tears the lab
// down on exit and on Ctrl-C, and exits non-zero when a probe's exit code
// is not the expected one.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/leaseprobe/leaseprobe/internal/lab"
)

// The client whose lease the server holds, and one it has never seen.
var (
	knownMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0xaa, 0x01}
	unknownMAC = net.HardwareAddr{0x02, 0, 0, 0, 0xbb, 0x02}
	// strangerMAC takes the leased address for the last probe.
	strangerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0xcc, 0x03}
	leasedIP    = netip.MustParseAddr("192.0.2.50")
	wrongIP     = netip.MustParseAddr("192.0.2.60")
	freeIP      = netip.MustParseAddr("192.0.2.77")
)

// probe is one run of leaseprobe check and the exit code it should end
// with.
type probe struct {
	title string
	mac   net.HardwareAddr
	ip    netip.Addr
	want  int
	// arp adds --arp, after a stranger has taken the address.
	arp bool
}

func main() {
	os.Exit(run())
}

func run() int {
	if missing := lab.Missing(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "demo: needs %s: run sudo make demo\n",
			strings.Join(missing, ", "))
		return 1
	}

	// Keep the signals caught until the lab is gone, so that a second
	// Ctrl-C cannot cut the tear-down short. The lab's processes run in
	// their own process groups: the terminal's Ctrl-C reaches only us.
	// SIGPIPE too: `make demo | head` must not kill us before tear-down.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt,
		syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer stop()

	l, err := lab.New(lab.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}

	// The binary goes into the lab's directory, which Close removes (and
	// the next lab, should this process be killed before it can).
	code := 1
	fmt.Println("building leaseprobe …")
	bin, err := build(ctx, l.Dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
	} else {
		code = demo(ctx, l, bin)
	}

	if err := l.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "demo: tear down lab:", err)
		code = 1
	}
	fmt.Println("lab removed")
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "demo: interrupted")
		return 130
	}

	return code
}

// demo sets up the server and runs the three probes. It returns 0 when
// each probe ended with its expected exit code.
func demo(ctx context.Context, l *lab.Lab, bin string) int {
	client, srv, err := setUp(ctx, l)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}

	fmt.Printf("\nlab: client %s (MAC %s, no IPv4 address) and a dnsmasq on %s,\n"+
		"not authoritative, holding the lease %s -> %s\n",
		client.Iface, client.MAC, srv.Host.Addr(), knownMAC, leasedIP)

	probes := []probe{
		{"the lease the server holds", knownMAC, leasedIP, 0, false},
		{"the same client, another address", knownMAC, wrongIP, 3, false},
		{"a client the server does not know", unknownMAC, freeIP, 4, false},
		{"the lease again, with an ARP probe, while another host has " +
			"taken the address", knownMAC, leasedIP, 5, true},
	}

	// Colour only when a person watches: a log keeps no escape codes.
	color := "never"
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		color = "always"
	}

	code := 0
	for _, p := range probes {
		if ctx.Err() != nil {
			return 1
		}
		if p.arp {
			if _, err := l.AddHost("stranger", lab.HostConfig{
				MAC:    strangerMAC,
				Prefix: netip.PrefixFrom(leasedIP, 24),
			}); err != nil {
				fmt.Fprintln(os.Stderr, "demo:", err)
				return 1
			}
			fmt.Printf("\nlab: host %s now uses %s\n", strangerMAC, leasedIP)
		}

		args := []string{
			"check", "-i", client.Iface, "-m", p.mac.String(), "-a", p.ip.String(),
			"-t", "1500ms", "--color", color,
		}
		if p.arp {
			args = append(args, "--arp")
		}
		fmt.Printf("\n# %s\n$ leaseprobe %s\n", p.title, strings.Join(args, " "))

		runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := client.Run(runCtx, bin, args...)
		cancel()
		if res != nil {
			os.Stdout.Write(res.Stdout)
			os.Stderr.Write(res.Stderr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			return 1
		}

		if res.ExitCode != p.want {
			fmt.Printf("exit code %d, expected %d\n", res.ExitCode, p.want)
			code = 1
		} else {
			fmt.Printf("exit code %d, as expected\n", res.ExitCode)
		}
	}

	return code
}

// setUp adds the client and the server host and starts dnsmasq.
func setUp(ctx context.Context, l *lab.Lab) (*lab.Host, *lab.Dnsmasq, error) {
	client, err := l.AddClient("client")
	if err != nil {
		return nil, nil, err
	}
	host, err := l.AddServer("server")
	if err != nil {
		return nil, nil, err
	}

	srv, err := host.StartDnsmasq(ctx, lab.DnsmasqConfig{
		LeaseTime: time.Hour,
		Router:    netip.MustParseAddr("192.0.2.254"),
		DNS:       []netip.Addr{netip.MustParseAddr("192.0.2.53")},
		Domain:    "lab.test",
		Leases:    []lab.Lease{{MAC: knownMAC, IP: leasedIP, Hostname: "laptop"}},
	})
	if err != nil {
		return nil, nil, err
	}

	return client, srv, nil
}

// build compiles leaseprobe into dir and returns the binary's path.
func build(ctx context.Context, dir string) (string, error) {
	goTool, err := findGo()
	if err != nil {
		return "", err
	}

	bin := filepath.Join(dir, "leaseprobe")
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/leaseprobe")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/leaseprobe (run the demo from the "+
			"module root): %w\n%s", err, out)
	}

	return bin, nil
}

// findGo finds the go command: sudo may have dropped it from PATH.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{
		filepath.Join(runtime.GOROOT(), "bin", "go"),
		"/usr/local/go/bin/go",
	} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}

	return "", errors.New("go command not found in PATH or /usr/local/go/bin")
}
