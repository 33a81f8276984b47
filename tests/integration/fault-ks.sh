#!/bin/sh
# fault-ks.sh — faults under the key server (issue 17, "faults survived"):
#   1. its database's disk fills up: a write (an enrollment) is refused with
#      a clear HTTP error, the server keeps answering, the database is intact
#      (SQLite's own journal: integrity_check ok, earlier rows there), and
#      the same write works once space is free;
#   2. kill -9 in the middle of a stream of writes: the stale pid file and
#      socket do not stop a restart on the same state, the database is
#      intact, every enrollment that was answered 201 is there, new writes
#      work.
# SQLite engine, no TPM (enrollment with an insecure software AK).
# Needs root (tmpfs mount).
. "$top_srcdir/tests/lib.sh"

KS=$top_builddir/keyserver/sccrypt-keyserver
[ -x "$KS" ] || t_skip "keyserver not built"
t_need_cmds curl python3 sqlite3 openssl
[ "$(id -u)" = 0 ] || t_skip "needs root (tmpfs mount)"
mkdir -p "$T_TMP/ks"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$T_TMP/ks" 2>/dev/null || t_skip "cannot mount a tmpfs"
# (set -e holds in the trap too: every step there must not fail)
ks_stop() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $T_PIDS; do wait "$p" 2>/dev/null || true; done
	umount "$T_TMP/ks" 2>/dev/null || true
}
trap 'ks_stop; t_cleanup' EXIT

KSPORT=$(t_free_port)
URL=http://127.0.0.1:$KSPORT
ks_start() {
	t_bg "$KS" -s "$T_TMP/ks" -l 127.0.0.1:$KSPORT -S "$T_TMP/ks/op.sock" 2>>"$T_TMP/ks.log"
	KSPID=$!
	t_wait 150 curl -sf -m 2 "$URL/v1/pubkey" -o /dev/null ||
	    { tail "$T_TMP/ks.log" >&2; t_fail "key server did not start"; }
}
op() {	# op METHOD PATH [curl args]: operator request; status in $ST
	m=$1; p=$2; shift 2
	ST=$(curl -s -m 20 -o "$T_TMP/resp" -w '%{http_code}' -X "$m" \
		--unix-socket "$T_TMP/ks/op.sock" "$@" "http://localhost$p")
}
openssl ecparam -name prime256v1 -genkey -noout -out "$T_TMP/ak.pem" 2>/dev/null
openssl ec -in "$T_TMP/ak.pem" -pubout -out "$T_TMP/ak.pub" 2>/dev/null
Z=$(printf '0%.0s' $(seq 64))
enroll() {	# enroll NAME: POST /v1/hosts; status in $ST
	python3 -c 'import json, sys
print(json.dumps({"name": sys.argv[1], "ak_public": open(sys.argv[2]).read(),
  "insecure_ak": True,
  "policy": {"bank": "sha256", "pcrs": {"0": sys.argv[3], "7": sys.argv[3]},
             "key_pcr": 15}}))' "$1" "$T_TMP/ak.pub" "$Z" >"$T_TMP/enroll.json"
	op POST /v1/hosts --data-binary @"$T_TMP/enroll.json"
}
db_ok() {	# the database is intact and holds host NAME
	[ "$(sqlite3 "$T_TMP/ks/keyserver.db" 'PRAGMA integrity_check;')" = ok ] &&
	    sqlite3 "$T_TMP/ks/keyserver.db" "SELECT name FROM hosts;" | grep -qx "$1"
}

ks_start
enroll host1
[ "$ST" = 201 ] || { cat "$T_TMP/resp" >&2; t_fail "enroll host1: HTTP $ST"; }

# ---- 1. disk full -------------------------------------------------------------
dd if=/dev/zero of="$T_TMP/ks/fill" bs=4k 2>/dev/null || true
enroll host2
case $ST in
5??) ;;
*) cat "$T_TMP/resp" >&2; t_fail "enrollment on a full disk: HTTP $ST, expected 5xx" ;;
esac
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d.get("error"), d' "$T_TMP/resp" ||
    { cat "$T_TMP/resp" >&2; t_fail "full disk: the answer is not a JSON error"; }
full_st=$ST full_err=$(cat "$T_TMP/resp")
curl -sf -m 5 "$URL/v1/pubkey" -o /dev/null || t_fail "the key server stopped answering on a full disk"
op GET /v1/hosts
[ "$ST" = 200 ] && grep -q host1 "$T_TMP/resp" || t_fail "host1 not listed on a full disk"
rm -f "$T_TMP/ks/fill"
db_ok host1 || t_fail "the database is damaged after the full disk"
enroll host2
[ "$ST" = 201 ] || { cat "$T_TMP/resp" >&2; t_fail "enroll host2 once space is free: HTTP $ST"; }
t_pass "database disk full: HTTP $full_st $full_err; the server answers, the database is intact, the write works once space is free"

# ---- 2. kill -9 under a stream of writes ----------------------------------------
: >"$T_TMP/answered"
(
	i=0
	while [ $i -lt 200 ]; do
		i=$((i + 1))
		enroll "burst$i"
		[ "$ST" = 201 ] && echo "burst$i" >>"$T_TMP/answered"
	done
) &
burst=$!
t_wait 300 sh -c "[ \$(wc -l <'$T_TMP/answered') -ge 5 ]" || t_fail "no enrollment answered"
kill -9 "$KSPID"
wait "$burst" 2>/dev/null || true
wait "$KSPID" 2>/dev/null || true
n=$(wc -l <"$T_TMP/answered")
ks_start
db_ok host2 || t_fail "the database is damaged after kill -9"
for h in $(cat "$T_TMP/answered"); do
	sqlite3 "$T_TMP/ks/keyserver.db" "SELECT name FROM hosts;" | grep -qx "$h" ||
	    t_fail "$h was answered 201 before the kill and is gone"
done
enroll host3
[ "$ST" = 201 ] || { cat "$T_TMP/resp" >&2; t_fail "enroll after the restart: HTTP $ST"; }
t_pass "key server killed (-9) under writes: restarts on the same state, database intact, all $n answered enrollments kept, new writes work"
