package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if err := writeManPages(dir); err != nil {
		t.Fatal(err)
	}
	for page, title := range map[string]string{
		"leaseprobe.1":       "LEASEPROBE",
		"leaseprobe-check.1": "LEASEPROBE-CHECK",
		"leaseprobe-arp.1":   "LEASEPROBE-ARP",
		"leaseprobe-read.1":  "LEASEPROBE-READ",
		"leaseprobe-batch.1": "LEASEPROBE-BATCH",
	} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("missing %s: %v", page, err)
			continue
		}
		if !bytes.Contains(b, []byte(`.TH "`+title+`"`)) {
			t.Errorf("%s lacks the title %s:\n%.200s", page, title, b)
		}
	}
}
