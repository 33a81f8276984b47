#!/bin/sh
# Key server benchmark (not a test, not run by make check).
#
#   tests/bench/keyserver/run.sh [SECONDS] [THREADS]
#
# Run from a configured build directory (or set top_builddir/top_srcdir).
# For each backend — sqlite (one server, embedded database), pg1 (one
# server on a PostgreSQL started here: initdb in a temp dir, unix socket,
# fsync on), pg2 (two servers on that database, the load split across
# them, every nonce redeemed at the other server) — measures, with the C
# load client ks-load on keep-alive connections:
#   cert_fetches_per_s   GET /v1/hosts/NAME/certificate
#   attestations_per_s   GET /v1/nonce + POST /v1/attest with a software
#                        AK (the server's full check + signing + storage)
# and, if swtpm is installed, on sqlite, the end-to-end agent with a real
# (software) TPM:
#   agent_attest_per_s   sccrypt-attest runs (process start, TPM quote,
#                        two HTTP requests, certificate verify and write)
# Output: "BACKEND name value" lines on stdout.  BACKENDS="sqlite pg1"
# in the environment picks some; PG_SYNC=off runs PostgreSQL with
# synchronous_commit=off (closer to SQLite's WAL + synchronous=NORMAL,
# which does not sync every commit either).
set -eu
SECS=${1:-5}
THREADS=${2:-4}
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}
export top_builddir top_srcdir
. "$top_srcdir/tests/lib.sh"

KS=$top_builddir/keyserver/sccrypt-keyserver
AT=$top_builddir/keyserver/sccrypt-attest
LOAD=$top_builddir/tests/bench/keyserver/ks-load
[ -x "$LOAD" ] || make -C "$top_builddir" tests/bench/keyserver/ks-load >/dev/null
[ -x "$KS" ] && [ -x "$LOAD" ] || t_skip "build the key server first"

BACKENDS=${BACKENDS:-sqlite pg1 pg2}
PIDS=""
# start_ks DIR PORT DB: one key server, waited for
start_ks() {
	mkdir -p "$1"
	t_bg "$KS" -s "$1" -l 127.0.0.1:$2 --db "$3" --threads "$THREADS" \
		--max-nonces 100000 --max-nonces-per-address 0 --per-ip-connections 0 \
		2>>"$1.log"
	PIDS="$PIDS $!"
	t_wait 300 curl -sf -m 2 "http://127.0.0.1:$2/v1/pubkey" -o /dev/null ||
		{ cat "$1.log" >&2; t_fail "key server did not start"; }
}
stop_ks() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do t_wait 100 sh -c "! kill -0 $p" || kill -9 "$p" 2>/dev/null || true; done
	PIDS=""
}

# End to end with swtpm, if present: agent_bench PORT (TOKEN set).
agent_bench() {
	command -v swtpm >/dev/null 2>&1 && command -v tpm2_pcrextend >/dev/null 2>&1 ||
		return 0
	PORT=$1
	t_start_swtpm
	"$AT" -q --create-ak --insecure-ak -n tpmhost >"$T_TMP/e2.json"
	head -c 32 /dev/urandom >"$T_TMP/hv.key"
	tpm2_pcrextend 15:sha256=$(sha256sum <"$T_TMP/hv.key" | cut -d' ' -f1) >/dev/null
	curl -sf -m 5 -H "Authorization: Bearer $TOKEN" --data-binary @"$T_TMP/e2.json" \
		"http://127.0.0.1:$PORT/v1/hosts" >/dev/null || t_fail "enroll tpmhost"
	curl -sf -m 5 "http://127.0.0.1:$PORT/v1/pubkey" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' >"$T_TMP/ks.pub"
	N=20
	t0=$(date +%s%N)
	i=0
	while [ $i -lt $N ]; do
		"$AT" -q -k http://127.0.0.1:$PORT -n tpmhost --hv-pubkey-file "$T_TMP/hv.key" \
			-K "$T_TMP/ks.pub" -o "$T_TMP/cert" || t_fail "agent run $i"
		i=$((i + 1))
	done
	t1=$(date +%s%N)
	python3 -c "print('sqlite agent_attest_per_s %.1f' % ($N * 1e9 / ($t1 - $t0)))"
}

echo "threads $THREADS"
for b in $BACKENDS; do
	D=$T_TMP/$b
	P1=$(t_free_port)
	case $b in
	sqlite)	start_ks "$D/a" $P1 "$D/a.db"; PORTS=$P1 ;;
	pg1|pg2)
		[ -n "${KS_PG_BIN+x}" ] || . "$top_srcdir/tests/integration/ks-pglib.sh"
		if [ -z "${PGURI:-}" ]; then
			ks_pg_start
			# A benchmark: durable commits, as in production.
			$KS_PG_RUN "$KS_PG_BIN/pg_ctl" -D "$KS_PG_DIR/data" -w stop >/dev/null
			$KS_PG_RUN "$KS_PG_BIN/pg_ctl" -D "$KS_PG_DIR/data" -w -l "$KS_PG_DIR/server.log" \
				-o "-c listen_addresses='' -k $KS_PG_DIR -c max_connections=100 -c synchronous_commit=${PG_SYNC:-on}" \
				start >/dev/null
		fi
		DB="postgresql:///$b?host=$KS_PG_DIR&user=ks"
		$KS_PG_RUN "$KS_PG_BIN/createdb" -h "$KS_PG_DIR" -U ks "$b" || t_fail "createdb"
		start_ks "$D/a" $P1 "$DB"
		PORTS=$P1
		if [ $b = pg2 ]; then
			P2=$(t_free_port)
			mkdir -p "$D/b"
			cp -p "$D/a/signing.key" "$D/a/operator.token" "$D/b/"
			start_ks "$D/b" $P2 "$DB"
			PORTS=$P1,$P2
		fi ;;
	*)	t_fail "unknown backend $b" ;;
	esac
	TOKEN=$(cat "$D/a/operator.token")
	"$LOAD" enroll bench "$D/ak.pem" >"$D/enroll.json"
	curl -sf -m 5 -H "Authorization: Bearer $TOKEN" --data-binary @"$D/enroll.json" \
		"http://127.0.0.1:$P1/v1/hosts" >/dev/null || t_fail "enroll"
	"$LOAD" attest $PORTS bench "$SECS" "$THREADS" "$D/ak.pem" | sed "s/^/$b /"
	"$LOAD" fetch $PORTS bench "$SECS" "$THREADS" | sed "s/^/$b /"
	[ $b != sqlite ] || agent_bench $P1
	stop_ks
done
