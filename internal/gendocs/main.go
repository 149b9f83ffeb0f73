// Command gendocs writes leaseprobe's shell completion scripts and man
// pages from its command tree:
//
//	go run ./internal/gendocs -completions completions -man dist/man
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra/doc"

	"github.com/leaseprobe/leaseprobe/internal/cli"
)

func main() {
	completions := flag.String("completions", "",
		"directory to write the completion scripts to")
	man := flag.String("man", "", "directory to write the man pages to")
	flag.Parse()

	if err := run(*completions, *man); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

func run(completions, man string) error {
	if completions != "" {
		for shell, name := range cli.CompletionFiles {
			f, err := os.Create(filepath.Join(completions, name))
			if err != nil {
				return err
			}
			err = cli.WriteCompletion(f, shell)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s completion: %w", shell, err)
			}
		}
	}
	if man != "" {
		return writeManPages(man)
	}

	return nil
}

// writeManPages writes leaseprobe(1) and one page per subcommand to dir.
// It lives here, not in the command, so that the man page generator is
// not part of every leaseprobe binary.
func writeManPages(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make man page directory: %w", err)
	}

	root := cli.NewRootCommand(cli.OSEnv())
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Section: "1",
		Source: "leaseprobe " + cli.Version(), Manual: "leaseprobe manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return fmt.Errorf("write man pages to %s: %w", dir, err)
	}

	return nil
}
