//go:build !linux

package probe

import (
	"net"
	"time"
)

// PacketTransport is the raw-socket Transport; on this system it cannot be
// opened.
type PacketTransport struct{}

// ListenOptions tunes the socket Listen opens.
type ListenOptions struct {
	// Promiscuous receives frames sent to other unicast addresses.
	Promiscuous bool
	// ARP also passes ARP frames.
	ARP bool
}

// Listen reports ErrNotSupported: raw sockets are implemented for Linux
// only (TODO(#5)).
func Listen(_ *net.Interface, _ ListenOptions) (*PacketTransport, error) {
	return nil, ErrNotSupported
}

// WriteFrame reports ErrNotSupported.
func (*PacketTransport) WriteFrame([]byte) error { return ErrNotSupported }

// ReadFrame reports ErrNotSupported.
func (*PacketTransport) ReadFrame([]byte) (int, error) {
	return 0, ErrNotSupported
}

// SetReadDeadline reports ErrNotSupported.
func (*PacketTransport) SetReadDeadline(time.Time) error {
	return ErrNotSupported
}

// Close does nothing.
func (*PacketTransport) Close() error { return nil }
