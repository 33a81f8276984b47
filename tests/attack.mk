# The dom0 attack suite and the "nothing lost" tests (issue 7): a hostile
# relay (tests/helpers/evil-relay) in the real stack, see docs/attacks.md.

check_PROGRAMS += tests/helpers/evil-relay
tests_helpers_evil_relay_SOURCES = tests/helpers/evil-relay.c
tests_helpers_evil_relay_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_helpers_evil_relay_LDADD = $(SC_LIBS)


# Integration tests (the real attested stack; see the headers of the scripts)
TESTS += tests/integration/attack-relay.sh tests/integration/nothing-lost.sh
dist_check_SCRIPTS += tests/integration/attack-relay.sh \
	tests/integration/nothing-lost.sh tests/integration/attack-lib.sh

EXTRA_DIST += docs/attacks.md

# docs/attacks.md's results table, generated from attack-relay.sh's output
# (build-aux/attacks-table; issue 18 item 13)
TESTS += tests/integration/attacks-table.sh
dist_check_SCRIPTS += tests/integration/attacks-table.sh
EXTRA_DIST += build-aux/attacks-table

# Faults on the dom0 path of a live session (issue 17)
TESTS += tests/integration/fault-relay.sh tests/integration/fault-disk.sh \
	tests/integration/fault-clock.sh tests/integration/fault-ks.sh \
	tests/integration/fault-attest.sh
dist_check_SCRIPTS += tests/integration/fault-relay.sh tests/integration/fault-disk.sh \
	tests/integration/fault-clock.sh tests/integration/fault-ks.sh \
	tests/integration/fault-attest.sh
