# hv build rules (included from the top Makefile.am)
#
# hv/core: the hypervisor ring module, freestanding (tests/freestanding-check
# compiles HV_CORE_SRCS with -ffreestanding -nostdinc).  hv/sim: the
# simulated VMM sccrypt-hvsim.

HV_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)

noinst_LIBRARIES += hv/libsccrypt-hv.a
hv_libsccrypt_hv_a_CPPFLAGS = $(HV_CPPFLAGS)
hv_libsccrypt_hv_a_CFLAGS = $(AM_CFLAGS)
hv_libsccrypt_hv_a_SOURCES = \
	hv/core/xen_console_compat.h hv/core/ring.h hv/core/ring.c \
	hv/core/hv.h hv/core/hv_int.h hv/core/hv.c hv/core/hv_domain.c \
	hv/core/hv_session.c hv/core/hv_record.c hv/core/hv_ops.c \
	hv/core/hv_call.c
# Compiled with -ffreestanding -nostdinc by tests/freestanding-check.
HV_CORE_SRCS += hv/core/ring.c hv/core/hv.c hv/core/hv_domain.c \
	hv/core/hv_session.c hv/core/hv_record.c hv/core/hv_ops.c \
	hv/core/hv_call.c

# The hypervisor's Noise patterns: lib/core/noise_pattern.c built with only
# the pattern the protocol uses (IKpsk2), linked before libsccrypt so the VMM
# and the hv tests take it (the vector runner and the clients keep the full
# table).
noinst_LIBRARIES += hv/libsccrypt-hvnoise.a
hv_libsccrypt_hvnoise_a_SOURCES = lib/core/noise_pattern.c
hv_libsccrypt_hvnoise_a_CPPFLAGS = $(AM_CPPFLAGS) -DSC_NOISE_IKPSK2_ONLY
hv_libsccrypt_hvnoise_a_CFLAGS = $(AM_CFLAGS)
HV_LIBS = hv/libsccrypt-hv.a hv/libsccrypt-hvnoise.a $(SC_LIBS)

# The test client of the ops ABI (op packets, a client session), for the
# hv tests, the fuzz harnesses, the keystroke bench and sc-hvctl only.
noinst_LIBRARIES += tests/helpers/libhvclient.a
tests_helpers_libhvclient_a_SOURCES = tests/helpers/hvclient.h \
	tests/helpers/hvclient.c
tests_helpers_libhvclient_a_CPPFLAGS = $(HV_CPPFLAGS)
tests_helpers_libhvclient_a_CFLAGS = $(AM_CFLAGS)
HV_TEST_LIBS = tests/helpers/libhvclient.a $(HV_LIBS)
# The hv unit tests' shared context and disk-key hook (cmocka).
HV_TEST_PLATFORM = tests/unit/hv_test_platform.h tests/unit/hv_test_platform.c

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_noise_hv
UNIT_TESTS += tests/unit/test_noise_hv
TESTS += tests/unit/test_noise_hv
endif
tests_unit_test_noise_hv_SOURCES = tests/unit/test_noise_hv.c
tests_unit_test_noise_hv_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_noise_hv_LDADD = $(HV_LIBS) $(CMOCKA_LIBS)

# Unit tests
if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_hv_ring
UNIT_TESTS += tests/unit/test_hv_ring
TESTS += tests/unit/test_hv_ring
endif
tests_unit_test_hv_ring_SOURCES = tests/unit/test_hv_ring.c
tests_unit_test_hv_ring_CPPFLAGS = $(HV_CPPFLAGS)
tests_unit_test_hv_ring_CFLAGS = $(TEST_CFLAGS) -pthread
tests_unit_test_hv_ring_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_unit_test_hv_ring_LDADD = $(HV_LIBS) $(CMOCKA_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_hv_ops
UNIT_TESTS += tests/unit/test_hv_ops
TESTS += tests/unit/test_hv_ops
endif
tests_unit_test_hv_ops_SOURCES = tests/unit/test_hv_ops.c \
	$(HV_TEST_PLATFORM)
tests_unit_test_hv_ops_CPPFLAGS = $(HV_CPPFLAGS)
tests_unit_test_hv_ops_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hv_ops_LDADD = $(HV_TEST_LIBS) $(CMOCKA_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_hv_phases
UNIT_TESTS += tests/unit/test_hv_phases
TESTS += tests/unit/test_hv_phases
endif
tests_unit_test_hv_phases_SOURCES = tests/unit/test_hv_phases.c \
	$(HV_TEST_PLATFORM)
tests_unit_test_hv_phases_CPPFLAGS = $(HV_CPPFLAGS)
tests_unit_test_hv_phases_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hv_phases_LDADD = $(HV_TEST_LIBS) $(CMOCKA_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_hv_pump
UNIT_TESTS += tests/unit/test_hv_pump
TESTS += tests/unit/test_hv_pump
endif
tests_unit_test_hv_pump_SOURCES = tests/unit/test_hv_pump.c \
	$(HV_TEST_PLATFORM)
tests_unit_test_hv_pump_CPPFLAGS = $(HV_CPPFLAGS)
tests_unit_test_hv_pump_CFLAGS = $(TEST_CFLAGS) -pthread
tests_unit_test_hv_pump_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_unit_test_hv_pump_LDADD = $(HV_TEST_LIBS) $(CMOCKA_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_hv_locks
UNIT_TESTS += tests/unit/test_hv_locks
TESTS += tests/unit/test_hv_locks
endif
tests_unit_test_hv_locks_SOURCES = tests/unit/test_hv_locks.c \
	$(HV_TEST_PLATFORM)
tests_unit_test_hv_locks_CPPFLAGS = $(HV_CPPFLAGS)
tests_unit_test_hv_locks_CFLAGS = $(TEST_CFLAGS) -pthread
tests_unit_test_hv_locks_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_unit_test_hv_locks_LDADD = $(HV_TEST_LIBS) $(CMOCKA_LIBS)

# libFuzzer harness over the ops dispatcher
fuzz_programs += tests/fuzz/fuzz_hv_dispatch
tests_fuzz_fuzz_hv_dispatch_SOURCES = tests/fuzz/fuzz_hv_dispatch.c
tests_fuzz_fuzz_hv_dispatch_CPPFLAGS = $(HV_CPPFLAGS)
tests_fuzz_fuzz_hv_dispatch_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_hv_dispatch_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_hv_dispatch_LDADD = $(HV_TEST_LIBS)

# libFuzzer harness over the client side (op packets, HS2, OUTPUT items)
fuzz_programs += tests/fuzz/fuzz_hvclient
tests_fuzz_fuzz_hvclient_SOURCES = tests/fuzz/fuzz_hvclient.c
tests_fuzz_fuzz_hvclient_CPPFLAGS = $(HV_CPPFLAGS)
tests_fuzz_fuzz_hvclient_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_hvclient_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_hvclient_LDADD = $(HV_TEST_LIBS)

# sccrypt-hvsim: the simulated VMM
if BUILD_HVSIM
sbin_PROGRAMS += hv/sim/sccrypt-hvsim
endif
hv_sim_sccrypt_hvsim_SOURCES = hv/sim/main.c hv/sim/sim.h hv/sim/clients.c \
	hv/sim/domains.c hv/sim/diskcheck.c hv/sim/conf.c hv/sim/conf.h \
	hv/sim/guest.c hv/sim/guest.h hv/sim/platform.c hv/sim/platform.h
hv_sim_sccrypt_hvsim_CPPFLAGS = $(HV_CPPFLAGS) \
	-DSC_HVSIM_DEFAULT_CONF='"$(sysconfdir)/sccrypt/hvsim.conf"'
hv_sim_sccrypt_hvsim_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(TSS2_CFLAGS) $(CRYPTSETUP_CFLAGS)
hv_sim_sccrypt_hvsim_LDADD = $(HV_LIBS) $(TSS2_LIBS) $(CRYPTSETUP_LIBS)

# sc-hvctl: test/admin client of the ops socket (info, list, status,
# protect, scripted sessions, raw I/O)
noinst_PROGRAMS += tests/helpers/sc-hvctl
tests_helpers_sc_hvctl_SOURCES = tests/helpers/sc-hvctl.c
tests_helpers_sc_hvctl_CPPFLAGS = $(HV_CPPFLAGS)
tests_helpers_sc_hvctl_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_helpers_sc_hvctl_LDADD = $(HV_TEST_LIBS)

# Integration: hvsim + swtpm + LUKS2 + real shells
TESTS += tests/integration/hv-roundtrip.sh tests/integration/hv-guest-signals.sh
dist_check_SCRIPTS += tests/integration/hv-roundtrip.sh tests/integration/hv-guest-signals.sh
# Ownership tokens (issue 15 part B): hvsim with owner-ca, dom0's own bindings.
TESTS += tests/integration/hv-owner.sh
dist_check_SCRIPTS += tests/integration/hv-owner.sh

dist_man_MANS += man/sccrypt-hvsim.8

# libFuzzer harness for the hvsim configuration parser
fuzz_programs += tests/fuzz/fuzz_hv_conf
tests_fuzz_fuzz_hv_conf_SOURCES = tests/fuzz/fuzz_hv_conf.c hv/sim/conf.c hv/sim/conf.h
tests_fuzz_fuzz_hv_conf_CPPFLAGS = $(HV_CPPFLAGS)
tests_fuzz_fuzz_hv_conf_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_hv_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_hv_conf_LDADD = $(SC_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_hv_conf
UNIT_TESTS += tests/unit/test_hv_conf
TESTS += tests/unit/test_hv_conf
endif
tests_unit_test_hv_conf_SOURCES = tests/unit/test_hv_conf.c hv/sim/conf.c hv/sim/conf.h
tests_unit_test_hv_conf_CPPFLAGS = $(HV_CPPFLAGS)
tests_unit_test_hv_conf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hv_conf_LDADD = $(TEST_LIBS)
