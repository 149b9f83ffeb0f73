package pcapfile

import (
	"bytes"
	"encoding/binary"
	"strings"
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

	got, st, err := Read(&buf)
	if err != nil || st != (Stats{}) {
		t.Fatalf("Read: %v, %+v", err, st)
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

	got, st, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if skipped := st.Unsupported; skipped != 1 || len(got) != 2 {
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

	got, st, err := Read(bytes.NewReader(cut))
	if err != nil || len(got) != 1 || !st.CutOff {
		t.Errorf("got %d frames, %v, %+v; want the 1 whole frame, cut off",
			len(got), err, st)
	}
}

// pcapHeader is a little-endian pcap file header for Ethernet.
func pcapHeader(snaplen uint32) []byte {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], 1)

	return h
}

// pcapRecord is a pcap record header claiming caplen of origLen bytes,
// followed by data.
func pcapRecord(caplen, origLen uint32, data []byte) []byte {
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], uint32(t0.Unix()))
	binary.LittleEndian.PutUint32(h[8:], caplen)
	binary.LittleEndian.PutUint32(h[12:], origLen)

	return append(h, data...)
}

// pcapngStart is a little-endian section header block and an Ethernet
// interface description block.
func pcapngStart() []byte {
	var b []byte
	le := binary.LittleEndian
	b = le.AppendUint32(b, pcapngMagic)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, 0x1a2b3c4d)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, 0xffffffffffffffff)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, 1) // interface description
	b = le.AppendUint32(b, 20)
	b = le.AppendUint16(b, 1) // Ethernet
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 20)

	return b
}

func TestReadCountsAndRefuses(t *testing.T) {
	frame := ethFrame(0xff, 2)
	whole := pcapRecord(uint32(len(frame)), uint32(len(frame)), frame)
	huge := binary.LittleEndian.AppendUint32(nil, 6) // packet block
	huge = binary.LittleEndian.AppendUint32(huge, 0xfffffff0)
	huge = append(huge, make([]byte, 40)...)

	tests := []struct {
		name    string
		in      []byte
		frames  int
		want    Stats
		wantErr string
	}{
		{"cut by snap length",
			cat(pcapHeader(20), whole, pcapRecord(20, 34, frame[:20])),
			2, Stats{Truncated: 1}, ""},
		{"cut off in the last record",
			cat(pcapHeader(65535), whole, pcapRecord(34, 34, frame[:10])),
			1, Stats{CutOff: true}, ""},
		{"last record header whole, its data missing",
			cat(pcapHeader(65535), whole, pcapRecord(34, 34, nil)),
			1, Stats{CutOff: true}, ""},
		{"record claiming 2 GB",
			cat(pcapHeader(0xffffffff), whole, pcapRecord(1<<31, 1<<31,
				frame)),
			1, Stats{}, "frame 2: corrupt capture: its header claims " +
				"2147483648 bytes"},
		{"record longer than the snap length",
			cat(pcapHeader(65535), pcapRecord(1<<31, 1<<31, frame)),
			0, Stats{}, "capture length exceeds snap length"},
		{"pcapng block of 0xfffffff0 bytes", cat(pcapngStart(), huge),
			0, Stats{}, "corrupt capture: a pcapng block claims " +
				"4294967280 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := Read(bytes.NewReader(tt.in))
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if tt.wantErr == "" && err != nil ||
				!strings.Contains(gotErr, tt.wantErr) {
				t.Errorf("error %q, want one with %q", gotErr, tt.wantErr)
			}
			if diff := cmp.Diff([]any{tt.frames, tt.want},
				[]any{len(got), st}); diff != "" {
				t.Errorf("frames and stats (-want +got):\n%s", diff)
			}
		})
	}
}

func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

func TestStatsWarnings(t *testing.T) {
	tests := []struct {
		st   Stats
		want []string
	}{
		{Stats{}, nil},
		{Stats{Truncated: 2, Unsupported: 1, CutOff: true}, []string{
			"2 frames were cut short by the capture's snap length " +
				"(tcpdump -s); capture with -s 0",
			"1 frame was left out: their link type is not one leaseprobe " +
				"reads, or they are too short for its header",
			"the capture ends inside its last frame, as when tcpdump is " +
				"stopped while writing; that frame was left out"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.st.Warnings()); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tt.st, diff)
		}
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

func TestReadMarksUnrecordedDestinations(t *testing.T) {
	ip := ethFrame(0, 0)[14:]
	sll := func(pktType uint16) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[0:], pktType)
		binary.BigEndian.PutUint16(h[2:], 1)
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], []byte{2, 0, 0, 0, 0, 0xfe})
		binary.BigEndian.PutUint16(h[14:], 0x0800)

		return append(h, ip...)
	}
	tests := []struct {
		name  string
		lt    layers.LinkType
		data  []byte
		noDst bool
		dst   []byte
	}{
		{"ethernet", layers.LinkTypeEthernet, ethFrame(2, 3), false,
			[]byte{2, 2, 2, 2, 2, 2}},
		{"cooked, to us", layers.LinkTypeLinuxSLL, sll(0), true, make([]byte, 6)},
		{"cooked, broadcast", layers.LinkTypeLinuxSLL, sll(1), false,
			[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"cooked, multicast", layers.LinkTypeLinuxSLL, sll(2), true,
			make([]byte, 6)},
		{"cooked, sent by us", layers.LinkTypeLinuxSLL, sll(4), true,
			make([]byte, 6)},
		{"raw ip", layers.LinkTypeRaw, ip, true, make([]byte, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := pcapgo.NewWriter(&buf)
			if err := w.WriteFileHeader(65535, tt.lt); err != nil {
				t.Fatal(err)
			}
			ci := gopacket.CaptureInfo{Timestamp: t0,
				CaptureLength: len(tt.data), Length: len(tt.data)}
			if err := w.WritePacket(ci, tt.data); err != nil {
				t.Fatal(err)
			}
			got, _, err := Read(&buf)
			if err != nil || len(got) != 1 {
				t.Fatalf("got %d frames, %v", len(got), err)
			}
			if diff := cmp.Diff([]any{tt.noDst, tt.dst},
				[]any{got[0].NoDestination, got[0].Data[:6]}); diff != "" {
				t.Errorf("no destination, destination (-want +got):\n%s", diff)
			}
		})
	}
}
