# libsccrypt: the freestanding protocol core (lib/core) and the user-space
# layer (lib/).  Sources are added by the fragments below, one per area.

noinst_LIBRARIES += lib/libsccrypt.a
lib_libsccrypt_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
lib_libsccrypt_a_SOURCES = \
	lib/core/compat.h lib/core/err.h lib/core/err.c lib/core/buf.c lib/core/crypto.c \
	lib/crypto_sodium.c \
	lib/core/wire.h lib/core/crypto.h lib/core/buf.h lib/core/noise.h lib/core/noise_pattern.h \
	lib/core/record.h lib/core/frame.h lib/core/blob.h lib/core/ops.h lib/core/handshake.h \
	lib/core/owner.h \
	lib/log.h lib/secmem.h lib/encode.h lib/keystore.h lib/keyfile.h lib/vmfile.h \
	lib/pubkey.h lib/known_hvs.h lib/cert.h lib/readpass.h lib/io.h

# Sources of the protocol core, compiled freestanding by tests/freestanding-check.
CORE_SRCS = lib/core/err.c lib/core/buf.c lib/core/crypto.c lib/core/noise.c \
	lib/core/noise_pattern.c \
	lib/core/frame.c lib/core/record.c lib/core/blob.c lib/core/owner.c lib/core/ops.c lib/core/handshake.c

# Every program links this.
SC_LIBS = lib/libsccrypt.a $(SODIUM_LIBS)

include lib/core/noise.mk
include lib/core/proto.mk
include lib/user.mk
include lib/ks/ks.mk

# The libsodium provider against the crypto.h contract.
check_PROGRAMS += tests/unit/test_crypto
tests_unit_test_crypto_SOURCES = tests/unit/test_crypto.c
tests_unit_test_crypto_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_crypto_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_crypto
TESTS += tests/unit/test_crypto
