#!/bin/sh
# Key server benchmark (not a test, not run by make check).
#
#   tests/bench/keyserver/run.sh [SECONDS] [THREADS]
#
# Run from a configured build directory (or set top_builddir/top_srcdir).
# Starts sccrypt-keyserver on a free loopback port and measures, with the
# C load client ks-load on keep-alive connections:
#   cert_fetches_per_s   GET /v1/hosts/NAME/certificate
#   attestations_per_s   GET /v1/nonce + POST /v1/attest with a software
#                        AK (the server's full check + signing + storage)
# and, if swtpm is installed, the end-to-end agent with a real (software) TPM:
#   agent_attest_per_s   sccrypt-attest runs (process start, TPM quote,
#                        two HTTP requests, certificate verify and write)
# Output: "name value" lines on stdout.
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

PORT=$(t_free_port)
mkdir -p "$T_TMP/ks"
t_bg "$KS" -s "$T_TMP/ks" -l 127.0.0.1:$PORT --threads "$THREADS" \
	--max-nonces 100000 --max-nonces-per-address 0 --per-ip-connections 0 \
	2>"$T_TMP/ks.log"
t_wait 100 curl -sf -m 2 "http://127.0.0.1:$PORT/v1/pubkey" -o /dev/null ||
	t_fail "key server did not start"
TOKEN=$(cat "$T_TMP/ks/operator.token")

"$LOAD" enroll bench "$T_TMP/ak.pem" >"$T_TMP/enroll.json"
curl -sf -m 5 -H "Authorization: Bearer $TOKEN" --data-binary @"$T_TMP/enroll.json" \
	"http://127.0.0.1:$PORT/v1/hosts" >/dev/null || t_fail "enroll"

echo "threads $THREADS"
"$LOAD" attest $PORT bench "$SECS" "$THREADS" "$T_TMP/ak.pem"
"$LOAD" fetch $PORT bench "$SECS" "$THREADS"

# End to end with swtpm, if present.
if command -v swtpm >/dev/null 2>&1 && command -v tpm2_pcrextend >/dev/null 2>&1; then
	t_start_swtpm
	"$AT" -q --create-ak -n tpmhost >"$T_TMP/e2.json"
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
	python3 -c "print('agent_attest_per_s %.1f' % ($N * 1e9 / ($t1 - $t0)))"
fi
