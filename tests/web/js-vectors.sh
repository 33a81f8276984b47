#!/bin/sh
# The JavaScript Noise and record code (web/src, as bundled by make) against
# the same vector files as the C runner (tests/noise-vectors), plus the
# record-layer v2 checks; then negative controls: a changed ciphertext,
# handshake hash or payload must make the JS runner fail.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/web/lib.sh"
w_need_node

vectors="$top_srcdir/tests/vectors/cacophony-25519-chachapoly-blake2b.json"
out="$T_TMP/out"
rc=0
"$NODE" "$W/web-vectors.mjs" "$vectors" --records >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" -eq 0 ] || t_fail "web-vectors exited $rc"
tail -n 1 "$out" | grep -Eqx '[0-9]+ passed, 0 failed, [0-9]+ skipped' ||
    t_fail "bad summary line: $(tail -n 1 "$out")"
for p in Noise_IK_25519_ChaChaPoly_BLAKE2b Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b; do
	grep -qx "PASS $p" "$out" || t_fail "$p did not pass"
done
nvec=$(grep -c '^PASS Noise_' "$out" || true)
nrec=$(grep -c '^PASS record: ' "$out" || true)
[ "$nvec" -ge 59 ] || t_fail "only $nvec vectors passed"
[ "$nrec" -ge 5 ] || t_fail "only $nrec record checks passed"
t_pass "$nvec vectors and $nrec record checks passed in JS"

# The C runner and the JS runner agree on what passes.
if [ -x "$top_builddir/tests/noise-vectors" ]; then
	"$top_builddir/tests/noise-vectors" "$vectors" | grep '^PASS ' | sort >"$T_TMP/c"
	grep '^PASS Noise_' "$out" | sort >"$T_TMP/js"
	cmp -s "$T_TMP/c" "$T_TMP/js" || t_fail "C and JS runners pass different vectors: $(diff "$T_TMP/c" "$T_TMP/js" | head -5)"
	t_pass "C and JS runners pass the same $(wc -l <"$T_TMP/js") vectors"
fi

# Negative controls: the runner must notice a wrong byte.
"$NODE" - "$vectors" "$T_TMP" <<'JS'
const fs = require('fs');
const [src, dir] = process.argv.slice(2);
const d = JSON.parse(fs.readFileSync(src, 'utf8'));
const base = d.vectors.find((v) => v.protocol_name === 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b');
const flip = (h, i) => { const b = Buffer.from(h, 'hex'); b[i % b.length] ^= 1; return b.toString('hex'); };
for (const what of ['ciphertext', 'handshake_hash', 'payload', 'transport']) {
	const v = JSON.parse(JSON.stringify(base));
	if (what === 'handshake_hash') v.handshake_hash = flip(v.handshake_hash, 5);
	else if (what === 'transport') v.messages[3].ciphertext = flip(v.messages[3].ciphertext, 7);
	else v.messages[1][what] = flip(v.messages[1][what], 3);
	fs.writeFileSync(`${dir}/bad-${what}.json`, JSON.stringify({ vectors: [v] }));
}
JS
for what in ciphertext handshake_hash payload transport; do
	rc=0
	"$NODE" "$W/web-vectors.mjs" "$T_TMP/bad-$what.json" >"$out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || t_fail "JS runner accepted a vector with a changed $what"
	grep -q '^FAIL Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b: ' "$out" || t_fail "no FAIL line for a changed $what"
	grep -qx '0 passed, 1 failed, 0 skipped' "$out" || t_fail "bad summary for a changed $what"
	t_pass "changed $what detected: $(head -n 1 "$out")"
done
