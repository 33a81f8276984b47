#!/bin/sh
# ks-store-pg.sh — the storage contract suite (tests/unit/test_ks_store)
# against a real PostgreSQL server, the same suite SQLite passes.
. "$top_srcdir/tests/lib.sh"
T=$top_builddir/tests/unit/test_ks_store
[ -x "$T" ] || t_skip "test_ks_store not built (cmocka)"
. "$top_srcdir/tests/integration/ks-pglib.sh"
ks_pg_start
KS_TEST_PG=$PGURI "$T" || t_fail "storage contract on PostgreSQL"
t_pass "storage contract on PostgreSQL"
