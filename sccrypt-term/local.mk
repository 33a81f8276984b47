# sccrypt-term build rules (included from the top Makefile.am).
#
# The program is split like tmux/mosh: escape.c (pure escape state machine),
# session*.c (protocol session, no I/O), policy.c (hv key trust), term.c
# (local terminal), transport*.c (pipe / pty / libssh), loop.c (the poll
# loop joining them), sinks.c (its callbacks), outq.c (the transport's
# output queue), info.c (~I), cmdline.c (~C), verbs*.c (subcommands),
# main.c.

TERM_CORE_SRCS = sccrypt-term/escape.c sccrypt-term/escape.h \
	sccrypt-term/screen.c sccrypt-term/screen.h \
	sccrypt-term/cleartext.c sccrypt-term/cleartext.h
TERM_PROTO_SRCS = sccrypt-term/session.c sccrypt-term/session.h \
	sccrypt-term/session_hs.c sccrypt-term/session_rec.c \
	sccrypt-term/session_ctl.c sccrypt-term/session_int.h \
	sccrypt-term/replay.c sccrypt-term/replay.h \
	sccrypt-term/policy.c sccrypt-term/policy.h



if BUILD_TERM
bin_PROGRAMS += sccrypt-term/sccrypt-term
sccrypt_term_sccrypt_term_SOURCES = sccrypt-term/main.c sccrypt-term/app.h \
	sccrypt-term/verbs.c sccrypt-term/verbs.h sccrypt-term/verbs_int.h \
	sccrypt-term/verbs_vm.c sccrypt-term/verbs_cert.c sccrypt-term/web.c sccrypt-term/web.h \
	sccrypt-term/loop.c sccrypt-term/sinks.c sccrypt-term/info.c \
	sccrypt-term/outq.c sccrypt-term/outq.h \
	sccrypt-term/cmdline.c sccrypt-term/hints.c \
	sccrypt-term/term.c sccrypt-term/term.h \
	sccrypt-term/prompt.c sccrypt-term/prompt.h \
	sccrypt-term/transport.c sccrypt-term/transport_ssh.c sccrypt-term/transport.h \
	$(TERM_CORE_SRCS) $(TERM_PROTO_SRCS)
sccrypt_term_sccrypt_term_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(LIBSSH_CFLAGS) \
	$(NCURSES_CFLAGS) $(READLINE_CFLAGS) -DSC_WEB_HTML='"$(pkgdatadir)/sccrypt-web.html"'
sccrypt_term_sccrypt_term_LDADD = $(SC_LIBS) $(LIBSSH_LIBS) $(NCURSES_LIBS) \
	$(READLINE_LIBS) $(LIBS)
if BUILD_ATTEST
# vm protect --keyserver: the ownership-token client (lib/ks/ks_ownercli.c)
sccrypt_term_sccrypt_term_CFLAGS += -DSC_TERM_OWNER_TOKENS $(JANSSON_CFLAGS)
sccrypt_term_sccrypt_term_LDADD += $(KS_COMMON_LIBS)
endif

# Test scaffolding (tests/helpers/, never installed): dom0 + hv for one
# session on stdin/stdout, and a tool that re-signs a real VMM certificate
# with changed fields.
check_PROGRAMS += tests/helpers/term-testpeer
tests_helpers_term_testpeer_SOURCES = tests/helpers/term-testpeer.c
tests_helpers_term_testpeer_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_helpers_term_testpeer_LDADD = $(SC_LIBS) $(LIBS)

check_PROGRAMS += tests/helpers/term-certtool
tests_helpers_term_certtool_SOURCES = tests/helpers/term-certtool.c
tests_helpers_term_certtool_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_helpers_term_certtool_LDADD = $(SC_LIBS) $(LIBS)
endif

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_term_escape
tests_unit_test_term_escape_SOURCES = tests/unit/test_term_escape.c $(TERM_CORE_SRCS)
tests_unit_test_term_escape_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_term_escape_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_term_escape
TESTS += tests/unit/test_term_escape

check_PROGRAMS += tests/unit/test_term_screen
tests_unit_test_term_screen_SOURCES = tests/unit/test_term_screen.c $(TERM_CORE_SRCS) \
	sccrypt-term/replay.c
tests_unit_test_term_screen_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_term_screen_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_term_screen
TESTS += tests/unit/test_term_screen

check_PROGRAMS += tests/unit/test_term_outq
tests_unit_test_term_outq_SOURCES = tests/unit/test_term_outq.c \
	sccrypt-term/outq.c sccrypt-term/outq.h
tests_unit_test_term_outq_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_term_outq_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=free
tests_unit_test_term_outq_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_term_outq
TESTS += tests/unit/test_term_outq

check_PROGRAMS += tests/unit/test_term_session
tests_unit_test_term_session_SOURCES = tests/unit/test_term_session.c $(TERM_PROTO_SRCS)
tests_unit_test_term_session_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_term_session_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_term_session
TESTS += tests/unit/test_term_session
endif

fuzz_programs += tests/fuzz/fuzz_term_escape
tests_fuzz_fuzz_term_escape_SOURCES = tests/fuzz/fuzz_term_escape.c $(TERM_CORE_SRCS)
tests_fuzz_fuzz_term_escape_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_term_escape_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_escape_LDADD = $(SC_LIBS)

fuzz_programs += tests/fuzz/fuzz_term_screen
tests_fuzz_fuzz_term_screen_SOURCES = tests/fuzz/fuzz_term_screen.c $(TERM_CORE_SRCS) \
	sccrypt-term/replay.c
tests_fuzz_fuzz_term_screen_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_term_screen_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_screen_LDADD = $(SC_LIBS)

fuzz_programs += tests/fuzz/fuzz_term_session
tests_fuzz_fuzz_term_session_SOURCES = tests/fuzz/fuzz_term_session.c $(TERM_PROTO_SRCS)
tests_fuzz_fuzz_term_session_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_term_session_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_session_LDADD = $(SC_LIBS)

# Integration tests (real tmux, OpenSSH sshd/ssh, socat on 127.0.0.1).
# term-real-lib.sh: the attested real stack (reuses attack-lib.sh's steps).
TESTS += tests/integration/term-tmux.sh tests/integration/term-ssh.sh \
	tests/integration/term-stack.sh tests/integration/term-cert.sh \
	tests/integration/term-session.sh tests/integration/term-status.sh \
	tests/integration/term-acl.sh tests/integration/term-sshauth.sh \
	tests/integration/term-script.sh tests/integration/term-spoof.sh \
	tests/integration/term-interrupt.sh tests/integration/term-refusals.sh \
	tests/integration/term-messages.sh tests/integration/term-wipe.sh
dist_check_SCRIPTS += tests/integration/term-tmux.sh tests/integration/term-ssh.sh \
	tests/integration/term-stack.sh tests/integration/term-cert.sh \
	tests/integration/term-session.sh tests/integration/term-status.sh \
	tests/integration/term-acl.sh tests/integration/term-sshauth.sh \
	tests/integration/term-lib.sh tests/integration/term-real-lib.sh \
	tests/integration/term-script.sh tests/integration/term-spoof.sh \
	tests/integration/term-interrupt.sh tests/integration/term-refusals.sh \
	tests/integration/term-messages.sh tests/integration/term-wipe.sh

# Man page
dist_man_MANS += man/sccrypt-term.1
