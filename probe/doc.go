// Package probe sends one DHCPv4 INIT-REBOOT request (RFC 2131 §4.3.2) for
// a client hardware address and IPv4 address, and collects every DHCPACK and
// DHCPNAK that answers it within a timeout, from every server.
//
// The package never logs, prints or exits. It takes a Transport that moves
// whole Ethernet frames, so the probe logic runs without privileges in tests;
// on Linux, Listen opens a raw packet socket with a kernel filter.
//
// The probe only ever sends DHCPREQUEST messages. It never sends
// DHCPDISCOVER, DHCPRELEASE or DHCPDECLINE. A server that answers with an
// ACK may have committed or extended the lease as a result.
package probe
