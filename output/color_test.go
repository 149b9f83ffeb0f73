package output

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestColorEnabled(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		noColor  bool
		terminal bool
		want     bool
		wantErr  bool
	}{
		{name: "auto on a terminal", mode: "auto", terminal: true, want: true},
		{name: "auto to a pipe", mode: "auto"},
		{name: "auto with NO_COLOR", mode: "auto", noColor: true, terminal: true},
		{name: "always to a pipe", mode: "always", want: true},
		{name: "always beats NO_COLOR", mode: "always", noColor: true, want: true},
		{name: "never on a terminal", mode: "never", terminal: true},
		{name: "empty mode", mode: "", wantErr: true},
		{name: "unknown mode", mode: "yes", terminal: true, wantErr: true},
		{name: "case matters", mode: "Always", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ColorEnabled(tc.mode, tc.noColor, tc.terminal)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "--color") {
					t.Fatalf("error = %v, want one naming --color", err)
				}

				return
			}

			if err != nil {
				t.Fatalf("ColorEnabled: %v", err)
			}

			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ColorEnabled (-want +got):\n%s", diff)
			}
		})
	}
}
