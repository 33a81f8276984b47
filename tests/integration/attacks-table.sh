#!/bin/sh
# attacks-table.sh — build-aux/attacks-table (issue 18 item 13): the results
# table of docs/attacks.md is made from ATTACK-RESULT lines; --check fails
# when the committed block differs, --update rewrites only the block, and the
# committed docs/attacks.md has exactly one block to generate.
. "$top_srcdir/tests/lib.sh"
AT=$top_srcdir/build-aux/attacks-table
BEGIN=$(sed -n "s/^BEGIN='\(.*\)'$/\1/p" "$AT")
END=$(sed -n "s/^END='\(.*\)'$/\1/p" "$AT")
[ -n "$BEGIN" ] && [ -n "$END" ] || t_fail "markers not found in the script"

cat >"$T_TMP/doc" <<EOF2
# title
hand-written before
$BEGIN
| stale | row | exit 3 "BYE" |
$END
hand-written after (another helper's subsection)
EOF2
cat >"$T_TMP/log" <<'EOF2'
ok: something else
ATTACK-RESULT|flip an input record|the hv rejects it|5|protocol violation|
ATTACK-RESULT|baseline (no attack)|session works|0||
ATTACK-RESULT|drop an input record|the hv rejects it|3|the relay closed|client exit 3, expected 5
EOF2
if "$AT" --check "$T_TMP/doc" "$T_TMP/log" 2>"$T_TMP/err"; then
	t_fail "--check passed a stale table"
fi
grep -q '^-| stale | row | exit 3 "BYE" |' "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "--check: no diff shown"; }
cp "$T_TMP/doc" "$T_TMP/doc.orig"
"$AT" --update "$T_TMP/doc" "$T_TMP/log" || t_fail "--update"
"$AT" --check "$T_TMP/doc" "$T_TMP/log" || t_fail "--check after --update"
grep -qxF '| flip an input record | the hv rejects it | exit 5 "protocol violation" |' "$T_TMP/doc" ||
	{ cat "$T_TMP/doc" >&2; t_fail "row with a message"; }
grep -qxF '| baseline (no attack) | session works | exit 0 |' "$T_TMP/doc" || t_fail "row without a message"
grep -qxF '| drop an input record | the hv rejects it | **FAIL** (client exit 3, expected 5): exit 3 "the relay closed" |' \
	"$T_TMP/doc" || { cat "$T_TMP/doc" >&2; t_fail "FAIL row"; }
# outside the markers: untouched
sed "/^$(printf '%s' "$BEGIN" | sed 's/[][\/.*^$]/\\&/g')\$/,/^$END\$/d" "$T_TMP/doc" >"$T_TMP/outside.new"
sed "/^$(printf '%s' "$BEGIN" | sed 's/[][\/.*^$]/\\&/g')\$/,/^$END\$/d" "$T_TMP/doc.orig" >"$T_TMP/outside.old"
cmp -s "$T_TMP/outside.old" "$T_TMP/outside.new" || t_fail "--update changed text outside the block"
# no lines: refused, nothing written
: >"$T_TMP/empty"
cp "$T_TMP/doc" "$T_TMP/doc.before"
if "$AT" --update "$T_TMP/doc" "$T_TMP/empty" 2>/dev/null; then t_fail "--update without results"; fi
cmp -s "$T_TMP/doc" "$T_TMP/doc.before" || t_fail "--update without results changed the document"
t_pass "attacks-table: --check catches a stale table, --update rewrites only the block"

# the real document: one block, and it says nothing the suite did not print
[ "$(grep -cxF "$BEGIN" "$top_srcdir/docs/attacks.md")" = 1 ] &&
[ "$(grep -cxF "$END" "$top_srcdir/docs/attacks.md")" = 1 ] || t_fail "docs/attacks.md: not one generated block"
awk -v b="$BEGIN" -v e="$END" '$0 == b { f = 1; next } $0 == e { f = 0 } f' "$top_srcdir/docs/attacks.md" |
	grep -v '^| attack (test case) |\|^|---|' >"$T_TMP/rows"
[ -s "$T_TMP/rows" ] || t_fail "docs/attacks.md: the generated block is empty"
grep -q 'FAIL' "$T_TMP/rows" && t_fail "docs/attacks.md: the committed table has FAIL rows"
t_pass "docs/attacks.md: one generated results block, $(wc -l <"$T_TMP/rows") rows, no FAIL"
