# leaseprobe: build, test against real DHCP servers in network namespaces,
# and a demo. The lab tests and the demo need root; `make deps` installs
# what they use (Debian/Ubuntu).

# sudo may reset PATH and drop Go from it.
GO := $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export PATH := $(dir $(GO)):$(PATH)

# Stops services from starting during apt-get install (exit 101 is "action
# not allowed" to invoke-rc.d); removed again afterwards unless it was
# there before.
define apt_install
	@set -e; \
	guard=/usr/sbin/policy-rc.d; ours=0; \
	if [ ! -e $$guard ]; then \
		printf '#!/bin/sh\nexit 101\n' > $$guard; chmod 755 $$guard; ours=1; \
	fi; \
	trap '[ $$ours = 0 ] || rm -f $$guard' EXIT; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update; \
	apt-get install -y --no-install-recommends $(1)
endef

# $(1): the target, $(2): what it needs root for.
define need_root
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make $(1) needs root ($(2)); run: sudo make $(1)" >&2; \
		exit 1; \
	fi
endef

.PHONY: build test demo deps clean completions release-check snapshot

# Stamp the version, commit and date from git into leaseprobe version.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null || echo none)
DATE    := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKG     := github.com/leaseprobe/leaseprobe/internal/cli
LDFLAGS := -X $(PKG).version=$(VERSION) -X $(PKG).commit=$(COMMIT) -X $(PKG).date=$(DATE)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/leaseprobe ./cmd/leaseprobe

test:
	$(call need_root,test,the lab tests build network namespaces)
	@for tool in $(LAB_TOOLS); do \
		if ! command -v $$tool >/dev/null && [ ! -x /usr/sbin/$$tool ]; then \
			$(MAKE) --no-print-directory install-lab-tools; break; \
		fi; \
	done
	$(GO) vet ./...
	$(GO) run ./internal/bench -smoke
	$(GO) test -count=1 -timeout 15m ./...
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime 20s ./probe
	$(GO) test -run '^$$' -fuzz '^FuzzARPFrame$$' -fuzztime 10s ./probe
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime 10s ./internal/pcapfile
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./internal/leasefile

# Rewrites the committed completion scripts from the command tree.
completions:
	$(GO) run ./internal/gendocs -completions completions

# goreleaser v2.17.0 installs with
#   go install github.com/goreleaser/goreleaser/v2@v2.17.0
# into $(go env GOPATH)/bin, which need not be on PATH.
GORELEASER := $(shell command -v goreleaser 2>/dev/null || \
	echo $$($(GO) env GOPATH)/bin/goreleaser)

# Checks the release configuration.
release-check:
	$(GORELEASER) check

# Builds every archive and package into dist/ without publishing.
snapshot:
	$(GORELEASER) release --snapshot --clean

demo:
	$(call need_root,demo,it builds network namespaces)
	@if ! command -v dnsmasq >/dev/null && [ ! -x /usr/sbin/dnsmasq ]; then \
		$(MAKE) --no-print-directory install-dnsmasq; \
	fi
	$(GO) run ./internal/demo

# What the lab tests run: the servers (dnsmasq, Kea, ISC dhcpd), ISC's
# relay, tcpdump and ip. The servers' install scripts would start them in
# the host's namespace; apt_install's policy-rc.d guard stops that.
LAB_PACKAGES := dnsmasq-base kea-dhcp4-server isc-dhcp-server isc-dhcp-relay \
	tcpdump iproute2 dhcping
LAB_TOOLS := dnsmasq kea-dhcp4 dhcpd dhcrelay tcpdump ip dhcping

.PHONY: install-dnsmasq install-lab-tools
install-dnsmasq:
	$(call need_root,install-dnsmasq,apt-get install)
	$(call apt_install,dnsmasq-base)

install-lab-tools:
	$(call need_root,install-lab-tools,apt-get install)
	$(call apt_install,$(LAB_PACKAGES))

deps:
	$(call need_root,deps,apt-get install)
	$(call apt_install,$(LAB_PACKAGES))
	$(GO) mod download

clean:
	rm -rf bin dist manpages
