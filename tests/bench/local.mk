# Console benchmark: tests/bench/run (a script run by hand, not part of
# make check) and its measuring client sc-bench.  See docs/benchmarks.md.
noinst_PROGRAMS += tests/bench/sc-bench
tests_bench_sc_bench_SOURCES = tests/bench/sc-bench.c tests/bench/proccpu.c \
    tests/bench/proccpu.h
tests_bench_sc_bench_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_bench_sc_bench_LDADD = $(SC_LIBS) -lm
EXTRA_DIST += tests/bench/run
include tests/bench/codec.mk
include tests/bench/keystroke.mk
