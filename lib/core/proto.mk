# Frames, records, sealed blobs, ops header codec and their tests (owner: proto work)

lib_libsccrypt_a_SOURCES += lib/core/frame.c lib/core/record.c lib/core/blob.c \
	lib/core/ops.c

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

check_PROGRAMS += tests/unit/test_ops
tests_unit_test_ops_SOURCES = tests/unit/test_ops.c
tests_unit_test_ops_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ops_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_ops
TESTS += tests/unit/test_ops

check_PROGRAMS += tests/unit/test_record
tests_unit_test_record_SOURCES = tests/unit/test_record.c
tests_unit_test_record_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_record_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_record
TESTS += tests/unit/test_record
