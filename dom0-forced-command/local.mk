# dom0-forced-command build rules (included from the top Makefile.am)
# sccrypt-console: the sshd forced command / sudoers command (owner: dom0 work)

bin_PROGRAMS += dom0-forced-command/sccrypt-console
dom0_forced_command_sccrypt_console_SOURCES = \
	dom0-forced-command/shim.c dom0-forced-command/shim.h \
	dom0-forced-command/cmdparse.c dom0-forced-command/cmdparse.h \
	consoled/conf.c consoled/conf.h consoled/ctl.c consoled/ctl.h
dom0_forced_command_sccrypt_console_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) \
	-DSC_DEFAULT_CONF='"$(sysconfdir)/sccrypt/sccrypt.conf"'
dom0_forced_command_sccrypt_console_LDADD = $(SC_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_shim_parse
UNIT_TESTS += tests/unit/test_shim_parse
TESTS += tests/unit/test_shim_parse
endif
tests_unit_test_shim_parse_SOURCES = tests/unit/test_shim_parse.c \
	dom0-forced-command/cmdparse.c consoled/ctl.c
tests_unit_test_shim_parse_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dom0-forced-command
tests_unit_test_shim_parse_LDADD = $(TEST_LIBS)

fuzz_programs += tests/fuzz/fuzz_shim_cmd
tests_fuzz_fuzz_shim_cmd_SOURCES = tests/fuzz/fuzz_shim_cmd.c \
	dom0-forced-command/cmdparse.c consoled/ctl.c
tests_fuzz_fuzz_shim_cmd_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/dom0-forced-command
tests_fuzz_fuzz_shim_cmd_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_shim_cmd_LDADD = $(SC_LIBS)
