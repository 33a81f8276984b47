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
