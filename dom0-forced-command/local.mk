# dom0-forced-command build rules (included from the top Makefile.am)
# sccrypt-console: the sshd forced command / sudoers command (owner: dom0 work)

bin_PROGRAMS += dom0-forced-command/sccrypt-console
dom0_forced_command_sccrypt_console_SOURCES = \
	dom0-forced-command/shim.c dom0-forced-command/shim.h \
	dom0-forced-command/cmdparse.c dom0-forced-command/cmdparse.h
dom0_forced_command_sccrypt_console_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) \
	-DSC_DEFAULT_CONF='"$(sysconfdir)/sccrypt/sccrypt.conf"'
dom0_forced_command_sccrypt_console_LDADD = $(SC_LIBS)

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_shim_parse
UNIT_TESTS += tests/unit/test_shim_parse
TESTS += tests/unit/test_shim_parse
endif
tests_unit_test_shim_parse_SOURCES = tests/unit/test_shim_parse.c \
	dom0-forced-command/cmdparse.c
tests_unit_test_shim_parse_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/dom0-forced-command
tests_unit_test_shim_parse_LDADD = $(TEST_LIBS)

fuzz_programs += tests/fuzz/fuzz_shim_cmd
tests_fuzz_fuzz_shim_cmd_SOURCES = tests/fuzz/fuzz_shim_cmd.c \
	dom0-forced-command/cmdparse.c
tests_fuzz_fuzz_shim_cmd_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/dom0-forced-command
tests_fuzz_fuzz_shim_cmd_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_shim_cmd_LDADD = $(SC_LIBS)

# ---- make install: examples, the systemd unit, the xenconsole link ----
# (issue 18 item 10).  Paths are substituted at install time, so that
# "make install prefix=... sysconfdir=..." and DESTDIR are honoured.  The
# unit goes to $(systemdunitdir) (override: make systemdunitdir=DIR).
systemdunitdir = $(prefix)/lib/systemd/system
sccryptexampledir = $(docdir)/examples
SC_EXAMPLES_IN = dom0-forced-command/examples/sccrypt.conf \
	dom0-forced-command/examples/sudoers.in \
	dom0-forced-command/examples/sshd_config.in
EXTRA_DIST += $(SC_EXAMPLES_IN)

sc_subst = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g'

install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(sccryptexampledir)' '$(DESTDIR)$(systemdunitdir)'
	for f in $(SC_EXAMPLES_IN); do \
	    b=$$(basename "$$f" .in); \
	    $(sc_subst) "$(srcdir)/$$f" >'$(DESTDIR)$(sccryptexampledir)'/"$$b" || exit 1; \
	    chmod 644 '$(DESTDIR)$(sccryptexampledir)'/"$$b"; \
	done
	$(sc_subst) '$(srcdir)/consoled/sccrypt-consoled.service.in' \
	    >'$(DESTDIR)$(systemdunitdir)/sccrypt-consoled.service'
	chmod 644 '$(DESTDIR)$(systemdunitdir)/sccrypt-consoled.service'
uninstall-local:
	for f in $(SC_EXAMPLES_IN); do \
	    rm -f '$(DESTDIR)$(sccryptexampledir)'/"$$(basename "$$f" .in)"; \
	done
	rm -f '$(DESTDIR)$(systemdunitdir)/sccrypt-consoled.service'

# xenconsole: sccrypt-console under the habitual name (it dispatches on
# argv[0]); in $(pkglibexecdir), not on PATH, so that it never shadows
# Xen's own xenconsole: link it where tenants expect it, or use the sudoers
# and sshd_config examples, which name it.
install-exec-hook:
	$(MKDIR_P) '$(DESTDIR)$(pkglibexecdir)'
	cd '$(DESTDIR)$(pkglibexecdir)' && rm -f xenconsole && \
	    ln -s '$(bindir)/sccrypt-console' xenconsole
uninstall-hook:
	rm -f '$(DESTDIR)$(pkglibexecdir)/xenconsole'
# The shim polls once per direction per keystroke (issue 17, the load tail).
TESTS += tests/integration/dom0-shim-polls.sh
dist_check_SCRIPTS += tests/integration/dom0-shim-polls.sh
