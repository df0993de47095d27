# moat build. Outputs go to build/ (or build-san/ with SAN=1).
#   make          build everything (moatd, moatctl, moat-bench, tests)
#   make run      moatd on the embedded default config, foreground
#   make test     unit + integration tests
#   make fuzz     short libFuzzer run of every parser (FUZZ_SECONDS per target)
#   make deps     install missing Debian packages
CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
SAN     ?= 0

ifeq ($(SAN),1)
B        := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
B        := build
SANFLAGS :=
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -fno-strict-aliasing -Iinclude -Iuser -I$(B) -MMD -MP $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  := -lssl -lcrypto -largon2 -lbpf -lelf -lz -lnl-route-3 -lnl-3 -llmdb -lpthread -lm
NL_CFLAGS := $(shell pkg-config --cflags libnl-3.0 2>/dev/null || echo -I/usr/include/libnl3)
CFLAGS  += $(NL_CFLAGS)

# Every .c under user/ except main.c goes into libmoat.a, which tests link too.
LIB_SRCS  := $(filter-out user/main.c,$(shell find user -name '*.c' | sort))
LIB_OBJS  := $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(patsubst tools/%.c,$(B)/%,$(TOOL_SRCS))
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(B)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(B)/%.skel.h,$(BPF_SRCS))
# Shared helpers for tools (tools/lib/*.c) link into every tool.
TOOLLIB_SRCS := $(wildcard tools/lib/*.c)
TOOLLIB_OBJS := $(patsubst %.c,$(B)/%.o,$(TOOLLIB_SRCS))

.PHONY: all run test unit integration valgrind vm-test fuzz fuzz-build deps clean bench bench-smoke
all: $(B)/moatd $(TOOL_BINS) $(UNIT_BINS)

deps:
	@tools/deps.sh

$(B)/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h) | deps-stamp
	@mkdir -p $(@D)
	$(CLANG) -target bpf -mcpu=v3 -g -O2 -Wall -Werror -Iinclude -I$(B) -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(B)/%.skel.h: $(B)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(B)/%.o: %.c | deps-stamp $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libmoat.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/moatd: $(B)/user/main.o $(B)/libmoat.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A tool moat-X (or X) is tools/moat-X.c plus every tools/X/*.c.
.SECONDEXPANSION:
tool_objs = $(patsubst %.c,$(B)/%.o,$(sort $(wildcard tools/$(1)/*.c tools/$(patsubst moat-%,%,$(1))/*.c)))
$(B)/%: $(B)/tools/%.o $$(call tool_objs,$$*) $(TOOLLIB_OBJS) $(B)/libmoat.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/libmoat.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# libFuzzer targets: clang, ASan+UBSan. The library is compiled once with
# coverage instrumentation (fuzzer-no-link) and every target links it.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Iuser -I$(B) $(NL_CFLAGS)
FUZZ_OBJS := $(patsubst %.c,build-fuzz/obj/%.o,$(LIB_SRCS))
build-fuzz/obj/%.o: %.c | deps-stamp $(BPF_SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build-fuzz/libmoat-fuzz.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^
build-fuzz/%: tests/fuzz/%.c build-fuzz/libmoat-fuzz.a
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libmoat-fuzz.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)
FUZZ_SECONDS ?= 10
fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

run: deps-stamp $(B)/moatd
	$(B)/moatd

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

integration: all
	@tests/integration/run.sh $(B)
	@tests/integration/tls/run.sh $(B)
	@if [ "$$(id -u)" = 0 ]; then tests/integration/xdp/run.sh $(B); \
	 else echo "xdp datapath tests skipped: they need root (network namespaces, XDP)"; fi

# Every unit test under valgrind: any error or leak fails.
valgrind: $(UNIT_BINS)
	@tests/unit/run.sh --valgrind $(UNIT_BINS)

test: deps-stamp
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

# kTLS proof: Debian's stock kernels under qemu (this host's kernel has no
# kTLS): Debian 12's 6.1 (no rekey) and unstable's newest (KeyUpdate rekey);
# then the XDP datapath tests on 6.1, the oldest kernel moat supports.
vm-test: all
	@tests/vm/run.sh $(B)
	@MOAT_VM_SUITE=sid tests/vm/run.sh $(B)
	@tests/vm/xdp.sh $(B)

bench: all
	tests/bench/run.sh $(B) full

bench-smoke: all
	tests/bench/run.sh $(B) smoke

# deps runs once per tree; the stamp is refreshed if the package list changes.
deps-stamp: tools/deps.sh
	@tools/deps.sh
	@touch $@

clean:
	rm -rf build build-san build-fuzz deps-stamp

-include $(shell find $(B) build-fuzz -name '*.d' 2>/dev/null)
