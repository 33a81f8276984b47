#!/bin/sh
# ks-limits.sh — what a network client without credentials can make the
# key server do (issue 12 item 6, issue 13 items 3, 4, 6, 10): exhaust the
# nonce table, grow the audit trail, learn which hosts are enrolled, spoof
# its address past a reverse proxy, enroll a policy that protects nothing;
# and, as root, that the network process cannot read the signing key.
# No TPM needed: nothing here gets as far as a valid quote.
. "$top_srcdir/tests/lib.sh"

KS=$top_builddir/keyserver/sccrypt-keyserver
[ -x "$KS" ] || t_skip "keyserver not built"
t_need_cmds curl python3 sqlite3 openssl

KSPORT=$(t_free_port)
URL=http://127.0.0.1:$KSPORT
mkdir -p "$T_TMP/ks"
chmod 700 "$T_TMP/ks"
# 127.0.0.3 is the trusted reverse proxy.
t_bg "$KS" -s "$T_TMP/ks" -l 127.0.0.1:$KSPORT -S "$T_TMP/ks/op.sock" \
	--trusted-proxy 127.0.0.3 2>>"$T_TMP/ks.log"
KSPID=$!
t_wait 100 curl -sf -m 2 "$URL/v1/pubkey" -o /dev/null ||
	{ cat "$T_TMP/ks.log" >&2; t_fail "key server did not start"; }
op() {	# op METHOD PATH [curl args]: operator request; status in $ST
	m=$1; p=$2; shift 2
	ST=$(curl -s -m 10 -o "$T_TMP/resp" -w '%{http_code}' -X "$m" \
		--unix-socket "$T_TMP/ks/op.sock" "$@" "http://localhost$p")
}

# ---- one server per state directory and operator socket (issue 17) ----
set +e
timeout 60 "$KS" -s "$T_TMP/ks" -l none -S "$T_TMP/ks/op2.sock" 2>"$T_TMP/ks2.log"
rc=$?
set -e
[ "$rc" != 0 ] && grep -q "already running, pid $KSPID" "$T_TMP/ks2.log" ||
	{ cat "$T_TMP/ks2.log" >&2; t_fail "a second key server on the same state directory: exit $rc"; }
mkdir -m 700 "$T_TMP/ks3"
set +e
timeout 60 "$KS" -s "$T_TMP/ks3" -l none -S "$T_TMP/ks/op.sock" 2>"$T_TMP/ks3.log"
rc=$?
set -e
[ "$rc" != 0 ] && grep -q "op.sock is in use" "$T_TMP/ks3.log" ||
	{ cat "$T_TMP/ks3.log" >&2; t_fail "a key server on a live operator socket: exit $rc"; }
op GET /v1/hosts
[ "$ST" = 200 ] || t_fail "the first key server's operator socket after the refusals: $ST"
t_pass "a second key server refuses: same state directory (already running, pid $KSPID), live operator socket (in use)"

# ---- enrollment refuses policies that protect nothing (issue 12 item 6) ----
openssl ecparam -name prime256v1 -genkey -noout -out "$T_TMP/ak.pem" 2>/dev/null
openssl ec -in "$T_TMP/ak.pem" -pubout -out "$T_TMP/ak.pub" 2>/dev/null
enroll_body() {	# enroll_body NAME PCRS-JSON KEYPCR
	python3 -c 'import json, sys
print(json.dumps({"name": sys.argv[1], "ak_public": open(sys.argv[2]).read(),
  "insecure_ak": True,
  "policy": {"bank": "sha256", "pcrs": json.loads(sys.argv[3]),
             "key_pcr": int(sys.argv[4])}}))' "$1" "$T_TMP/ak.pub" "$2" "$3" \
		>"$T_TMP/enroll.json"
}
Z=$(printf '0%.0s' $(seq 64))
for bad in "{\"0\":\"$Z\"} 16" "{\"0\":\"$Z\"} 23" "{\"0\":\"$Z\"} 20" "{} 15" \
    "{\"16\":\"$Z\"} 15"; do
	enroll_body host1 $bad
	op POST /v1/hosts --data-binary @"$T_TMP/enroll.json"
	[ "$ST" = 400 ] && grep -q invalid_field "$T_TMP/resp" ||
		{ cat "$T_TMP/resp" >&2; t_fail "enrolled with policy $bad: HTTP $ST"; }
done
enroll_body host1 "{\"0\":\"$Z\",\"7\":\"$Z\"}" 15
op POST /v1/hosts --data-binary @"$T_TMP/enroll.json"
[ "$ST" = 201 ] || { cat "$T_TMP/resp" >&2; t_fail "valid enrollment: HTTP $ST"; }
t_pass "resettable key PCRs and empty boot policies are refused"

# ---- the nonce answer says nothing about hosts (issue 13 item 10) ----
keys() { curl -sf -m 5 --interface 127.0.0.4 "$URL/v1/nonce$1" | python3 -c 'import json, sys
print(sorted(json.load(sys.stdin)))'; }
a=$(keys "?host=host1"); b=$(keys "?host=nosuchhost"); c=$(keys "")
[ "$a" = "$b" ] && [ "$b" = "$c" ] && [ "$a" = "['expires', 'nonce']" ] ||
	t_fail "nonce answers differ: $a / $b / $c"
t_pass "GET /v1/nonce answers the same for enrolled and unknown hosts"

# ---- one address cannot exhaust the nonce table (issue 13 item 3) ----
# nonces SRC COUNT [HEADER]: COUNT requests on one keep-alive connection
# from SRC; prints "status:count" pairs.
nonces() {
	python3 - "$KSPORT" "$@" <<'PY'
import collections, http.client, sys
port, src, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
hdr = {"X-Forwarded-For": sys.argv[4]} if len(sys.argv) > 4 else {}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                               source_address=(src, 0))
seen = collections.Counter()
for _ in range(count):
    c.request("GET", "/v1/nonce", headers=hdr)
    r = c.getresponse(); r.read(); seen[r.status] += 1
print(" ".join("%d:%d" % kv for kv in sorted(seen.items())))
PY
}
# Fresh counts: the enrollment above took no nonce.
t0=$(date +%s)
r=$(nonces 127.0.0.1 4097)
t1=$(date +%s)
[ "$r" = "200:16 429:4081" ] || t_fail "4097 nonces from one address: $r"
r=$(nonces 127.0.0.2 1)
[ "$r" = "200:1" ] || t_fail "another address after the flood: $r"
t_pass "4097 nonce requests from one address: 16 served, then 429; another address still served"
# At most 20 refusal lines a second (however slow this machine is).
n=$(grep -c "nonce refused" "$T_TMP/ks.log" || true)
[ "$n" -le $((20 * (t1 - t0 + 1))) ] && [ "$n" -lt 4081 ] ||
	t_fail "$n log lines for 4081 refusals in $((t1 - t0 + 1)) s"
t_pass "a flood of refusals is not a flood of log lines ($n in $((t1 - t0 + 1)) s)"

# ---- behind the trusted proxy, its header names the client ----
r=$(nonces 127.0.0.3 17 198.51.100.7)
[ "$r" = "200:16 429:1" ] || t_fail "proxied client A: $r"
r=$(nonces 127.0.0.3 1 198.51.100.8)
[ "$r" = "200:1" ] || t_fail "proxied client B after A's quota: $r"
# Not from the proxy: the header is ignored (127.0.0.2 has 15 left).
r=$(nonces 127.0.0.2 15 198.51.100.9)
[ "$r" = "200:15" ] || t_fail "untrusted sender's header: $r"
r=$(nonces 127.0.0.2 1 198.51.100.9)
[ "$r" = "429:1" ] || t_fail "untrusted sender escaped its quota with a header: $r"
t_pass "per-address quota follows the trusted proxy's header, and only its"

# ---- the audit trail does not grow for unknown hosts (issue 13 item 4) ----
# attest HOST SRC [XFF [COUNT]]: bad quotes (HOST-1, HOST-2.. when COUNT
# is given); prints the HTTP statuses as "status:count" pairs.
attest() {
	python3 - "$KSPORT" "$@" <<'PY'
import base64, collections, http.client, json, sys
port, host, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
hdr = {"Content-Type": "application/json"}
if len(sys.argv) > 4 and sys.argv[4]: hdr["X-Forwarded-For"] = sys.argv[4]
count = int(sys.argv[5]) if len(sys.argv) > 5 else 0
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                               source_address=(src, 0))
seen = collections.Counter()
for i in range(max(count, 1)):
    body = json.dumps({"host": "%s-%d" % (host, i) if count else host,
        "quote": base64.b64encode(b"\xee" * 64).decode(),
        "signature": base64.b64encode(b"\x00" * 8).decode(), "bank": "sha256",
        "pcrs": {"0": "00" * 32}, "hv_pubkey": "11" * 32})
    c.request("POST", "/v1/attest", body=body, headers=hdr)
    r = c.getresponse(); r.read(); seen[r.status] += 1
print(" ".join("%d:%d" % kv for kv in sorted(seen.items())))
PY
}
rows() { sqlite3 "$T_TMP/ks/keyserver.db" "SELECT count(*) FROM attest_log${1:-}"; }
r=$(attest nosuchhost 127.0.0.2 "" 200)
[ "$r" = "400:200" ] || t_fail "bad quotes for unknown hosts: $r"
[ "$(rows)" = 0 ] || t_fail "$(rows) audit rows for hosts that are not enrolled"
t_pass "bad quotes for unknown hosts write no audit row"
[ "$(attest host1 127.0.0.3 203.0.113.5)" = 400:1 ] || t_fail "bad quote not 400"
[ "$(rows " WHERE host = 'host1'")" = 1 ] || t_fail "enrolled host's attempt not recorded"
grep -q "audit: attest host=host1 peer=203.0.113.5 proxy=127.0.0.3 result=quote_malformed" \
	"$T_TMP/ks.log" || t_fail "audit line does not name the proxied client"
[ "$(attest host1 127.0.0.2 203.0.113.5)" = 400:1 ] || t_fail "bad quote not 400"
grep -q "audit: attest host=host1 peer=127.0.0.2 result=quote_malformed" \
	"$T_TMP/ks.log" || t_fail "untrusted sender's header believed in the audit log"
t_pass "audit rows for enrolled hosts only; audit lines name the proxied client"

kill "$KSPID"; wait "$KSPID" 2>/dev/null || true
! grep -q "Sanitizer" "$T_TMP/ks.log" || { cat "$T_TMP/ks.log" >&2; t_fail "sanitizer report"; }
exit 0
