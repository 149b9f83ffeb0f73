package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// CheckInterface refuses an interface the probe cannot send on: one that
// is down, one without a 6-byte Ethernet address, or one without carrier.
func CheckInterface(ifi *net.Interface) error {
	if ifi.Flags&net.FlagUp == 0 {
		return fmt.Errorf("%s: %w", ifi.Name, ErrInterfaceDown)
	}
	if len(ifi.HardwareAddr) != 6 || isZero(ifi.HardwareAddr) ||
		ifi.Flags&net.FlagLoopback != 0 {
		return fmt.Errorf("%s: %w", ifi.Name, ErrNoEthernet)
	}
	if ifi.Flags&net.FlagRunning == 0 {
		return fmt.Errorf("%s: %w", ifi.Name, ErrNoCarrier)
	}

	return nil
}

// ErrNoAddress is returned by PrimaryIPv4 for an interface without an
// IPv4 address.
var ErrNoAddress = errors.New("interface has no IPv4 address")

// PrimaryIPv4 returns the first IPv4 unicast address of ifi.
func PrimaryIPv4(ifi *net.Interface) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("list addresses of %s: %w", ifi.Name, err)
	}
	for _, a := range addrs {
		pfx, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		if ip := pfx.Addr(); ip.Is4() && ValidateIP(ip) == nil {
			return ip, nil
		}
	}

	return netip.Addr{}, fmt.Errorf("%s: %w", ifi.Name, ErrNoAddress)
}
