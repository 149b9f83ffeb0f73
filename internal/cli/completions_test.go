package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompletionsUpToDate fails when the committed scripts in completions/
// no longer match the command tree; `make completions` rewrites them.
func TestCompletionsUpToDate(t *testing.T) {
	for shell, name := range CompletionFiles {
		t.Run(shell, func(t *testing.T) {
			var got bytes.Buffer
			if err := WriteCompletion(&got, shell); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("../../completions", name))
			if err != nil {
				t.Fatalf("%v (run make completions)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("completions/%s is out of date; run make "+
					"completions (-committed +generated):\n%s", name, diff)
			}
		})
	}
}

func TestCompletionCommandPrintsTheSameScript(t *testing.T) {
	te := newTestEnv()
	if code := te.run("completion", "bash"); code != 0 {
		t.Fatalf("exit %d: %s", code, te.stderr.String())
	}
	want, err := os.ReadFile("../../completions/leaseprobe.bash")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, te.stdout.Bytes()) {
		t.Error("leaseprobe completion bash differs from completions/leaseprobe.bash")
	}
}

func TestInterfaceCompletion(t *testing.T) {
	te := newTestEnv()
	code := te.run("__complete", "check", "--interface", "")
	out := te.stdout.String()
	if code != 0 || out != "veth0\n:4\n" {
		t.Errorf("exit %d, completion %q; want veth0 and no file completion (:4)",
			code, out)
	}
}
