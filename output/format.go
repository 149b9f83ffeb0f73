package output

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/leaseprobe/leaseprobe/probe"
)

// jsonTime is the layout of every timestamp in the JSON document: RFC 3339
// in UTC with exactly three fractional digits.
const jsonTime = "2006-01-02T15:04:05.000Z07:00"

// optionServerID is the code of the server identifier option (RFC 2132
// §9.7).
const optionServerID = 54

// millis rounds d to the nearest whole millisecond.
func millis(d time.Duration) int64 {
	return int64(d.Round(time.Millisecond) / time.Millisecond)
}

// known reports whether a is an address worth showing: valid and not
// 0.0.0.0.
func known(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified()
}

// addrStrings renders addresses as strings; never nil.
func addrStrings(addrs []netip.Addr) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}

	return out
}

// isBroadcastMAC reports whether mac is the Ethernet broadcast address.
func isBroadcastMAC(mac net.HardwareAddr) bool {
	return bytes.Equal(mac, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
}

// formatXID renders a transaction id as "0x" and eight hex digits.
func formatXID(xid uint32) string {
	return fmt.Sprintf("0x%08x", xid)
}

// serverIDRaw returns the bytes behind a malformed or duplicated option 54:
// Reply.ServerIDRaw when the probe kept it, else every copy of option 54
// joined in order; never nil for those states. For the others it returns
// nil.
func serverIDRaw(r *probe.Reply) []byte {
	switch r.ServerIDState {
	case probe.ServerIDMalformed, probe.ServerIDDuplicated:
	default:
		return nil
	}
	if r.ServerIDRaw != nil {
		return r.ServerIDRaw
	}
	if b := optionBytes(r.Options)[optionServerID]; b != nil {
		return b
	}

	return []byte{}
}

// optionBytes joins the data of each option code, copies in arrival order.
func optionBytes(opts []probe.Option) map[uint8][]byte {
	out := make(map[uint8][]byte, len(opts))
	for _, o := range opts {
		out[o.Code] = append(out[o.Code], o.Data...)
	}

	return out
}

// ackersAndNakers lists the servers that sent at least one ACK and those
// that sent at least one NAK, each in order of first arrival.
func ackersAndNakers(servers []probe.Server) (ackers, nakers []string) {
	for _, s := range servers {
		if hasType(s.Replies, probe.ACK) {
			ackers = append(ackers, s.Key)
		}
		if hasType(s.Replies, probe.NAK) {
			nakers = append(nakers, s.Key)
		}
	}

	return ackers, nakers
}

func hasType(replies []*probe.Reply, t probe.MessageType) bool {
	for _, r := range replies {
		if r.Type == t {
			return true
		}
	}

	return false
}

// shortDuration renders d like time.Duration.String but drops zero
// trailing units: "12h" rather than "12h0m0s".
func shortDuration(d time.Duration) string {
	if d == probe.InfiniteLease {
		return "infinite"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}

	return s
}
