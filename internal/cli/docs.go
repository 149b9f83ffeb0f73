package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
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
	root := NewRootCommand(&Env{Stdout: w})
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

func newCompletionCommand(env *Env) *cobra.Command {
	shells := make([]string, 0, len(CompletionFiles))
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		shells = append(shells, sh)
	}

	return &cobra.Command{
		Use:   "completion SHELL",
		Short: "Print the completion script for bash, zsh, fish or powershell",
		Long: `Completion prints the shell completion script, the same one the
packages install from completions/. Load it for the current shell, e.g.

  source <(leaseprobe completion bash)

or install it where the shell looks for completions, e.g.
  leaseprobe completion bash > /usr/share/bash-completion/completions/leaseprobe
  leaseprobe completion zsh > "${fpath[1]}/_leaseprobe"
  leaseprobe completion fish > ~/.config/fish/completions/leaseprobe.fish

Nothing is sent on any network.`,
		Example:   "  source <(leaseprobe completion bash)",
		ValidArgs: shells,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !slices.Contains(shells, args[0]) {
				return &exitError{code: ExitUsage, err: fmt.Errorf(
					"%s takes one shell: %s", cmd.CommandPath(),
					strings.Join(shells, ", "))}
			}

			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			return WriteCompletion(env.Stdout, args[0])
		},
	}
}
