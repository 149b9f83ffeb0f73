//go:build linux

package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// toolDirs are searched after PATH: sudo and cron often leave the sbin
// directories out of it.
var toolDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// lookTool finds an executable by name in PATH or in the usual system
// directories.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range toolDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() &&
			fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}

	return "", fmt.Errorf("lab: %s not found in PATH or %s",
		name, strings.Join(toolDirs, ", "))
}

// baseTools are what every lab needs.
var baseTools = []string{"ip", ProgramDnsmasq, "tcpdump"}

// packageOf names the Debian package that installs each tool.
var packageOf = map[string]string{
	"ip":           "iproute2",
	ProgramDnsmasq: "dnsmasq-base",
	"tcpdump":      "tcpdump",
	ProgramKea:     "kea-dhcp4-server",
	ProgramDhcpd:   "isc-dhcp-server",
	ProgramRelay:   "isc-dhcp-relay",
}

// Missing lists what this machine lacks to run a lab: "root" when the
// process is not running as root, and the name of each missing tool among
// those every lab needs (ip, dnsmasq, tcpdump) and the programs named
// (ProgramKea, ProgramDhcpd, ProgramRelay).
func Missing(programs ...string) []string {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range append(slices.Clone(baseTools), programs...) {
		if slices.Contains(missing, tool) {
			continue
		}
		if _, err := lookTool(tool); err != nil {
			missing = append(missing, tool)
		}
	}

	return missing
}

// Require stops the test unless a lab can run here, with the programs
// named (ProgramKea, ProgramDhcpd, ProgramRelay) besides the tools every
// lab needs. Outside CI it skips the test with a note on how to get what
// is missing. When the CI environment variable is "true" a missing piece
// fails the test instead, because a suite that skips its real-server
// tests in CI proves nothing.
func Require(t testing.TB, programs ...string) {
	t.Helper()

	missing := Missing(programs...)
	if len(missing) == 0 {
		return
	}

	msg := "lab needs " + strings.Join(missing, ", ")
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: missing lab tools fail the run)", msg)
	}
	t.Skipf("%s: %s", msg, howToGet(missing))
}

// howToGet says how to obtain the missing pieces.
func howToGet(missing []string) string {
	var hints []string
	var pkgs []string
	for _, m := range missing {
		switch m {
		case "root":
			hints = append(hints, "run sudo make test")
		default:
			if pkg, ok := packageOf[m]; ok {
				pkgs = append(pkgs, pkg)
			}
		}
	}
	if len(pkgs) > 0 {
		// A plain apt-get install of a server package starts the
		// server in the host's namespace; make deps keeps it from
		// starting.
		hints = append(hints, "install "+strings.Join(pkgs, " ")+
			" with sudo make deps, which keeps their services from starting")
	}

	return strings.Join(hints, "; ")
}
