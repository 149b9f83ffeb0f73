package output

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leaseprobe/leaseprobe/probe"
)

func arpReport() *probe.ARPReport {
	return &probe.ARPReport{
		Interface:    "eth0",
		InterfaceMAC: mac("00:00:5e:00:53:aa"),
		IP:           netip.MustParseAddr("192.0.2.10"),
		ClientMAC:    mac("00:00:5e:00:53:10"),
		Timeout:      3 * time.Second,
		StartedAt:    testStart,
		Elapsed:      3 * time.Second,
		ARP:          arpConflictResult().ARP,
	}
}

func TestARPGolden(t *testing.T) {
	var js, txt bytes.Buffer
	if err := WriteARPJSON(&js, arpReport(), Meta{Version: "1.2.3",
		ExitCode: 5}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "arp-alone.json", js.Bytes())
	if err := WriteARPReport(&txt, arpReport(), ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "arp-alone.txt", txt.Bytes())

	// The arp object of `leaseprobe arp` is the same as in `check`.
	var alone struct {
		ARP json.RawMessage `json:"arp"`
	}
	var check struct {
		ARP json.RawMessage `json:"arp"`
	}
	if err := json.Unmarshal(js.Bytes(), &alone); err != nil {
		t.Fatal(err)
	}
	var cj bytes.Buffer
	if err := WriteJSON(&cj, arpConflictResult(), Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cj.Bytes(), &check); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(check.ARP), string(alone.ARP)); diff != "" {
		t.Errorf("arp objects differ (-check +arp):\n%s", diff)
	}
}
