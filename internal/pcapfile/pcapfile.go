// Package pcapfile reads and writes packet captures for leaseprobe: pcap
// and pcapng files through gopacket's pcapgo, with every link type a
// tcpdump or Wireshark capture of DHCP commonly has turned into the
// Ethernet frames the probe decodes.
package pcapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/leaseprobe/leaseprobe/probe"
)

// snapLen is the snapshot length written into captures: whole frames.
const snapLen = 262144

// Writer writes Ethernet frames to a pcap file.
type Writer struct {
	w   *pcapgo.Writer
	err error
}

// NewWriter writes a pcap file header for Ethernet frames to w with
// nanosecond timestamps.
func NewWriter(w io.Writer) (*Writer, error) {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(snapLen, layers.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("write pcap header: %w", err)
	}

	return &Writer{w: pw}, nil
}

// Write appends one frame captured at t. After the first error it does
// nothing; Err returns that error.
func (w *Writer) Write(frame []byte, t time.Time) {
	if w.err != nil {
		return
	}

	ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(frame),
		Length: len(frame)}
	if err := w.w.WritePacket(ci, frame); err != nil {
		w.err = fmt.Errorf("write pcap frame: %w", err)
	}
}

// Err returns the first error Write met.
func (w *Writer) Err() error { return w.err }

// Magic numbers at the start of the two file formats.
const (
	pcapngMagic = 0x0a0d0d0a
)

// packetReader is what both pcapgo readers offer.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Read reads every frame of a pcap or pcapng capture and returns them as
// Ethernet frames. Frames of a link type it cannot turn into Ethernet
// are left out and counted in skipped.
func Read(r io.Reader) (frames []probe.Frame, skipped int, err error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if err != nil {
		return nil, 0, fmt.Errorf("read capture: too short for a pcap file")
	}

	var pr packetReader
	fixed := layers.LinkType(0)
	if binary.LittleEndian.Uint32(head) == pcapngMagic {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{
			WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, 0, fmt.Errorf("read pcapng: %w", err)
		}
		pr = ng
	} else {
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, 0, fmt.Errorf("read capture: not a pcap or pcapng "+
				"file: %w", err)
		}
		pr, fixed = p, p.LinkType()
	}

	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames, skipped, nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				// A capture cut off mid-frame (tcpdump killed): keep
				// what was whole.
				return frames, skipped, nil
			}

			return frames, skipped, fmt.Errorf("read capture frame %d: %w",
				len(frames)+skipped+1, err)
		}

		lt := fixed
		if len(ci.AncillaryData) > 0 {
			lt, _ = ci.AncillaryData[0].(layers.LinkType)
		}
		frame, ok := ToEthernet(lt, data)
		if !ok {
			skipped++
			continue
		}
		frames = append(frames, probe.Frame{Time: ci.Timestamp, Data: frame})
	}
}

// Linux "cooked" capture header fields (SLL and SLL2).
const (
	sllHeaderLen  = 16
	sll2HeaderLen = 20
	sllBroadcast  = 1
	sllMulticast  = 2
	// LINKTYPE_RAW as some systems' libpcap wrote it before 101.
	linkTypeRawOld  = layers.LinkType(12)
	linkTypeRawOld2 = layers.LinkType(14)
)

// ToEthernet rewrites a frame of link type lt as an Ethernet frame.
// Ethernet frames pass unchanged; Linux cooked captures (tcpdump -i any)
// keep their source MAC and EtherType; raw IPv4 gets zero MACs. It
// reports false for a link type it does not know or a frame too short
// for its header.
func ToEthernet(lt layers.LinkType, data []byte) ([]byte, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return data, true
	case layers.LinkTypeLinuxSLL:
		if len(data) < sllHeaderLen {
			return nil, false
		}

		return cooked(binary.BigEndian.Uint16(data[0:2]),
			binary.BigEndian.Uint16(data[4:6]), data[6:14],
			binary.BigEndian.Uint16(data[14:16]), data[sllHeaderLen:]), true
	case layers.LinkTypeLinuxSLL2:
		if len(data) < sll2HeaderLen {
			return nil, false
		}

		return cooked(uint16(data[10]), uint16(data[11]), data[12:20],
			binary.BigEndian.Uint16(data[0:2]), data[sll2HeaderLen:]), true
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, linkTypeRawOld, linkTypeRawOld2:
		if len(data) == 0 || data[0]>>4 != 4 {
			return nil, false
		}

		return cooked(0, 0, nil, 0x0800, data), true
	default:
		return nil, false
	}
}

// cooked builds an Ethernet header from what a cooked capture kept: the
// packet type (broadcast or not), the sender's address and the protocol.
func cooked(pktType, addrLen uint16, addr []byte, proto uint16, payload []byte) []byte {
	frame := make([]byte, 14+len(payload))
	if pktType == sllBroadcast || pktType == sllMulticast {
		copy(frame[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}
	if addrLen == 6 && len(addr) >= 6 {
		copy(frame[6:12], addr[:6])
	}
	binary.BigEndian.PutUint16(frame[12:14], proto)
	copy(frame[14:], payload)

	return frame
}
