# Test infrastructure shared by all components.  Unit tests are cmocka
# programs listed in UNIT_TESTS (also run under ASan+UBSan in CI);
# integration tests are scripts listed in TESTS only.

TEST_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CMOCKA_CFLAGS)
TEST_LIBS = $(SC_LIBS) $(CMOCKA_LIBS)

AM_TESTS_ENVIRONMENT += \
	CC='$(CC)'; export CC; \
	FREESTANDING_CFLAGS='$(FREESTANDING_CFLAGS)'; export FREESTANDING_CFLAGS; \
	CORE_SRCS='$(CORE_SRCS)'; export CORE_SRCS; \
	HV_CORE_SRCS='$(HV_CORE_SRCS)'; export HV_CORE_SRCS;

TESTS += tests/freestanding-check
dist_check_SCRIPTS += tests/freestanding-check tests/lib.sh tests/integration/tmux-lib.sh
EXTRA_DIST += tests/vectors tests/fuzz/corpus
