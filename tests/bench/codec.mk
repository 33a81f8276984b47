# Frame codec micro-benchmark: tests/bench/codec (run by hand, not part of
# make check; see docs/benchmarks.md).
noinst_PROGRAMS += tests/bench/codec
tests_bench_codec_SOURCES = tests/bench/codec.c
tests_bench_codec_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_bench_codec_LDADD = $(SC_LIBS)
# The byte-at-a-time reference codec shared by tests/unit/test_frame.c and
# tests/fuzz/fuzz_frame.c (both owned with the codec).
noinst_HEADERS += tests/fuzz/frame_ref.h
