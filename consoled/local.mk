# consoled build rules (included from the top Makefile.am)
# sccrypt-consoled: the dom0 relay daemon (owner: dom0 work)

CONSOLED_CORE_SRCS = \
	consoled/relay.c consoled/consoled.h consoled/relay_int.h \
	consoled/relay_client.c consoled/relay_hv.c consoled/sched.c \
	consoled/policy.c consoled/ctlog.c consoled/ctlog.h \
	consoled/backend.c consoled/backend_sim.c consoled/backend.h \
	consoled/conf.c consoled/conf.h consoled/coalesce.c consoled/coalesce.h

sbin_PROGRAMS += consoled/sccrypt-consoled
consoled_sccrypt_consoled_SOURCES = consoled/main.c consoled/daemon.c \
	consoled/daemon.h $(CONSOLED_CORE_SRCS)
consoled_sccrypt_consoled_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) \
	-DSC_DEFAULT_CONF='"$(sysconfdir)/sccrypt/sccrypt.conf"'
consoled_sccrypt_consoled_LDADD = $(SC_LIBS)

# The Xen backend: only where libxen-dev is available.
if BUILD_XEN_BACKEND
consoled_sccrypt_consoled_SOURCES += consoled/backend_xen.c consoled/backend_xen.h \
	consoled/backend_xen_sys.c
consoled_sccrypt_consoled_CFLAGS += $(XEN_CFLAGS) -DSC_WITH_XEN_BACKEND
consoled_sccrypt_consoled_LDADD += $(XEN_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_consoled_xen
UNIT_TESTS += tests/unit/test_consoled_xen
TESTS += tests/unit/test_consoled_xen
endif
endif
tests_unit_test_consoled_xen_SOURCES = tests/unit/test_consoled_xen.c \
	consoled/backend_xen.c consoled/backend_xen.h consoled/backend_xen_sys.c \
	$(CONSOLED_CORE_SRCS)
tests_unit_test_consoled_xen_CFLAGS = $(TEST_CFLAGS) $(XEN_CFLAGS) \
	-I$(top_srcdir)/consoled -DSC_WITH_XEN_BACKEND
tests_unit_test_consoled_xen_LDADD = $(TEST_LIBS) $(XEN_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_consoled_relay
UNIT_TESTS += tests/unit/test_consoled_relay
TESTS += tests/unit/test_consoled_relay
endif
tests_unit_test_consoled_relay_SOURCES = tests/unit/test_consoled_relay.c \
	tests/unit/test_consoled_fakehv.c tests/unit/test_consoled_fakehv.h \
	$(CONSOLED_CORE_SRCS)
tests_unit_test_consoled_relay_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/consoled
tests_unit_test_consoled_relay_LDADD = $(TEST_LIBS)

fuzz_programs += tests/fuzz/fuzz_consoled_client tests/fuzz/fuzz_consoled_conf
tests_fuzz_fuzz_consoled_client_SOURCES = tests/fuzz/fuzz_consoled_client.c \
	tests/unit/test_consoled_fakehv.c tests/unit/test_consoled_fakehv.h \
	$(CONSOLED_CORE_SRCS)
tests_fuzz_fuzz_consoled_client_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/consoled
tests_fuzz_fuzz_consoled_client_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_consoled_client_LDADD = $(SC_LIBS)
tests_fuzz_fuzz_consoled_conf_SOURCES = tests/fuzz/fuzz_consoled_conf.c \
	consoled/conf.c consoled/coalesce.h
tests_fuzz_fuzz_consoled_conf_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/consoled
tests_fuzz_fuzz_consoled_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_consoled_conf_LDADD = $(SC_LIBS)

# sc-probe: scripted test client (integration tests, attack tests)
check_PROGRAMS += tests/helpers/sc-probe
tests_helpers_sc_probe_SOURCES = tests/helpers/sc-probe.c
tests_helpers_sc_probe_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_helpers_sc_probe_LDADD = $(SC_LIBS)

dist_man_MANS += man/sccrypt-consoled.8 man/sccrypt-console.8 man/sccrypt.conf.5
EXTRA_DIST += consoled/sccrypt-consoled.service.in

# Integration tests (shell)
TESTS += tests/integration/dom0-shim-reject.sh
dist_check_SCRIPTS += tests/integration/dom0-shim-reject.sh
TESTS += tests/integration/dom0-sshd.sh
dist_check_SCRIPTS += tests/integration/dom0-sshd.sh
EXTRA_DIST += tests/integration/dom0-lib.sh
TESTS += tests/integration/dom0-churn.sh
dist_check_SCRIPTS += tests/integration/dom0-churn.sh
TESTS += tests/integration/dom0-instance.sh
dist_check_SCRIPTS += tests/integration/dom0-instance.sh
TESTS += tests/integration/dom0-eof.sh
TESTS += tests/integration/dom0-guest-flood.sh
dist_check_SCRIPTS += tests/integration/dom0-eof.sh
dist_check_SCRIPTS += tests/integration/dom0-guest-flood.sh
TESTS += tests/integration/fault-sclog.sh tests/integration/fault-consoled.sh \
	tests/integration/fault-sshd.sh
dist_check_SCRIPTS += tests/integration/fault-sclog.sh \
	tests/integration/fault-consoled.sh tests/integration/fault-sshd.sh
TESTS += tests/integration/dom0-many.sh
dist_check_SCRIPTS += tests/integration/dom0-many.sh
EXTRA_DIST += tests/helpers/ops-flood.py
TESTS += tests/integration/dom0-privdrop.sh
dist_check_SCRIPTS += tests/integration/dom0-privdrop.sh
TESTS += tests/integration/dom0-hvsim-root.sh
dist_check_SCRIPTS += tests/integration/dom0-hvsim-root.sh
TESTS += tests/integration/dom0-policy.sh
dist_check_SCRIPTS += tests/integration/dom0-policy.sh
TESTS += tests/integration/dom0-protect-flood.sh
dist_check_SCRIPTS += tests/integration/dom0-protect-flood.sh

# sccrypt.conf error reporting (nearest key, every error)
if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_consoled_conf
UNIT_TESTS += tests/unit/test_consoled_conf
TESTS += tests/unit/test_consoled_conf
endif
tests_unit_test_consoled_conf_SOURCES = tests/unit/test_consoled_conf.c \
	$(CONSOLED_CORE_SRCS)
tests_unit_test_consoled_conf_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/consoled
tests_unit_test_consoled_conf_LDADD = $(TEST_LIBS)

# Output coalescing: the decision table (coalesce.h)
if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_coalesce
UNIT_TESTS += tests/unit/test_coalesce
TESTS += tests/unit/test_coalesce
endif
tests_unit_test_coalesce_SOURCES = tests/unit/test_coalesce.c \
	consoled/coalesce.c consoled/coalesce.h
tests_unit_test_coalesce_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/consoled
tests_unit_test_coalesce_LDADD = $(TEST_LIBS)
TESTS += tests/integration/dom0-coalesce.sh
dist_check_SCRIPTS += tests/integration/dom0-coalesce.sh
