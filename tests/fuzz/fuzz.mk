# fuzz.mk - libFuzzer targets (included by the top Makefile).
#
#   make fuzz               build the fuzzers with clang into build-fuzz/ and run
#                           each for FUZZ_SECONDS (default 60); non-zero on a crash
#   make fuzz FUZZ_SECONDS=10 FUZZ_TARGETS=frame
#   make fuzz-build         only build them
#   make fuzz-seeds         regenerate tests/fuzz/corpus/{frame,recv} from the encoders
#
# The committed seeds are in tests/fuzz/corpus/<target>/ and are only read;
# what a run discovers goes to build-fuzz/corpus/<target>/, crashes to
# build-fuzz/artifacts/.

FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= frame conf allow recv xencfg ctlmsg
# Without -DHAVE_XEN: the Xen backend's files then compile to nothing, so no
# fuzzer needs libxen, whether or not libxen-dev is installed.
FUZZ_CFLAGS := $(filter-out -MMD -MP -DHAVE_XEN -fsanitize=%,$(XCFLAGS)) -g -O1 \
	-fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

# The library is compiled with the same instrumentation into an archive, so
# each fuzzer links only the modules it uses (and what those use).
FUZZ_LIB_SRCS := $(wildcard lib/*.c)
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_HDRS := $(wildcard lib/*.h)

$(FUZZ_BUILD)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libxmig.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libxmig.a $(FUZZ_HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_BUILD)/libxmig.a $(LDLIBS_COMMON) -lm

# fuzz_recv runs the daemon's receiver: xmigd's modules (all but main.c)
# and the sim's, instrumented as well, in a second archive.
FUZZ_XMIGD_SRCS := $(filter-out xmigd/main.c,$(XMIGD_SRCS)) $(SIM_SRCS)
FUZZ_XMIGD_OBJS := $(FUZZ_XMIGD_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_XMIGD_HDRS := $(FUZZ_HDRS) $(wildcard xmigd/*.h xmigd/*/*.h sim/*.h)

$(FUZZ_XMIGD_OBJS): $(FUZZ_XMIGD_HDRS)

$(FUZZ_BUILD)/libxmigd.a: $(FUZZ_XMIGD_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_recv: tests/fuzz/fuzz_recv.c tests/fuzz/fuzz_recv.h tests/recv_harness.c \
    tests/recv_harness.h $(FUZZ_BUILD)/libxmigd.a $(FUZZ_BUILD)/libxmig.a $(FUZZ_XMIGD_HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_recv.c tests/recv_harness.c \
	    $(FUZZ_BUILD)/libxmigd.a $(FUZZ_BUILD)/libxmig.a $(LDLIBS_COMMON) -lm

# fuzz_xencfg: the Xen configuration blob and the libxl configuration in it
# (xmigd/hv/xen_cfg.c, xen_dev.c, xen_toolcfg.c: plain C).
$(FUZZ_BUILD)/fuzz_xencfg: tests/fuzz/fuzz_xencfg.c $(FUZZ_BUILD)/libxmigd.a \
    $(FUZZ_BUILD)/libxmig.a $(FUZZ_XMIGD_HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_xencfg.c \
	    $(FUZZ_BUILD)/libxmigd.a $(FUZZ_BUILD)/libxmig.a $(LDLIBS_COMMON) -lm

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)

$(FUZZ_BUILD)/gen_seeds: tests/fuzz/gen_seeds.c tests/fuzz/fuzz_recv.h lib/proto.c lib/xbuf.c \
    lib/xerr.c lib/compress.c lib/util.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(XCFLAGS)) $(CFLAGS) -o $@ $(filter %.c,$^) -lzstd -llz4

fuzz-seeds: $(FUZZ_BUILD)/gen_seeds
	@mkdir -p tests/fuzz/corpus/frame tests/fuzz/corpus/recv
	$(FUZZ_BUILD)/gen_seeds tests/fuzz/corpus/frame tests/fuzz/corpus/recv

.PHONY: fuzz fuzz-build fuzz-seeds
