package leasefile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary input to every format, and to detection,
// and checks that what comes back keeps Parse's promises.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for i := range len(Formats()) + 1 {
			f.Add(data, uint8(i))
		}
	}

	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		formats := append([]Format{""}, Formats()...)
		format := formats[int(which)%len(formats)]
		res, err := Parse(bytes.NewReader(data), format, testNow)
		if err != nil {
			return
		}

		if format != "" && res.Format != format {
			t.Errorf("Format = %q, want %q", res.Format, format)
		}
		last := 0
		for _, e := range res.Entries {
			switch {
			case e.Line < last:
				t.Errorf("entry on line %d after line %d", e.Line, last)
			case len(e.MAC) != 6 || e.MAC[0]&1 != 0:
				t.Errorf("line %d: MAC %v", e.Line, e.MAC)
			case !e.IP.Is4() || e.IP.IsMulticast() || e.IP.IsUnspecified():
				t.Errorf("line %d: IP %v", e.Line, e.IP)
			case e.ClientID != nil &&
				(len(e.ClientID) < 2 || len(e.ClientID) > 255):
				t.Errorf("line %d: client ID %x", e.Line, e.ClientID)
			}
			last = e.Line
		}
		last = 0
		for _, b := range res.Bad {
			if b.Line < 1 || b.Line < last || b.Err == nil ||
				len(b.Text) > maxText+8 {
				t.Errorf("bad row %+v after line %d", b, last)
			}
			last = b.Line
		}
		for reason, n := range res.Skipped {
			if n <= 0 {
				t.Errorf("Skipped[%q] = %d", reason, n)
			}
		}
	})
}
