package output

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/probe"
)

// ansi matches the colour escape codes of package color.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func batchRows() ([]BatchRow, BatchCounts) {
	rows := []BatchRow{
		{Line: 12, MAC: mac("02:00:00:00:00:0c"), IP: addrs("192.0.2.112")[0],
			Result: disputedResult()},
		{Line: 2, MAC: mac("02:00:00:00:00:02"), IP: addrs("192.0.2.2")[0],
			Result: validResult()},
		{Line: 3, MAC: mac("02:00:00:00:00:03"), IP: addrs("192.0.2.3")[0],
			Result: noAnswerResult()},
		{Line: 104, MAC: mac("02:00:00:00:01:04"), IP: addrs("10.1.2.3")[0]},
	}
	sum := BatchCounts{Pairs: 4, Checked: 3, ElapsedMS: 1500,
		Verdicts: map[string]int{string(probe.Valid): 1,
			string(probe.Disputed): 1, string(probe.NoAnswer): 1}}

	return rows, sum
}

func TestWriteBatchTable(t *testing.T) {
	rows, sum := batchRows()
	tests := []struct {
		name  string
		color bool
	}{
		{"plain", false},
		{"colour", true},
	}
	want := strings.Join([]string{
		"LINE  MAC                IP           VERDICT      SERVERS",
		"2     02:00:00:00:00:02  192.0.2.2    valid        192.0.2.1 ACK",
		"3     02:00:00:00:00:03  192.0.2.3    no-answer    ",
		"12    02:00:00:00:00:0c  192.0.2.112  disputed     " +
			"192.0.2.2 NAK, 192.0.2.1 ACK",
		"104   02:00:00:00:01:04  10.1.2.3     not checked  ",
		"",
		"3 of 4 pairs checked in 1.5s: 1 valid, 1 no-answer, 1 disputed",
		"",
	}, "\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteBatchTable(&buf, rows, sum,
				ReportOptions{Color: tt.color})
			got := []any{err, ansi.MatchString(buf.String()),
				ansi.ReplaceAllString(buf.String(), "")}
			if diff := cmp.Diff([]any{nil, tt.color, want}, got); diff != "" {
				t.Errorf("error, coloured, text without colour "+
					"(-want +got):\n%s", diff)
			}
		})
	}
}
