#!/bin/sh
# Runs after the deb or rpm package installs leaseprobe: grants the one
# capability the probe needs, so it runs without sudo. It never fails the
# installation; where it cannot grant the capability it says what to do.
bin=/usr/bin/leaseprobe

if ! command -v setcap >/dev/null 2>&1; then
	echo "leaseprobe: setcap is not installed, so $bin cannot open raw" \
		"sockets without sudo. Install libcap2-bin (Debian, Ubuntu) or" \
		"libcap (Fedora, RHEL), then run: sudo setcap cap_net_raw+ep $bin" >&2
	exit 0
fi

if setcap cap_net_raw+ep "$bin"; then
	echo "leaseprobe: granted cap_net_raw to $bin; it runs without sudo."
else
	echo "leaseprobe: could not grant cap_net_raw to $bin (does the file" \
		"system support capabilities?). Run leaseprobe with sudo instead." >&2
fi
exit 0
