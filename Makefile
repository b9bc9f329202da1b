# dnsbld build. `make run` and `make test` install missing Debian packages first
# (scripts/deps.sh); the other targets expect them to be there.
#
#   make all      build bin/dnsbld, bin/dnsbl-loader, bin/dnsbl-api
#   make run      build, load zones/ and serve it (DNS 127.0.0.1:5300, API 127.0.0.1:8053)
#   make test     unit tests, end-to-end tests, then all of it again under ASan+UBSan
#   make install  PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PYTHON ?= /usr/bin/python3
# O: object directory, BIN: binary directory (the sanitizer build uses its own).
O ?= build/obj
BIN ?= bin
SAN ?=

# lib/ and the programs need these (jansson: jsonl feeds and the API's JSON, zlib: gzip
# input, libmicrohttpd: the API's HTTP, libcrypto: TSIG HMACs).
PKGS := ldns lmdb inih jansson zlib libmicrohttpd libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
TEST_LIBS = $(shell pkg-config --libs cmocka)

OPT ?= -O2
ifeq ($(SAN),1)
OPT := -O1 -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
endif
CFLAGS ?=
DEFS ?=
CFLAGS += -std=gnu11 -D_GNU_SOURCE $(DEFS) $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers -Ilib -Iloader -Idnsbld -Iapi \
	$(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS = $(PKG_LIBS) -lpthread

LIB_SRC := $(wildcard lib/*.c lib/store/*.c)
LOADER_SRC := $(wildcard loader/*.c)
DNSBLD_SRC := $(wildcard dnsbld/*.c)
API_SRC := $(wildcard api/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
LOADER_OBJ := $(LOADER_SRC:%.c=$(O)/%.o)
DNSBLD_OBJ := $(DNSBLD_SRC:%.c=$(O)/%.o)
API_OBJ := $(API_SRC:%.c=$(O)/%.o)
# Modules of the programs that unit tests link (everything but main.c).
LOADER_LIBOBJ := $(filter-out $(O)/loader/main.o,$(LOADER_OBJ))
DNSBLD_LIBOBJ := $(filter-out $(O)/dnsbld/main.o,$(DNSBLD_OBJ))
API_LIBOBJ := $(filter-out $(O)/api/main.o,$(API_OBJ))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

PROGRAMS := $(BIN)/dnsbld $(BIN)/dnsbl-loader $(BIN)/dnsbl-api

.PHONY: all deps run test check unit e2e asan bench install clean fuzz-libfuzzer answer-cost
all: $(PROGRAMS)

deps:
	@./scripts/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/libdnsbl.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN)/dnsbld: $(DNSBLD_OBJ) $(O)/libdnsbl.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

$(BIN)/dnsbl-loader: $(LOADER_OBJ) $(O)/libdnsbl.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

# The OpenAPI description is assembled into the binary (.incbin in api/openapi.c).
$(O)/api/openapi.o: api/openapi.yaml

$(BIN)/dnsbl-api: $(API_OBJ) $(O)/libdnsbl.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

$(O)/tests/%: tests/unit/%.c $(LOADER_LIBOBJ) $(DNSBLD_LIBOBJ) $(API_LIBOBJ) $(O)/libdnsbl.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS) $(TEST_LIBS)

$(O)/tests/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/mutate.h $(DNSBLD_LIBOBJ) $(O)/libdnsbl.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

# The per-query path's instruction cost (tests/bench/answer_cost.c): make answer-cost
# builds it with a 4 GiB map (valgrind cannot map the usual 64 GiB) and counts the
# instructions of answer_query under callgrind. Not part of make test.
$(O)/tests/answer_cost: tests/bench/answer_cost.c $(DNSBLD_LIBOBJ) $(O)/libdnsbl.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

answer-cost:
	$(MAKE) O=build/cg/obj BIN=build/cg/bin DEFS='-DSTORE_MAP_SIZE="(4ull << 30)"' \
		build/cg/obj/tests/answer_cost
	valgrind --tool=callgrind --collect-atstart=no --toggle-collect=answer_query \
		--callgrind-out-file=build/cg/callgrind.out build/cg/obj/tests/answer_cost 20000 50000
	callgrind_annotate build/cg/callgrind.out | sed -n '/PROGRAM TOTALS/p'

# Runs every unit test binary (cmocka prints a summary per binary), then the
# bounded mutation fuzzer over the answer path.
unit: $(UNIT_BIN) $(O)/tests/fuzz_answer $(O)/tests/fuzz_xfr
	@failed=""; for t in $(UNIT_BIN); do echo "== $$t"; $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit tests failed:$$failed"; exit 1; fi
	$(O)/tests/fuzz_answer 100000
	$(O)/tests/fuzz_xfr 10000

# libFuzzer builds of the same harnesses, for longer runs by hand:
#   make fuzz-libfuzzer && build/fuzz/fuzz_answer -max_total_time=600
fuzz-libfuzzer:
	@mkdir -p build/fuzz
	for h in answer xfr; do \
		clang -std=gnu11 -D_GNU_SOURCE -DDNSBL_LIBFUZZER -g -O1 -fsanitize=fuzzer,address,undefined \
			-Ilib -Idnsbld -o build/fuzz/fuzz_$$h tests/fuzz/fuzz_$$h.c \
			$(filter-out dnsbld/main.c,$(DNSBLD_SRC)) $(LIB_SRC) $(PKG_LIBS) || exit 1; \
	done

# End-to-end tests against the real binaries in $(BIN).
e2e: $(PROGRAMS)
	DNSBL_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q tests/e2e

check: unit e2e

# The whole suite again, built with AddressSanitizer and UBSan.
asan:
	$(MAKE) SAN=1 O=build/asan/obj BIN=build/asan/bin check

test: deps
	$(MAKE) check
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $(MAKE) asan

run: deps
	$(MAKE) all
	./scripts/run-demo.sh

# Benchmarks (tests/bench/README.md): query rate against rbldnsd and a floor responder,
# import under load, API-to-DNS latency, TCP under load, then zone transfers.
#   make bench DNS_BENCH_ARGS="--quick" BENCH_ARGS="--lines 1000000" \
#              API_BENCH_ARGS="--ops 1000" TCP_BENCH_ARGS="--quick" XFR_BENCH_ARGS="--quick"
bench:
	@EXTRA_PKGS="dnsperf rbldnsd" ./scripts/deps.sh
	$(MAKE) all
	DNSBL_BIN=$(abspath $(BIN)) $(PYTHON) tests/bench/dns_bench.py $(DNS_BENCH_ARGS)
	DNSBL_BIN=$(abspath $(BIN)) $(PYTHON) tests/bench/import_bench.py $(BENCH_ARGS)
	DNSBL_BIN=$(abspath $(BIN)) $(PYTHON) tests/bench/api_bench.py $(API_BENCH_ARGS)
	DNSBL_BIN=$(abspath $(BIN)) $(PYTHON) tests/bench/tcp_bench.py $(TCP_BENCH_ARGS)
	DNSBL_BIN=$(abspath $(BIN)) $(PYTHON) tests/bench/xfr_bench.py $(XFR_BENCH_ARGS)

install: $(PROGRAMS)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BIN)/dnsbld $(DESTDIR)$(PREFIX)/sbin/dnsbld
	install -m 755 $(BIN)/dnsbl-loader $(DESTDIR)$(PREFIX)/bin/dnsbl-loader
	install -m 755 $(BIN)/dnsbl-api $(DESTDIR)$(PREFIX)/sbin/dnsbl-api

clean:
	rm -rf build bin run

-include $(shell find build -name '*.d' 2>/dev/null)
