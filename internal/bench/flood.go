//go:build linux

package main

import (
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// floodMain sends frames on an interface of the namespace it runs in:
// "broadcast" is unrelated UDP broadcast (port 9), "dhcp" near-miss DHCP
// replies to port 68 (random xid and client; with -xid, every other one
// carries that xid and a random client), "junk" a mix of those, frames
// whose UDP length runs past the datagram, and random bytes. It stops
// after -count frames.
func floodMain(args []string) error {
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	iface := fs.String("i", "", "interface")
	kind := fs.String("kind", "broadcast", "broadcast, dhcp or junk")
	rate := fs.Int("rate", 20000, "frames per second; 0: as fast as possible")
	count := fs.Int("count", 20000, "frames to send")
	xidText := fs.String("xid", "", "a probe's xid (0x-hex) for near misses")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var xid []byte
	if *xidText != "" {
		var x uint32
		if _, err := fmt.Sscanf(*xidText, "0x%x", &x); err != nil {
			return fmt.Errorf("-xid %q: %w", *xidText, err)
		}
		xid = binary.BigEndian.AppendUint32(nil, x)
	}

	ifi, err := net.InterfaceByName(*iface)
	if err != nil {
		return err
	}
	conn, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil)
	if err != nil {
		return err
	}
	defer conn.Close()

	bcast := &packet.Addr{HardwareAddr: net.HardwareAddr{0xff, 0xff, 0xff,
		0xff, 0xff, 0xff}}
	start := time.Now()
	for i := 0; i < *count; i++ {
		frame := makeFrame(*kind, i, ifi.HardwareAddr, xid)
		if _, err := conn.WriteTo(frame, bcast); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		if *rate > 0 {
			due := start.Add(time.Duration(i+1) * time.Second /
				time.Duration(*rate))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
	}

	return nil
}

// makeFrame builds the i-th frame of a flood; xid, when set, is the
// probe's own, for near misses that only the client address gives away.
func makeFrame(kind string, i int, src net.HardwareAddr, xid []byte) []byte {
	if kind == "junk" {
		kind = []string{"dhcp", "broadcast", "short", "random"}[i%4]
	}

	switch kind {
	case "short":
		// The IPv4 header checks out (a bridge passes it), but the UDP
		// length claims more than the datagram holds.
		f := udpFrame(src, 67, 68, randomBytes(20))
		binary.BigEndian.PutUint16(f[14+20+4:], 8+300)

		return f
	case "random":
		return randomBytes(60 + i%200)
	case "dhcp":
		p := make([]byte, 300)
		p[0], p[1], p[2] = 2, 1, 6 // BOOTREPLY, Ethernet
		copy(p[4:8], randomBytes(4))
		if xid != nil && (i/4)%2 == 0 {
			copy(p[4:8], xid)
		}
		copy(p[28:34], randomBytes(6))
		copy(p[236:240], []byte{99, 130, 83, 99})
		copy(p[240:], []byte{53, 1, 5, 255})

		return udpFrame(src, 67, 68, p)
	default:
		return udpFrame(src, 9, 9, randomBytes(64))
	}
}

// udpFrame wraps payload in Ethernet broadcast, IPv4 and UDP headers
// (no UDP checksum: 0 is allowed, and the probe does not check it).
func udpFrame(src net.HardwareAddr, sport, dport uint16, payload []byte) []byte {
	f := make([]byte, 14+20+8+len(payload))
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	copy(ip[12:16], []byte{198, 51, 100, 9})
	copy(ip[16:20], []byte{255, 255, 255, 255})
	// A bridge with netfilter drops IPv4 headers that do not check out.
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(f[42:], payload)

	return f
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)

	return b
}

// ipChecksum is the IPv4 header checksum (RFC 791) of a header whose
// checksum field is zero.
func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}

	return ^uint16(sum)
}
