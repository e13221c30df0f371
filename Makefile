# xmig - Xen dom0 relocation service.  One Makefile for everything.
#
#   make            build build/bin/{xmigd,xmig,simhv}
#   make check      unit tests (cmocka) and integration tests (two daemons)
#   make SAN=1 ...  the same under AddressSanitizer + UBSan
#   make demo       a live migration between two local daemons on the sim
#   make install DESTDIR=... PREFIX=/usr

CC ?= gcc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
PKG_CONFIG ?= pkg-config

CFLAGS ?= -O2 -g
XCFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -pthread -Ilib -Isim -Ixmigd -MMD -MP
LDLIBS_COMMON := -pthread $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
# Mutual TLS for the relocation protocol (lib/tls.c).
LDLIBS_COMMON += $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)
# Xen backend: built when libxen-dev is installed (Xen 4.17..4.20, docs/xen-backend.md).
ifneq ($(wildcard /usr/include/xenguest.h),)
XCFLAGS += -DHAVE_XEN
XEN_LIBS := $(shell $(PKG_CONFIG) --libs xencontrol xenguest xenstore xenevtchn xengnttab xentoollog 2>/dev/null || echo -lxenctrl -lxenguest -lxenstore -lxenevtchn -lxengnttab -lxentoollog)
endif
# Stream compression (issue 5).
LDLIBS_COMMON += -lzstd -llz4 -lm

ifeq ($(SAN),1)
XCFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN := -fsanitize=address,undefined
BUILD := build-san
endif

OBJ := $(BUILD)/obj
BIN := $(BUILD)/bin

# The layers, lowest first (docs/architecture.md; tests/check_layers.sh
# keeps includes pointing down): lib/ (shared with the CLI, pure), sim/ (the
# simulator), then the daemon's xmigd/{hv,store}/, xmigd/engine/,
# xmigd/cluster/ and xmigd/ itself.
LIB_SRCS := $(wildcard lib/*.c)
SIM_SRCS := $(wildcard sim/*.c)
XMIGD_SRCS := $(wildcard xmigd/*.c xmigd/*/*.c)
XMIG_SRCS := $(wildcard xmig/*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
SIM_OBJS := $(SIM_SRCS:%.c=$(OBJ)/%.o)
XMIGD_OBJS := $(XMIGD_SRCS:%.c=$(OBJ)/%.o)
XMIG_OBJS := $(XMIG_SRCS:%.c=$(OBJ)/%.o)
SIMHV_OBJS := $(OBJ)/tools/simhv/main.o

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Daemon modules that unit tests may link (everything but main).
XMIGD_LIB_OBJS := $(filter-out $(OBJ)/xmigd/main.o,$(XMIGD_OBJS))

all: $(BIN)/xmigd $(BIN)/xmig $(BIN)/simhv

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) -c -o $@ $<

$(BIN)/xmigd: $(XMIGD_OBJS) $(LIB_OBJS) $(SIM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LDLIBS_COMMON) $(XEN_LIBS)

$(BIN)/xmig: $(XMIG_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LDLIBS_COMMON)

$(BIN)/simhv: $(SIMHV_OBJS) $(SIM_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(LDLIBS_COMMON)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) $(SIM_OBJS) $(XMIGD_LIB_OBJS) $(BIN)/simhv
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) $(LDSAN) -o $@ $(filter %.c %.o,$^) $(LDLIBS_COMMON) $(XEN_LIBS) -lcmocka

# The receiver on a socketpair with a fake backend, shared with fuzz_recv.
$(BUILD)/tests/test_recv_stream: tests/recv_harness.c tests/recv_harness.h

# A scripted relocation peer for the integration tests (tests/peer).
$(BUILD)/tests/testpeer: tests/peer/testpeer.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(CFLAGS) $(LDSAN) -o $@ $^ $(LDLIBS_COMMON)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; SIMHV=$(BIN)/simhv $$t; done

integ: all $(BUILD)/tests/testpeer
	@BUILD=$(BUILD) tests/integ/run.sh

# Includes point down the layers, no include cycle, every source file named
# in docs/architecture.md (tests/check_layout.py).
layout-check:
	@python3 tests/check_layout.py

check: all layout-check unit integ netns-check

deps:
	@scripts/install-deps.sh --if-missing

demo: deps
	@$(MAKE) -s --no-print-directory all
	@BIN=$(BIN) tools/demo.sh

# Placement simulator (issue 6, docs/placement.md): the pure placement module
# alone on a synthetic 1,000-host cluster.
$(BIN)/xmig-placesim: $(OBJ)/tools/placesim/placesim.o $(OBJ)/lib/placement.o
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^

# make bench: the benchmark (not a test) -- table, $(BUILD)/bench/results.json and
# bench.png; BENCH_QUICK=1 for a short subset.  See docs/performance.md.
$(BIN)/xmig-baseline: $(OBJ)/tools/bench/baseline.o
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)

bench: all $(BIN)/xmig-baseline
	@BUILD=$(BUILD) tools/bench/bench.sh
.PHONY: bench layout-check

# The nested Xen lab (tests/xenlab): two Xen 4.17 hosts under QEMU/TCG.
lab-check: all
	@tests/xenlab/install-deps.sh --if-missing
	@tests/xenlab/run-lab.sh

# Where "make install" puts things (DESTDIR is prepended to each).  With
# PREFIX=/usr (the Debian package) the unit goes to /lib/systemd/system.
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
INITDIR ?= $(SYSCONFDIR)/init.d
# Pacemaker looks for OCF resource agents under /usr/lib/ocf whatever the
# PREFIX (ocf:xmig:domain, issue 16).
OCFDIR ?= /usr/lib/ocf

# The unit and the init script name /usr/sbin/xmigd; installed elsewhere,
# they are rewritten to SBINDIR.  An existing xmigd.conf is kept.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/xmig \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(INITDIR) $(DESTDIR)$(OCFDIR)/resource.d/xmig
	install -m 0755 $(BIN)/xmigd $(DESTDIR)$(SBINDIR)/xmigd
	install -m 0755 $(BIN)/xmig $(DESTDIR)$(BINDIR)/xmig
	install -m 0755 $(BIN)/simhv $(DESTDIR)$(BINDIR)/simhv
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/xmig/xmigd.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/xmig/xmigd.conf"; \
	else \
		echo "install -m 0644 etc/xmigd.conf $(DESTDIR)$(SYSCONFDIR)/xmig/xmigd.conf"; \
		install -m 0644 etc/xmigd.conf $(DESTDIR)$(SYSCONFDIR)/xmig/xmigd.conf; \
	fi
	install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5
	install -m 0644 man/xmigd.8 $(DESTDIR)$(MANDIR)/man8
	$(if $(wildcard scripts/xmig-firewall),install -m 0755 scripts/xmig-firewall $(DESTDIR)$(SBINDIR)/xmig-firewall)
	$(if $(wildcard scripts/xmig-firewall),install -m 0644 man/xmig-firewall.8 $(DESTDIR)$(MANDIR)/man8)
	install -m 0644 etc/bash-completion/xmig $(DESTDIR)$(BASHCOMPDIR)/xmig
	sed -e 's|/usr/sbin/xmigd|$(SBINDIR)/xmigd|g' -e 's|/etc/xmig/|$(SYSCONFDIR)/xmig/|g' \
	    etc/xmigd.service >$(DESTDIR)$(SYSTEMDUNITDIR)/xmigd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/xmigd.service
	install -m 0644 etc/tmpfiles.d/xmig.conf $(DESTDIR)$(TMPFILESDIR)/xmig.conf
	sed -e 's|/usr/sbin/xmigd|$(SBINDIR)/xmigd|g' -e 's|/etc/xmig/|$(SYSCONFDIR)/xmig/|g' \
	    etc/init.d/xmigd >$(DESTDIR)$(INITDIR)/xmigd
	chmod 0755 $(DESTDIR)$(INITDIR)/xmigd
	sed -e 's|^OCF_RESKEY_xmig_default=xmig$$|OCF_RESKEY_xmig_default=$(BINDIR)/xmig|' \
	    -e 's|^OCF_RESKEY_simhv_default=simhv$$|OCF_RESKEY_simhv_default=$(BINDIR)/simhv|' \
	    -e 's|^OCF_RESKEY_conf_default=/etc/xmig/|OCF_RESKEY_conf_default=$(SYSCONFDIR)/xmig/|' \
	    scripts/ocf/domain >$(DESTDIR)$(OCFDIR)/resource.d/xmig/domain
	chmod 0755 $(DESTDIR)$(OCFDIR)/resource.d/xmig/domain

# make deb: the Debian package, built from a copy of the tree in build-deb/
# (scripts/make-deb.sh); tests/pkg/test_deb.sh checks it.
deb:
	@scripts/make-deb.sh build-deb

clean:
	rm -rf build build-san build-fuzz build-deb

.PHONY: all unit integ check deps demo lab-check install clean
.PHONY: deb

# make fuzz (libFuzzer, clang, build-fuzz/): tests/fuzz/fuzz.mk
-include tests/fuzz/fuzz.mk
# make netns-check (hosts in network namespaces, root): tests/netns/netns.mk
-include tests/netns/netns.mk

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
