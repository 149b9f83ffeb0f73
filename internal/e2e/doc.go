// Package e2e holds the end-to-end tests of leaseprobe: the real binary,
// run inside a lab (package internal/lab) against real dnsmasq servers.
//
// The tests read the JSON output into their own types, written from the
// documented schema rather than borrowed from package output, so that a
// renamed or retyped field fails here. They need root, iproute2, dnsmasq
// and tcpdump; without them they skip, except under CI=true, where they
// fail.
package e2e
