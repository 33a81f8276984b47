# Frames, records, sealed blobs, ops header codec and their tests (owner: proto work)

lib_libsccrypt_a_SOURCES += lib/core/frame.c lib/core/record.c lib/core/blob.c lib/core/owner.c \
	lib/core/ops.c lib/core/handshake.c

# Unit tests
check_PROGRAMS += tests/unit/test_frame
tests_unit_test_frame_SOURCES = tests/unit/test_frame.c
tests_unit_test_frame_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_frame_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_frame
TESTS += tests/unit/test_frame

check_PROGRAMS += tests/unit/test_blob
tests_unit_test_blob_SOURCES = tests/unit/test_blob.c
tests_unit_test_blob_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_blob_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_blob
TESTS += tests/unit/test_blob

check_PROGRAMS += tests/unit/test_owner
tests_unit_test_owner_SOURCES = tests/unit/test_owner.c
tests_unit_test_owner_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_owner_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_owner
TESTS += tests/unit/test_owner

check_PROGRAMS += tests/unit/test_ops
tests_unit_test_ops_SOURCES = tests/unit/test_ops.c
tests_unit_test_ops_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ops_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_ops
TESTS += tests/unit/test_ops

check_PROGRAMS += tests/unit/test_handshake
tests_unit_test_handshake_SOURCES = tests/unit/test_handshake.c
tests_unit_test_handshake_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_handshake_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_handshake
TESTS += tests/unit/test_handshake

check_PROGRAMS += tests/unit/test_record
tests_unit_test_record_SOURCES = tests/unit/test_record.c
tests_unit_test_record_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_record_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_record
TESTS += tests/unit/test_record

# libFuzzer harnesses (built with --enable-fuzzing); seeds in tests/fuzz/corpus/NAME/
fuzz_programs += tests/fuzz/fuzz_frame tests/fuzz/fuzz_hello tests/fuzz/fuzz_record \
	tests/fuzz/fuzz_blob tests/fuzz/fuzz_ops tests/fuzz/fuzz_protect \
	tests/fuzz/fuzz_handshake
tests_fuzz_fuzz_frame_SOURCES = tests/fuzz/fuzz_frame.c
tests_fuzz_fuzz_frame_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_frame_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_frame_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_hello_SOURCES = tests/fuzz/fuzz_hello.c
tests_fuzz_fuzz_hello_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_hello_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_hello_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_record_SOURCES = tests/fuzz/fuzz_record.c
tests_fuzz_fuzz_record_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_record_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_record_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_blob_SOURCES = tests/fuzz/fuzz_blob.c
tests_fuzz_fuzz_blob_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_blob_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_blob_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_ops_SOURCES = tests/fuzz/fuzz_ops.c
tests_fuzz_fuzz_ops_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_ops_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ops_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_protect_SOURCES = tests/fuzz/fuzz_protect.c
tests_fuzz_fuzz_protect_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_protect_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_protect_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_handshake_SOURCES = tests/fuzz/fuzz_handshake.c
tests_fuzz_fuzz_handshake_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_handshake_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_handshake_LDADD = $(SC_LIBS)
