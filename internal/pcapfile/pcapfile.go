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

// maxRecord is the longest frame tcpdump and Wireshark ever capture
// (their MAXIMUM_SNAPLEN). A record claiming more that the file cannot
// supply is taken for corruption, not for a capture cut off while it
// was written. maxBlock is the same bound for a pcapng block, with room
// for the block's own headers and options.
const (
	maxRecord = 262144
	maxBlock  = maxRecord + 1<<16
)

// ErrCorrupt is wrapped by the errors Read returns for a record or block
// whose header cannot be right.
var ErrCorrupt = errors.New("corrupt capture")

// packetReader is what both pcapgo readers offer.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Stats counts what Read could not take whole from a capture.
type Stats struct {
	// Unsupported counts frames left out because their link type cannot
	// be turned into Ethernet, or because they are too short for their
	// link-layer header.
	Unsupported int
	// Truncated counts frames cut short by the capture's snap length:
	// fewer bytes captured than were on the wire. They are kept as cut.
	Truncated int
	// CutOff is set when the file ends inside its last record, as a
	// capture does when tcpdump is killed while writing. That record is
	// left out.
	CutOff bool
}

// Warnings says in a sentence each what s counted, for the report.
func (s Stats) Warnings() []string {
	var out []string
	if s.Truncated > 0 {
		out = append(out, fmt.Sprintf("%s cut short by the capture's "+
			"snap length (tcpdump -s); capture with -s 0",
			framesWere(s.Truncated)))
	}
	if s.Unsupported > 0 {
		out = append(out, fmt.Sprintf("%s left out: their link type is "+
			"not one leaseprobe reads, or they are too short for its header",
			framesWere(s.Unsupported)))
	}
	if s.CutOff {
		out = append(out, "the capture ends inside its last frame, as "+
			"when tcpdump is stopped while writing; that frame was left out")
	}

	return out
}

func framesWere(n int) string {
	if n == 1 {
		return "1 frame was"
	}

	return fmt.Sprintf("%d frames were", n)
}

// Read reads every frame of a pcap or pcapng capture and returns them as
// Ethernet frames, with counts of what it could not take whole. A file
// that ends inside its last record is read up to that record; a record
// or block whose header claims more than any capture holds stops the
// reading with an error wrapping ErrCorrupt.
func Read(r io.Reader) (frames []probe.Frame, st Stats, err error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if err != nil {
		return nil, st, fmt.Errorf("read capture: too short for a pcap file")
	}

	var pr packetReader
	var ng *ngTracker
	fixed := layers.LinkType(0)
	if binary.LittleEndian.Uint32(head) == pcapngMagic {
		ng = &ngTracker{r: br}
		ngr, err := pcapgo.NewNgReader(ng, pcapgo.NgReaderOptions{
			WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, st, fmt.Errorf("read pcapng: %w", err)
		}
		pr = ngr
	} else {
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, st, fmt.Errorf("read capture: not a pcap or pcapng "+
				"file: %w", err)
		}
		pr, fixed = p, p.LinkType()
	}

	for {
		data, ci, err := pr.ReadPacketData()
		n := len(frames) + st.Unsupported + 1
		if errors.Is(err, io.EOF) {
			// pcapgo reports a record whose header is whole but whose
			// data is missing altogether as a plain EOF, with the
			// header's lengths: a cut-off file all the same.
			st.CutOff = ng == nil && ci.CaptureLength > 0

			return frames, st, nil
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			if ng != nil && ng.length > maxBlock {
				return frames, st, fmt.Errorf("read capture: %w: a "+
					"pcapng block claims %d bytes, more than the file "+
					"holds", ErrCorrupt, ng.length)
			}
			if ng == nil && ci.CaptureLength > maxRecord {
				return frames, st, fmt.Errorf("read capture frame %d: "+
					"%w: its header claims %d bytes, more than the file "+
					"holds", n, ErrCorrupt,
					ci.CaptureLength)
			}
			// A capture cut off mid-frame (tcpdump killed): keep what
			// was whole.
			st.CutOff = true

			return frames, st, nil
		}
		if err != nil {
			return frames, st, fmt.Errorf("read capture frame %d: %w", n, err)
		}

		if ci.CaptureLength < ci.Length {
			st.Truncated++
		}
		lt := fixed
		if len(ci.AncillaryData) > 0 {
			lt, _ = ci.AncillaryData[0].(layers.LinkType)
		}
		frame, dst, ok := toEthernet(lt, data)
		if !ok {
			st.Unsupported++
			continue
		}
		frames = append(frames, probe.Frame{Time: ci.Timestamp, Data: frame,
			NoDestination: !dst})
	}
}

// ngTracker follows the block structure of a pcapng stream as pcapgo
// reads it through it, so that when the stream ends inside a block the
// length that block's header claimed is known.
type ngTracker struct {
	r io.Reader
	// hdr collects the first 12 bytes of a block: type, length and,
	// for a section header, the byte-order magic.
	hdr  [12]byte
	nhdr int
	// left counts the bytes of the current block after hdr still to come.
	left      uint64
	bigEndian bool
	// length is what the last block header claimed.
	length uint32
}

func (t *ngTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for b := p[:n]; len(b) > 0; {
		if t.left > 0 {
			k := min(t.left, uint64(len(b)))
			t.left -= k
			b = b[k:]

			continue
		}
		k := copy(t.hdr[t.nhdr:], b)
		t.nhdr += k
		b = b[k:]
		if t.nhdr < len(t.hdr) {
			break
		}
		t.nhdr = 0
		if binary.LittleEndian.Uint32(t.hdr[0:4]) == pcapngMagic {
			t.bigEndian = binary.BigEndian.Uint32(t.hdr[8:12]) == 0x1a2b3c4d
		}
		if t.bigEndian {
			t.length = binary.BigEndian.Uint32(t.hdr[4:8])
		} else {
			t.length = binary.LittleEndian.Uint32(t.hdr[4:8])
		}
		if t.length > uint32(len(t.hdr)) {
			t.left = uint64(t.length) - uint64(len(t.hdr))
		}
	}

	return n, err
}

// Linux "cooked" capture header fields (SLL and SLL2).
const (
	sllHeaderLen  = 16
	sll2HeaderLen = 20
	sllBroadcast  = 1
	// LINKTYPE_RAW as some systems' libpcap wrote it before 101.
	linkTypeRawOld  = layers.LinkType(12)
	linkTypeRawOld2 = layers.LinkType(14)
)

// ToEthernet rewrites a frame of link type lt as an Ethernet frame.
// Ethernet frames pass unchanged; Linux cooked captures (tcpdump -i any)
// keep their source MAC and EtherType; raw IPv4 gets zero MACs. A
// destination the capture did not record is left zero: only a cooked
// frame received as a broadcast gets ff:ff:ff:ff:ff:ff. It reports false
// for a link type it does not know or a frame too short for its header.
func ToEthernet(lt layers.LinkType, data []byte) ([]byte, bool) {
	frame, _, ok := toEthernet(lt, data)

	return frame, ok
}

// toEthernet is ToEthernet, also reporting whether the destination MAC
// of the frame is the one it was sent to rather than a placeholder.
func toEthernet(lt layers.LinkType, data []byte) (frame []byte, dst, ok bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return data, true, true
	case layers.LinkTypeLinuxSLL:
		if len(data) < sllHeaderLen {
			return nil, false, false
		}
		pktType := binary.BigEndian.Uint16(data[0:2])

		return cooked(pktType, binary.BigEndian.Uint16(data[4:6]),
				data[6:14], binary.BigEndian.Uint16(data[14:16]),
				data[sllHeaderLen:]),
			pktType == sllBroadcast, true
	case layers.LinkTypeLinuxSLL2:
		if len(data) < sll2HeaderLen {
			return nil, false, false
		}
		pktType := uint16(data[10])

		return cooked(pktType, uint16(data[11]), data[12:20],
				binary.BigEndian.Uint16(data[0:2]), data[sll2HeaderLen:]),
			pktType == sllBroadcast, true
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, linkTypeRawOld, linkTypeRawOld2:
		if len(data) == 0 || data[0]>>4 != 4 {
			return nil, false, false
		}

		return cooked(0, 0, nil, 0x0800, data), false, true
	default:
		return nil, false, false
	}
}

// cooked builds an Ethernet header from what a cooked capture kept: the
// packet type, the sender's address and the protocol. Only a broadcast
// says what the destination was; any other is left zero.
func cooked(pktType, addrLen uint16, addr []byte, proto uint16, payload []byte) []byte {
	frame := make([]byte, 14+len(payload))
	if pktType == sllBroadcast {
		copy(frame[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}
	if addrLen == 6 && len(addr) >= 6 {
		copy(frame[6:12], addr[:6])
	}
	binary.BigEndian.PutUint16(frame[12:14], proto)
	copy(frame[14:], payload)

	return frame
}
