# veer — build, test, demo. `make` builds everything into build/.
BUILD      ?= build
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH_INC   := -I/usr/include/$(shell uname -m)-linux-gnu
CFLAGS     ?= -O2 -g
CFLAGS     += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -MD -MP \
              -Iinclude -Iagent -I$(BUILD) $(shell pkg-config --cflags libnl-3.0 2>/dev/null)
# BPF_EXTRA: extra clang flags for the BPF object (experiments: -DNAME=...)
BPF_CFLAGS := $(BPF_EXTRA) -O2 -g -target bpf -Wall -Wextra -Werror -Wno-unused-parameter \
              -Iinclude -Ibpf $(ARCH_INC) -MD -MP
LDLIBS     := -lbpf -lelf -lz -lnl-route-3 -lnl-3 -lyaml -lcurl -lmicrohttpd -lcares -lm

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
LIB_SRCS   := $(filter-out agent/veerd.c,$(wildcard agent/*.c))
LIB_OBJS   := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(LIB_SRCS))
CTL_SRCS   := $(wildcard tools/*.c)
CTL_OBJS   := $(patsubst tools/%.c,$(BUILD)/tools/%.o,$(CTL_SRCS))
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TBPF_SRCS  := $(wildcard tests/bpf/*.c)
TBPF_OBJS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%.o,$(TBPF_SRCS))
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
BENCH_LIB  := $(filter-out %.bpf.c,$(wildcard tests/bench/lib/*.c))
BENCH_SKELS := $(patsubst tests/bench/lib/%.bpf.c,$(BUILD)/bench/%.skel.h,$(wildcard tests/bench/lib/*.bpf.c))

.PHONY: all deps test unit bpf-test e2e bench demo clean man install
# The object and skeleton are pattern-rule intermediates: kept, or every
# make would delete them and rebuild everything that includes the skeleton.
.SECONDARY: $(BPF_OBJS) $(SKELS) $(BENCH_SKELS:.skel.h=.bpf.o) $(BENCH_SKELS)
all: $(BUILD)/veerd $(BUILD)/veerctl $(UNIT_BINS) $(if $(TBPF_SRCS),$(BUILD)/tests/bpf_fixtures) $(BENCH_BINS) man

deps:
	@tools/install-deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.bpf.o: tests/bench/lib/%.bpf.c
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -Itests/bench/lib -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(notdir $*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/agent/%.o: agent/%.c $(SKELS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tools/%.o: tools/%.c $(SKELS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools -c $< -o $@

$(BUILD)/libveer.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/veerd: $(BUILD)/agent/veerd.o $(BUILD)/libveer.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/veerctl: $(CTL_OBJS) $(BUILD)/libveer.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libveer.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(BUILD)/libveer.a -o $@ $(LDLIBS) -lcmocka

$(BUILD)/tests/bpf/%.o: tests/bpf/%.c $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/bpf -c $< -o $@

$(BUILD)/tests/bpf_fixtures: $(TBPF_OBJS) $(BUILD)/libveer.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/bench/%: tests/bench/%.c $(BENCH_LIB) $(filter $(BUILD)/tests/bpf/pkt%.o,$(TBPF_OBJS)) $(BUILD)/libveer.a $(SKELS) $(BENCH_SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/bpf -Itests/bench -Itests/bench/lib -I$(BUILD)/bench $< $(BENCH_LIB) $(filter-out $(BUILD)/tests/bpf/fixtures_main.o,$(filter $(BUILD)/tests/bpf/pkt%.o,$(TBPF_OBJS))) $(BUILD)/libveer.a -o $@ $(LDLIBS)

$(BUILD):
	@mkdir -p $(BUILD)

man:
	@if command -v rst2man >/dev/null 2>&1 || command -v pandoc >/dev/null 2>&1; then \
		tools/build-man.sh $(BUILD)/man; fi

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run-all.sh

unit: all
	@tests/run-all.sh unit

bpf-test: all
	@tests/run-all.sh bpf

e2e: all
	@tests/run-all.sh e2e

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/run-all.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/e2e/demo.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
