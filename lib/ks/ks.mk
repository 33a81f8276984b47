# libkscommon: the key server protocol shared by its programs (owner: keyserver work).
# JSON bodies and shared tables (ks.h, ks_util.c, ks_req.c), the HTTP
# client (at_http.c) and the ownership-token client (ks_ownercli.c), used
# by sccrypt-keyserver, sccrypt-attest and sccrypt-term (vm protect
# --keyserver).  Consumers include "ks/NAME.h"; link KS_COMMON_LIBS.

KS_COMMON_SRCS = lib/ks/ks.h lib/ks/ks_util.c lib/ks/ks_req.h lib/ks/ks_req.c \
	lib/ks/at_http.h lib/ks/at_http.c \
	lib/ks/ks_ownercli.h lib/ks/ks_ownercli.c
KS_COMMON_LIBS = lib/ks/libkscommon.a $(SC_LIBS) $(JANSSON_LIBS)

if BUILD_ATTEST
noinst_LIBRARIES += lib/ks/libkscommon.a
lib_ks_libkscommon_a_SOURCES = $(KS_COMMON_SRCS)
lib_ks_libkscommon_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
endif
