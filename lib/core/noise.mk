# Noise engine, buffer, crypto provider and their tests (owner: noise work)

lib_libsccrypt_a_SOURCES += lib/core/noise.c lib/core/noise_pattern.c

# Noise test-vector runner; make check replays the published vectors.
check_PROGRAMS += tests/noise-vectors
tests_noise_vectors_SOURCES = tests/noise-vectors.c
tests_noise_vectors_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
tests_noise_vectors_LDADD = $(SC_LIBS) $(JANSSON_LIBS)
TESTS += tests/noise-vectors.sh
dist_check_SCRIPTS += tests/noise-vectors.sh

# Unit tests
check_PROGRAMS += tests/unit/test_buf
tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_buf_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_buf
TESTS += tests/unit/test_buf

check_PROGRAMS += tests/unit/test_noise
tests_unit_test_noise_SOURCES = tests/unit/test_noise.c
tests_unit_test_noise_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_noise_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_noise
TESTS += tests/unit/test_noise

# libFuzzer harness: handshake messages and transport messages from a peer.
fuzz_programs += tests/fuzz/fuzz_noise_read
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_noise_read
endif
tests_fuzz_fuzz_noise_read_SOURCES = tests/fuzz/fuzz_noise_read.c
tests_fuzz_fuzz_noise_read_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_noise_read_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_noise_read_LDADD = $(SC_LIBS)
