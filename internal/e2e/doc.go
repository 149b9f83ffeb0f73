// Package e2e holds the end-to-end tests of leaseprobe: the real binary,
// run inside a lab (package internal/lab) against real DHCP servers:
// dnsmasq, and in the interoperability tests (interop_test.go) Kea and ISC
// dhcpd too, directly and behind ISC dhcrelay.
//
// The tests read the JSON output into their own types, written from the
// documented schema rather than borrowed from package output, so that a
// renamed or retyped field fails here. They need root, iproute2, dnsmasq
// and tcpdump, and the interoperability tests kea-dhcp4, dhcpd and
// dhcrelay; without them they skip, except under CI=true, where they
// fail.
package e2e
