package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time with -ldflags "-X github.com/leaseprobe/leaseprobe/internal/cli.version=…".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// buildInfo returns version, commit and date, falling back to what the Go
// toolchain recorded when -ldflags set nothing (go install, go build).
func buildInfo() (v, c, d string) {
	v, c, d = version, commit, date
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v, c, d
	}
	if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && c == "none":
			c = s.Value
		case s.Key == "vcs.time" && d == "unknown":
			d = s.Value
		}
	}

	return v, c, d
}

func versionString() string {
	v, c, d := buildInfo()

	return fmt.Sprintf("%s (commit %s, built %s, %s)", v, c, d,
		runtime.Version())
}

// Version returns the version leaseprobe reports about itself.
func Version() string {
	v, _, _ := buildInfo()

	return v
}

func newVersionCommand(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit, build date and Go version",
		Long: `Version prints what leaseprobe was built from: its version, the git
commit, the build date, and the Go version and platform. Releases stamp
these at build time; a build from source reports what Go recorded. Nothing
is sent on any network.`,
		Example: "  leaseprobe version\n  leaseprobe --version",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			v, c, d := buildInfo()
			_, err := fmt.Fprintf(env.Stdout,
				"leaseprobe %s\ncommit     %s\nbuilt      %s\ngo         %s %s/%s\n",
				v, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)

			return err
		},
	}
}
