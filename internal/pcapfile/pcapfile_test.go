package pcapfile

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/leaseprobe/leaseprobe/probe"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 123456789, time.UTC)

// ethFrame is a small Ethernet frame carrying an IPv4 header stub.
func ethFrame(dst, src byte) []byte {
	f := make([]byte, 14+20)
	for i := 0; i < 6; i++ {
		f[i], f[6+i] = dst, src
	}
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	f[14] = 0x45

	return f
}

func TestWriteThenRead(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []probe.Frame{
		{Time: t0, Data: ethFrame(0xff, 2)},
		{Time: t0.Add(1500 * time.Microsecond), Data: ethFrame(2, 3)},
	}
	for _, f := range want {
		w.Write(f.Data, f.Time)
	}
	if w.Err() != nil {
		t.Fatal(w.Err())
	}

	got, skipped, err := Read(&buf)
	if err != nil || skipped != 0 {
		t.Fatalf("Read: %v, %d skipped", err, skipped)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
}

func TestReadPcapngWithMixedLinkTypes(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{
		Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535},
		pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sllIf, err := w.AddInterface(pcapgo.NgInterface{Name: "any",
		LinkType: layers.LinkTypeLinuxSLL, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}

	eth := ethFrame(0xff, 2)
	// tcpdump -i any: packet type broadcast, ARPHRD_ETHER, 6-byte address.
	sll := make([]byte, 16)
	binary.BigEndian.PutUint16(sll[0:], 1)
	binary.BigEndian.PutUint16(sll[2:], 1)
	binary.BigEndian.PutUint16(sll[4:], 6)
	copy(sll[6:], []byte{2, 0, 0, 0, 0, 0xfe})
	binary.BigEndian.PutUint16(sll[14:], 0x0800)
	sll = append(sll, eth[14:]...)

	for _, p := range []struct {
		iface int
		data  []byte
	}{{0, eth}, {sllIf, sll}, {sllIf, sll[:10]}} {
		ci := gopacket.CaptureInfo{Timestamp: t0, CaptureLength: len(p.data),
			Length: len(p.data), InterfaceIndex: p.iface}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	got, skipped, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 1 || len(got) != 2 {
		t.Fatalf("got %d frames, %d skipped; want 2 and 1 (a cut SLL header)",
			len(got), skipped)
	}
	wantSLL := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		2, 0, 0, 0, 0, 0xfe, 8, 0}, eth[14:]...)
	if diff := cmp.Diff(wantSLL, got[1].Data); diff != "" {
		t.Errorf("SLL frame as Ethernet (-want +got):\n%s", diff)
	}
}

func TestToEthernet(t *testing.T) {
	ip := ethFrame(0, 0)[14:]
	sll2 := make([]byte, 20)
	binary.BigEndian.PutUint16(sll2[0:], 0x0806)
	sll2[10], sll2[11] = 0, 6 // to us, 6-byte address
	copy(sll2[12:], []byte{2, 0, 0, 0, 0, 0xaa})

	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		want []byte
		ok   bool
	}{
		{"raw ipv4", layers.LinkTypeRaw, ip,
			append(make([]byte, 12), append([]byte{8, 0}, ip...)...), true},
		{"raw ipv6 refused", layers.LinkTypeRaw, []byte{0x60, 0, 0}, nil, false},
		{"sll2 arp", layers.LinkTypeLinuxSLL2, sll2,
			[]byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0xaa, 8, 6}, true},
		{"unknown link type", layers.LinkTypeIEEE802_11, ip, nil, false},
		{"empty raw", layers.LinkTypeRaw, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ToEthernet(tt.lt, tt.data)
			if ok != tt.ok || !bytes.Equal(got, tt.want) {
				t.Errorf("got %x, %v; want %x, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestReadRejectsOtherFiles(t *testing.T) {
	for _, in := range []string{"", "abc", "hello, this is not a capture"} {
		if _, _, err := Read(bytes.NewReader([]byte(in))); err == nil {
			t.Errorf("Read(%q) gave no error", in)
		}
	}
}

func TestReadKeepsWholeFramesOfACutFile(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(ethFrame(0xff, 2), t0)
	w.Write(ethFrame(0xff, 3), t0)
	cut := buf.Bytes()[:buf.Len()-5]

	got, _, err := Read(bytes.NewReader(cut))
	if err != nil || len(got) != 1 {
		t.Errorf("got %d frames, %v; want the 1 whole frame", len(got), err)
	}
}

// FuzzRead feeds arbitrary bytes to the capture reader: it must never
// panic, and every frame it returns is Ethernet-framed.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	w.Write(ethFrame(0xff, 2), t0)
	f.Add(buf.Bytes())
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		frames, _, _ := Read(bytes.NewReader(data))
		for _, fr := range frames {
			if fr.Data == nil {
				t.Error("nil frame")
			}
		}
	})
}
