package probe

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Transport moves whole Ethernet frames on one interface. ReadFrame blocks
// until a frame arrives or the read deadline passes, and then returns an
// error that matches os.ErrDeadlineExceeded.
type Transport interface {
	WriteFrame(b []byte) error
	ReadFrame(b []byte) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// ErrNotSupported is returned where the operating system has no support
// for the probe's raw sockets yet.
var ErrNotSupported = fmt.Errorf("not supported on %s yet", runtime.GOOS)

// ErrInterfaceDown is returned for an interface that is administratively
// down.
var ErrInterfaceDown = errors.New("interface is down")

// ErrNoCarrier is returned for an interface that is up but has no link
// (a cable unplugged, a Wi-Fi not associated, a veth whose peer is down):
// the kernel would drop every frame sent on it.
var ErrNoCarrier = errors.New("interface has no carrier")

// ErrNoEthernet is returned for an interface without a 6-byte Ethernet
// address (loopback, tun, wireguard, ppp): frames built for it would go
// out as garbage.
var ErrNoEthernet = errors.New("interface has no Ethernet address")

// DropCounter is implemented by transports that can tell how many frames
// the kernel dropped before they were read.
type DropCounter interface {
	Drops() (int, error)
}

// kernelDrops asks t for its drop count; 0 when it cannot tell.
func kernelDrops(t Transport) int {
	if dc, ok := t.(DropCounter); ok {
		if n, err := dc.Drops(); err == nil {
			return n
		}
	}

	return 0
}

// dropWarning is the warning for n dropped frames.
func dropWarning(n int) string {
	return fmt.Sprintf("the kernel dropped %d frames before leaseprobe "+
		"could read them: replies may be missing", n)
}
