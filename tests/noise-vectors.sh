#!/bin/sh
# Replay the published Noise vectors (tests/vectors/) through lib/core/noise.c
# with tests/noise-vectors.  Every supported vector must pass, and IK and
# IKpsk2 (the SCCrypt handshake) must be among them.  Then check that the
# runner really compares: a vector file with one ciphertext byte changed, and
# one with the handshake hash changed, must each make it fail.
. "${top_srcdir:-.}/tests/lib.sh"

runner="$top_builddir/tests/noise-vectors"
vectors="$top_srcdir/tests/vectors/cacophony-25519-chachapoly-blake2b.json"
out="$T_TMP/out"

rc=0
"$runner" "$vectors" >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" -eq 0 ] || t_fail "noise-vectors exited $rc"
tail -n 1 "$out" | grep -Eqx '[0-9]+ passed, 0 failed, [0-9]+ skipped' ||
    t_fail "bad summary line: $(tail -n 1 "$out")"
for p in Noise_IK_25519_ChaChaPoly_BLAKE2b Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b; do
	grep -qx "PASS $p" "$out" || t_fail "$p did not pass"
done
npass=$(grep -c '^PASS ' "$out" || true)
[ "$npass" -gt 0 ] || t_fail "no vector passed"
t_pass "$npass vectors passed"

# Negative controls: the runner must notice a wrong byte.
command -v python3 >/dev/null 2>&1 || t_skip "python3 needed for the negative controls"
for what in ciphertext handshake_hash payload; do
	python3 - "$vectors" "$T_TMP/bad.json" "$what" <<'PY'
import json, sys
src, dst, what = sys.argv[1:4]
d = json.load(open(src))
keep = [v for v in d["vectors"]
        if v["protocol_name"] == "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"]
v = keep[0]
def flip(h, i):
    b = bytearray.fromhex(h); b[i % len(b)] ^= 0x01; return b.hex()
if what == "handshake_hash":
    v["handshake_hash"] = flip(v["handshake_hash"], 5)
else:
    m = v["messages"][1]            # message 2 of the handshake
    m[what] = flip(m[what], 3)
json.dump({"vectors": [v]}, open(dst, "w"))
PY
	rc=0
	"$runner" "$T_TMP/bad.json" >"$out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || t_fail "runner accepted a vector with a changed $what"
	grep -q '^FAIL Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b: ' "$out" ||
	    t_fail "no FAIL line for a changed $what"
	grep -qx '0 passed, 1 failed, 0 skipped' "$out" ||
	    t_fail "bad summary for a changed $what"
	t_pass "changed $what detected: $(head -n 1 "$out")"
done
