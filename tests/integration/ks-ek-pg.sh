#!/bin/sh
# ks-ek-pg.sh — ks-ek.sh with the key server on PostgreSQL.
KS_EK_DB=pg
export KS_EK_DB
. "$top_srcdir/tests/integration/ks-ek.sh"
