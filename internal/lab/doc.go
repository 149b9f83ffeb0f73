// Package lab builds small throw-away networks for testing leaseprobe
// against real DHCP servers.
//
// A Lab is a bridge in a network namespace of its own; every host added to
// it is one more namespace, joined to the bridge by a veth pair. More
// segments (more bridges) can be added, and a host can have a link on
// each: a relay joins a client segment to a server segment. Servers run
// dnsmasq, Kea (kea-dhcp4) or ISC dhcpd inside their namespace, with
// leases seeded in each one's own format, and ISC dhcrelay relays between
// segments; several programs can share one segment. The client namespace
// holds the probe interface, which has a fixed MAC address and no IPv4
// address, as a real probe interface would. Addresses and routes come
// from the documentation ranges of RFC 5737 only, so nothing in a lab can
// reach or answer a real network.
//
// Nothing here ever configures, sends on or captures on an interface of the
// namespace the caller runs in: every link command names a lab namespace,
// and an interface name that exists in the caller's namespace is refused.
//
// Every process a lab starts is stopped by its PID, and every namespace it
// made is deleted, by Close. Tests get a lab through ForTest, which skips
// (or fails under CI) when a tool is missing and closes the lab in
// t.Cleanup; programs call New and Close themselves.
//
// Running a lab needs root, iproute2, dnsmasq and tcpdump; Kea, ISC dhcpd
// and dhcrelay are needed by the tests that ask for them (Require).
package lab
