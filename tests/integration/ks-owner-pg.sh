#!/bin/sh
# ks-owner-pg.sh — ks-owner.sh with the key server on PostgreSQL.
KS_OWNER_DB=pg
export KS_OWNER_DB
. "$top_srcdir/tests/integration/ks-owner.sh"
