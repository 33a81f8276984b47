# sccrypt-webgate: the web console's dom0 WebSocket gateway (libwebsockets).
EXTRA_DIST += webgate/sccrypt-webgate.service
if BUILD_WEBGATE
sbin_PROGRAMS += webgate/sccrypt-webgate
webgate_sccrypt_webgate_SOURCES = webgate/webgate.c webgate/auth.c webgate/auth.h \
	webgate/conf.c webgate/conf.h
webgate_sccrypt_webgate_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(LWS_CFLAGS)
webgate_sccrypt_webgate_LDADD = $(SC_LIBS) $(LWS_LIBS)
endif

# The gateway's own parsers (libsodium only, no libwebsockets needed).
fuzz_programs += tests/fuzz/fuzz_webgate
tests_fuzz_fuzz_webgate_SOURCES = tests/fuzz/fuzz_webgate.c webgate/auth.c webgate/auth.h \
	webgate/conf.c webgate/conf.h
tests_fuzz_fuzz_webgate_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/webgate
tests_fuzz_fuzz_webgate_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_webgate_LDADD = $(SC_LIBS)
dist_man_MANS += man/sccrypt-webgate.8

# The sections of sccrypt.conf (lib/confsect.c) and the [webgate] settings.
if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_confsect
tests_unit_test_confsect_SOURCES = tests/unit/test_confsect.c webgate/conf.c webgate/conf.h
tests_unit_test_confsect_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/webgate
tests_unit_test_confsect_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_confsect
TESTS += tests/unit/test_confsect
endif
