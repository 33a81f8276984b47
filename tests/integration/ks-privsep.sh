#!/bin/sh
# ks-privsep.sh — the signing key is out of the network process's reach
# (issue 13 item 6): started as root with --user nobody, the network
# process runs as nobody and nobody cannot open signing.key; the signing
# process loads it as root, then drops to nobody too (or --signer-user)
# and is non-dumpable, so nobody cannot read its memory either; a key
# nobody can read, or one nobody put there, stops the server.  Needs root
# (exit 77 otherwise).
. "$top_srcdir/tests/lib.sh"

KS=$top_builddir/keyserver/sccrypt-keyserver
[ -x "$KS" ] || t_skip "keyserver not built"
[ "$(id -u)" = 0 ] || t_skip "needs root (to drop privileges to nobody)"
getent passwd nobody >/dev/null || t_skip "no user nobody"
t_need_cmds curl python3
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)

# Layout of the example unit: the state directory is root's (0711, so the
# network user can reach its own subdirectory), the data directory nobody's.
chmod 711 "$T_TMP"
S=$T_TMP/state
mkdir -m 711 "$S"
mkdir -m 700 "$S/data"
chown nobody "$S/data"
PORT=$(t_free_port)
start() {
	t_bg "$KS" -s "$S" --db "$S/data/keyserver.db" \
		--token-file "$S/data/operator.token" -l 127.0.0.1:$PORT \
		-u nobody "$@" 2>>"$T_TMP/ks.log"
	KSPID=$!
}
as_nobody() {	# as_nobody CMD...: run as nobody, no supplementary groups
	setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups "$@"
}
start
t_wait 100 curl -sf -m 2 "http://127.0.0.1:$PORT/v1/pubkey" -o /dev/null ||
	{ cat "$T_TMP/ks.log" >&2; t_fail "key server did not start"; }
uid_of() { awk '/^Uid:/ { print $3 }' "/proc/$1/status"; }
SIGNER=$(cat /proc/$KSPID/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -1)
[ -n "$SIGNER" ] || t_fail "no signing process"
[ "$(uid_of "$KSPID")" = "$NOBODY" ] || t_fail "network process runs as uid $(uid_of "$KSPID")"
[ "$(uid_of "$SIGNER")" = "$NOBODY" ] || t_fail "signing process runs as uid $(uid_of "$SIGNER")"
[ "$(stat -c %u:%a "$S/signing.key")" = 0:600 ] ||
	t_fail "signing key is $(stat -c %u:%a "$S/signing.key")"
! as_nobody cat "$S/signing.key" >/dev/null 2>&1 ||
	t_fail "the network process's user can read the signing key"
t_pass "network process and signer run as nobody; nobody cannot open signing.key"
# Same user, but the signer's memory is not nobody's to read (non-dumpable);
# a dumpable process of nobody's is (so the check can fail).
as_nobody sh -c 'cat /proc/$$/maps' >/dev/null || t_fail "control: nobody cannot read its own maps"
! as_nobody cat /proc/$SIGNER/maps >/dev/null 2>&1 ||
	t_fail "nobody can read the signing process's memory map"
! as_nobody cat /proc/$SIGNER/mem >/dev/null 2>&1 ||
	t_fail "nobody can read the signing process's memory"
t_pass "the signing process's memory is not readable by the network user"
kill "$KSPID"; wait "$KSPID" 2>/dev/null || true

# --signer-user: a user of its own for the signing process.
if getent passwd daemon >/dev/null && [ "$(id -u daemon)" != "$NOBODY" ]; then
	start --signer-user daemon
	t_wait 100 curl -sf -m 2 "http://127.0.0.1:$PORT/v1/pubkey" -o /dev/null ||
		{ cat "$T_TMP/ks.log" >&2; t_fail "key server did not start (--signer-user)"; }
	SIGNER=$(cat /proc/$KSPID/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -1)
	[ "$(uid_of "$SIGNER")" = "$(id -u daemon)" ] || t_fail "--signer-user not applied"
	[ "$(uid_of "$KSPID")" = "$NOBODY" ] || t_fail "network process not nobody"
	t_pass "--signer-user gives the signing process a user of its own"
	kill "$KSPID"; wait "$KSPID" 2>/dev/null || true
fi

# A key the network user can read, or one it put there, stops the server.
cp -p "$S/signing.key" "$T_TMP/key.save"
chmod 644 "$S/signing.key"
start
t_wait 100 sh -c "! kill -0 $KSPID" || t_fail "started with a world-readable key"
grep -q "signing key .*must be a regular file of this user, mode 0600" "$T_TMP/ks.log" ||
	{ cat "$T_TMP/ks.log" >&2; t_fail "no clear refusal for a readable key"; }
chmod 600 "$S/signing.key"
chown nobody "$S/signing.key"
: >"$T_TMP/ks.log"
start
t_wait 100 sh -c "! kill -0 $KSPID" || t_fail "started with a key nobody owns"
grep -q "must be a regular file of this user" "$T_TMP/ks.log" ||
	{ cat "$T_TMP/ks.log" >&2; t_fail "no clear refusal for a planted key"; }
t_pass "a readable or foreign signing key stops the server"

# Running the network process as the key's owner would defeat the point.
cp -p "$T_TMP/key.save" "$S/signing.key"
: >"$T_TMP/ks.log"
t_bg "$KS" -s "$S" --db "$S/data/keyserver.db" \
	--token-file "$S/data/operator.token" -l 127.0.0.1:$PORT \
	-u root 2>>"$T_TMP/ks.log"
KSPID=$!
t_wait 100 sh -c "! kill -0 $KSPID" || t_fail "network process may read the key"
grep -q "user root can open the signing key" "$T_TMP/ks.log" ||
	{ cat "$T_TMP/ks.log" >&2; t_fail "no clear refusal for --user root"; }
t_pass "a --user that can open the key is refused"
exit 0
