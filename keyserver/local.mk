# keyserver build rules (included from the top Makefile.am)
#
# libksserver: TPM quote checks, storage, signer, decisions (server side).
# libkscommon (request bodies, tables, the HTTP and owner-token clients, also
# used by sccrypt-term) lives in lib/ks/ (lib/ks/ks.mk).

KS_SERVER_SRCS = keyserver/ks_tpm.h keyserver/ks_tpm.c \
	keyserver/ks_store.h keyserver/ks_store.c keyserver/ks_store_sqlite.c \
	keyserver/ks_store_pg.c keyserver/ks_pg.c keyserver/ks_pg.h \
	keyserver/ks_cred.h keyserver/ks_cred.c \
	keyserver/ks_core.h keyserver/ks_core.c keyserver/ks_activate.c keyserver/ks_sign.c \
	keyserver/ks_peer.h keyserver/ks_peer.c keyserver/ks_owner.h keyserver/ks_owner.c keyserver/ks_ownertok.c

KS_SERVER_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(TSS2_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	$(SQLITE_CFLAGS) $(LIBPQ_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS)
KS_SERVER_LIBS = keyserver/libksserver.a $(KS_COMMON_LIBS) \
	$(MHD_LIBS) $(SQLITE_LIBS) $(LIBPQ_LIBS) $(TSS2_LIBS) $(LIBCRYPTO_LIBS) -lpthread

if BUILD_ATTEST
sbin_PROGRAMS += keyserver/sccrypt-attest
keyserver_sccrypt_attest_SOURCES = keyserver/at_main.c keyserver/at_tpm.h keyserver/at_tpm.c \
	keyserver/at_hv.h keyserver/at_hv.c
keyserver_sccrypt_attest_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(TSS2_CFLAGS) $(JANSSON_CFLAGS)
keyserver_sccrypt_attest_LDADD = $(KS_COMMON_LIBS) $(TSS2_LIBS)
endif

if BUILD_KEYSERVER
noinst_LIBRARIES += keyserver/libksserver.a
keyserver_libksserver_a_SOURCES = $(KS_SERVER_SRCS)
keyserver_libksserver_a_CFLAGS = $(KS_SERVER_CFLAGS)

sbin_PROGRAMS += keyserver/sccrypt-keyserver
keyserver_sccrypt_keyserver_SOURCES = keyserver/ks_main.c keyserver/ks_http.h keyserver/ks_http.c
keyserver_sccrypt_keyserver_CFLAGS = $(KS_SERVER_CFLAGS)
keyserver_sccrypt_keyserver_LDADD = $(KS_SERVER_LIBS)
endif

# Integration tests (skip themselves when a program or swtpm is missing).
TESTS += tests/integration/ks-attest.sh tests/integration/ks-hvsim.sh \
	tests/integration/ks-limits.sh tests/integration/ks-privsep.sh \
	tests/integration/ks-store-pg.sh tests/integration/ks-pg.sh \
	tests/integration/ks-cred.sh tests/integration/ks-ek.sh \
	tests/integration/ks-ek-pg.sh tests/integration/ks-owner.sh \
	tests/integration/ks-owner-pg.sh tests/integration/hv-owner-ks.sh
dist_check_SCRIPTS += tests/integration/ks-attest.sh tests/integration/ks-hvsim.sh \
	tests/integration/ks-limits.sh tests/integration/ks-privsep.sh \
	tests/integration/ks-store-pg.sh tests/integration/ks-pg.sh \
	tests/integration/ks-cred.sh tests/integration/ks-ek.sh \
	tests/integration/ks-ek-pg.sh tests/integration/ks-owner.sh \
	tests/integration/ks-owner-pg.sh tests/integration/hv-owner-ks.sh
EXTRA_DIST += tests/integration/ks-pglib.sh tests/integration/ks-eklib.sh \
	tests/integration/ks-lib.sh \
	tests/integration/ks-owner-client.py

# Unit tests (cmocka).
if BUILD_KEYSERVER
if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_ks_core
tests_unit_test_ks_core_SOURCES = tests/unit/test_ks_core.c
tests_unit_test_ks_core_CFLAGS = $(TEST_CFLAGS) $(KS_SERVER_CFLAGS) -I$(top_srcdir)/keyserver
tests_unit_test_ks_core_LDADD = $(KS_SERVER_LIBS) $(CMOCKA_LIBS)
UNIT_TESTS += tests/unit/test_ks_core
TESTS += tests/unit/test_ks_core

check_PROGRAMS += tests/unit/test_ks_store
tests_unit_test_ks_store_SOURCES = tests/unit/test_ks_store.c
tests_unit_test_ks_store_CFLAGS = $(TEST_CFLAGS) $(KS_SERVER_CFLAGS) -I$(top_srcdir)/keyserver
tests_unit_test_ks_store_LDADD = $(KS_SERVER_LIBS) $(CMOCKA_LIBS)
UNIT_TESTS += tests/unit/test_ks_store
TESTS += tests/unit/test_ks_store

# Helper of tests/integration/ks-cred.sh (not a test itself).
check_PROGRAMS += tests/unit/ks_mkcred
tests_unit_ks_mkcred_SOURCES = tests/unit/ks_mkcred.c
tests_unit_ks_mkcred_CFLAGS = $(TEST_CFLAGS) $(KS_SERVER_CFLAGS) -I$(top_srcdir)/keyserver
tests_unit_ks_mkcred_LDADD = $(KS_SERVER_LIBS)
endif
endif

if BUILD_ATTEST
if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_ks_req
tests_unit_test_ks_req_SOURCES = tests/unit/test_ks_req.c tests/unit/op_packet.h \
	keyserver/at_hv.c
tests_unit_test_ks_req_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)/keyserver
tests_unit_test_ks_req_LDADD = $(KS_COMMON_LIBS) $(CMOCKA_LIBS)
UNIT_TESTS += tests/unit/test_ks_req
TESTS += tests/unit/test_ks_req
endif
endif

# libFuzzer harnesses (built with --enable-fuzzing; see fuzz-smoke).
if BUILD_ATTEST
fuzz_programs += tests/fuzz/fuzz_ks_request tests/fuzz/fuzz_ks_http
tests_fuzz_fuzz_ks_request_SOURCES = tests/fuzz/fuzz_ks_request.c
tests_fuzz_fuzz_ks_request_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_ks_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ks_request_LDADD = $(KS_COMMON_LIBS)
tests_fuzz_fuzz_ks_http_SOURCES = tests/fuzz/fuzz_ks_http.c keyserver/at_hv.c
tests_fuzz_fuzz_ks_http_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/keyserver
tests_fuzz_fuzz_ks_http_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ks_http_LDADD = $(KS_COMMON_LIBS)
endif
if BUILD_KEYSERVER
fuzz_programs += tests/fuzz/fuzz_ks_quote
tests_fuzz_fuzz_ks_quote_SOURCES = tests/fuzz/fuzz_ks_quote.c
tests_fuzz_fuzz_ks_quote_CFLAGS = $(KS_SERVER_CFLAGS) -I$(top_srcdir)/keyserver
tests_fuzz_fuzz_ks_quote_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ks_quote_LDADD = $(KS_SERVER_LIBS)
fuzz_programs += tests/fuzz/fuzz_ks_sign tests/fuzz/fuzz_ks_cred
tests_fuzz_fuzz_ks_cred_SOURCES = tests/fuzz/fuzz_ks_cred.c
tests_fuzz_fuzz_ks_cred_CFLAGS = $(KS_SERVER_CFLAGS) -I$(top_srcdir)/keyserver
tests_fuzz_fuzz_ks_cred_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ks_cred_LDADD = $(KS_SERVER_LIBS)
tests_fuzz_fuzz_ks_sign_SOURCES = tests/fuzz/fuzz_ks_sign.c
tests_fuzz_fuzz_ks_sign_CFLAGS = $(KS_SERVER_CFLAGS) -I$(top_srcdir)/keyserver
tests_fuzz_fuzz_ks_sign_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ks_sign_LDADD = $(KS_SERVER_LIBS)
endif

# Manual pages and example systemd units (installed by packagers).
dist_man_MANS += man/sccrypt-keyserver.8 man/sccrypt-attest.8
EXTRA_DIST += keyserver/sccrypt-keyserver.service keyserver/sccrypt-attest.service \
	keyserver/sccrypt-attest.timer

# Benchmark (tests/bench/keyserver/run.sh; not part of make check).
if BUILD_KEYSERVER
noinst_PROGRAMS += tests/bench/keyserver/ks-load
tests_bench_keyserver_ks_load_SOURCES = tests/bench/keyserver/ks-load.c
tests_bench_keyserver_ks_load_CFLAGS = $(KS_SERVER_CFLAGS) -I$(top_srcdir)/keyserver
tests_bench_keyserver_ks_load_LDADD = $(KS_SERVER_LIBS)
endif
dist_noinst_SCRIPTS += tests/bench/keyserver/run.sh
