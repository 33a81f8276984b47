# sccrypt-term build rules (included from the top Makefile.am).
#
# The program is split like tmux/mosh: escape.c (pure escape state machine),
# session.c (protocol session, no I/O), policy.c (hv key trust), and the
# terminal, transport, loop and verbs on top.

TERM_CORE_SRCS = sccrypt-term/escape.c sccrypt-term/escape.h

EXTRA_DIST += docs/protocol/client.md

if BUILD_UNIT_TESTS
check_PROGRAMS += tests/unit/test_term_escape
tests_unit_test_term_escape_SOURCES = tests/unit/test_term_escape.c $(TERM_CORE_SRCS)
tests_unit_test_term_escape_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_term_escape_LDADD = $(TEST_LIBS)
UNIT_TESTS += tests/unit/test_term_escape
TESTS += tests/unit/test_term_escape
endif

fuzz_programs += tests/fuzz/fuzz_term_escape
tests_fuzz_fuzz_term_escape_SOURCES = tests/fuzz/fuzz_term_escape.c $(TERM_CORE_SRCS)
tests_fuzz_fuzz_term_escape_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_term_escape_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_escape_LDADD = $(SC_LIBS)
