# User-space layer of libsccrypt and its tests (owner: user-lib work)

lib_libsccrypt_a_SOURCES += lib/log.c lib/secmem.c lib/io.c lib/encode.c \
	lib/keystore.c lib/keyfile.c lib/vmfile.c lib/pubkey.c lib/known_hvs.c \
	lib/cert.c lib/readpass.c lib/opsock.c lib/opsock.h \
	lib/pidfile.c lib/pidfile.h lib/confsect.c lib/confsect.h
# the shim <-> consoled socket protocol and the shim's view of sccrypt.conf
lib_libsccrypt_a_SOURCES += lib/ctl.c lib/ctl.h lib/ctlconf.c lib/ctlconf.h

if BUILD_UNIT_TESTS
# test_keys compiles its own keyfile.c with a lowerable KDF cost (cheap
# exhaustive tests); test_keys_cost tests the library's own, fixed cost.
check_PROGRAMS += tests/unit/test_keys
tests_unit_test_keys_SOURCES = tests/unit/test_keys.c lib/keyfile.c
tests_unit_test_keys_CFLAGS = $(TEST_CFLAGS) -DSC_KEYS_TEST_KDF
tests_unit_test_keys_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_keys
TESTS += tests/unit/test_keys
check_PROGRAMS += tests/unit/test_keys_cost
tests_unit_test_keys_cost_SOURCES = tests/unit/test_keys_cost.c
tests_unit_test_keys_cost_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_keys_cost_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_keys_cost
TESTS += tests/unit/test_keys_cost
endif

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_cert
tests_unit_test_cert_SOURCES = tests/unit/test_cert.c
tests_unit_test_cert_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cert_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_cert
TESTS += tests/unit/test_cert
endif

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_log
TESTS += tests/unit/test_log
endif

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_io
tests_unit_test_io_SOURCES = tests/unit/test_io.c
tests_unit_test_io_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_io_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_io
TESTS += tests/unit/test_io
endif

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_readpass
tests_unit_test_readpass_SOURCES = tests/unit/test_readpass.c
tests_unit_test_readpass_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_readpass_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_readpass
TESTS += tests/unit/test_readpass
endif

# libFuzzer harnesses: certificate parse+verify, key-file parsing.
fuzz_programs += tests/fuzz/fuzz_cert tests/fuzz/fuzz_keyfile
tests_fuzz_fuzz_cert_SOURCES = tests/fuzz/fuzz_cert.c
tests_fuzz_fuzz_cert_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_cert_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_cert_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_keyfile_SOURCES = tests/fuzz/fuzz_keyfile.c lib/keyfile.c
tests_fuzz_fuzz_keyfile_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -DSC_KEYS_TEST_KDF
tests_fuzz_fuzz_keyfile_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_keyfile_LDADD = $(SC_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_secmem
tests_unit_test_secmem_SOURCES = tests/unit/test_secmem.c
tests_unit_test_secmem_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_secmem_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_secmem
TESTS += tests/unit/test_secmem
endif

# The hv ops socket client (lib/opsock.c) against a fake hv in a child.
if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_opsock
tests_unit_test_opsock_SOURCES = tests/unit/test_opsock.c tests/unit/op_packet.h
tests_unit_test_opsock_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_opsock_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_opsock
TESTS += tests/unit/test_opsock
endif

# libFuzzer harness: how the ops socket client sorts what the hv sends
# (events, stray/malformed/oversized packets, the response by seq).
fuzz_programs += tests/fuzz/fuzz_opsock
tests_fuzz_fuzz_opsock_SOURCES = tests/fuzz/fuzz_opsock.c
tests_fuzz_fuzz_opsock_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_opsock_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_opsock_LDADD = $(SC_LIBS)
