package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra/doc"
)

// CompletionFiles maps each shell cobra supports to the file name its
// completion script is committed under in completions/ and installed as.
var CompletionFiles = map[string]string{
	"bash":       "leaseprobe.bash",
	"zsh":        "_leaseprobe",
	"fish":       "leaseprobe.fish",
	"powershell": "leaseprobe.ps1",
}

// WriteCompletion writes the completion script for shell, generated from
// the command tree.
func WriteCompletion(w io.Writer, shell string) error {
	root := NewRootCommand(OSEnv())
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	default:
		return fmt.Errorf("no completion for shell %q", shell)
	}
}

// WriteManPages writes leaseprobe(1) and one page per subcommand to dir.
func WriteManPages(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make man page directory: %w", err)
	}

	root := NewRootCommand(OSEnv())
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "LEASEPROBE", Section: "1",
		Source: "leaseprobe " + Version(), Manual: "leaseprobe manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return fmt.Errorf("write man pages to %s: %w", filepath.Clean(dir), err)
	}

	return nil
}
