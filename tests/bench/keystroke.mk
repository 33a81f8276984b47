# SCCrypt's own CPU work per keystroke, in one process: tests/bench/keystroke
# (run by hand and by tests/bench/run, not part of make check; see
# docs/benchmarks.md).
noinst_PROGRAMS += tests/bench/keystroke
tests_bench_keystroke_SOURCES = tests/bench/keystroke.c
tests_bench_keystroke_CPPFLAGS = $(HV_CPPFLAGS)
tests_bench_keystroke_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_bench_keystroke_LDADD = $(HV_TEST_LIBS)
