//go:build linux

package probe

import (
	"fmt"
	"net"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// PacketTransport is a Transport over one raw AF_PACKET socket. A kernel
// filter passes only DHCP client-port traffic and, if asked, ARP, so the
// probe never copies unrelated traffic.
type PacketTransport struct {
	conn  *packet.Conn
	promo bool
	// drops sums the kernel's drop counts, which reset on every read.
	drops int
}

// ListenOptions tunes the socket Listen opens.
type ListenOptions struct {
	// Promiscuous receives frames sent to other unicast addresses, such as
	// replies a server sends to chaddr when the broadcast flag is clear.
	// It ends when the socket closes.
	Promiscuous bool
	// ARP also passes ARP frames.
	ARP bool
}

// Listen opens a raw packet socket on ifi. It needs CAP_NET_RAW; without
// it the returned error matches os.ErrPermission.
func Listen(ifi *net.Interface, opts ListenOptions) (*PacketTransport, error) {
	if err := CheckInterface(ifi); err != nil {
		return nil, err
	}

	prog, err := bpf.Assemble(kernelFilter(opts.ARP))
	if err != nil {
		return nil, fmt.Errorf("assemble socket filter: %w", err)
	}
	conn, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL,
		&packet.Config{Filter: prog})
	if err != nil {
		return nil, fmt.Errorf("open packet socket on %s: %w", ifi.Name, err)
	}

	t := &PacketTransport{conn: conn}
	if opts.Promiscuous {
		if err := conn.SetPromiscuous(true); err != nil {
			_ = conn.Close()

			return nil, fmt.Errorf("set %s promiscuous: %w", ifi.Name, err)
		}
		t.promo = true
	}

	return t, nil
}

// WriteFrame sends one whole Ethernet frame.
func (t *PacketTransport) WriteFrame(b []byte) error {
	addr := &packet.Addr{HardwareAddr: net.HardwareAddr(b[0:6])}
	if _, err := t.conn.WriteTo(b, addr); err != nil {
		return err
	}

	return nil
}

// ReadFrame reads one whole Ethernet frame into b.
func (t *PacketTransport) ReadFrame(b []byte) (int, error) {
	n, _, err := t.conn.ReadFrom(b)

	return n, err
}

// SetReadDeadline sets when a blocked ReadFrame gives up.
func (t *PacketTransport) SetReadDeadline(d time.Time) error {
	return t.conn.SetReadDeadline(d)
}

// Close closes the socket, which also ends promiscuous mode.
func (t *PacketTransport) Close() error {
	return t.conn.Close()
}

// Drops returns how many frames the kernel dropped for this socket since
// it was opened (its receive queue was full), read through
// PACKET_STATISTICS.
func (t *PacketTransport) Drops() (int, error) {
	st, err := t.conn.Stats()
	if err != nil {
		return 0, err
	}
	t.drops += int(st.Drops)

	return t.drops, nil
}
