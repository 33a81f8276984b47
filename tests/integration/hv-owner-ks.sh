#!/bin/sh
# hv-owner-ks.sh — the tenant's self-service ownership token end to end on
# the simulated cloud: sccrypt-hvsim with the key server's owner CA
# (owner-ca), the key server with --owner-tokens on 127.0.0.1.  The
# operator registers vm1 -> the owner's key; the owner's `vm protect
# --keyserver` fetches the token through POST /v1/owner-tokens and binds
# vm1; dom0, with a key of its own (and vm1's disk key: the worst case),
# gets no token for vm1 and binds nothing; an unregistered VM gets no
# token either.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/dom0-lib.sh"
. "$top_srcdir/tests/integration/ks-lib.sh"
dom0_need_stack
TERM_BIN=$top_builddir/sccrypt-term/sccrypt-term
for p in "$TERM_BIN" "$KS"; do
	[ -x "$p" ] || t_skip "$(basename "$p") not built"
done
"$TERM_BIN" vm protect x --keyserver http://127.0.0.1:1 -- true 2>&1 |
	grep -q "built without the key server client" &&
	t_skip "sccrypt-term built without the key server client (jansson)"
t_need_cmds curl

# ---- the key server, serving ownership tokens --------------------------------
ks_start --owner-tokens
ks_owner_ca
dom0_owner_stack "$ca"

run() {	# run HOME ARGS...: a client with its own keystore; $rc, out, err
	h=$1; shift
	set +e
	SCCRYPT_HOME=$h "$TERM_BIN" "$@" </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
}
newuser() {	# newuser HOME VM UUID: keys and the VM file (with VM's disk key)
	mkdir -p "$1"; chmod 700 "$1"
	SCCRYPT_HOME=$1 "$TERM_BIN" keygen -N >/dev/null
	SCCRYPT_HOME=$1 "$TERM_BIN" vm init "$2" --uuid "$3" \
		--disk-key-file "$T_TMP/$2.vk" -N >/dev/null
}
pubhex() { awk '{ print $2 }' "$1/id_x25519.pub" | base64 -d | od -An -tx1 | tr -d ' \n'; }

OWNER=$T_TMP/owner
DOM0=$T_TMP/dom0
newuser "$OWNER" vm1 "$uuid1"
newuser "$DOM0" vm1 "$uuid1"

# ---- the operator registers vm1 -> the owner's key ---------------------------
register "$uuid1" "$(pubhex "$OWNER")"
expect 201 "" "operator registered vm1 to the owner's key"

# ---- dom0, with a key of its own, asks first ---------------------------------
run "$DOM0" --trust-hv-key "$fp" --pipe vm protect vm1 --keyserver "$URL" -- $SHIMCMD --protect vm1
[ "$rc" != 0 ] && grep -q "no ownership token from the key server" "$T_TMP/err" &&
    grep -q "owner_proof_invalid" "$T_TMP/err" ||
	{ cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "dom0's key got a token for vm1 (exit $rc)"; }
grep -q "is now protected" "$T_TMP/out" && t_fail "dom0 bound vm1"
t_pass "dom0's key gets no token for vm1, binds nothing"

# ---- the owner: token through the endpoint, vm protect succeeds --------------
run "$OWNER" --trust-hv-key "$fp" --pipe vm protect vm1 --keyserver "$URL" -- $SHIMCMD --protect vm1
[ "$rc" = 0 ] && grep -q "is now protected" "$T_TMP/out" ||
	{ cat "$T_TMP/out" "$T_TMP/err" "$T_TMP/ks.log" >&2; t_fail "the owner's vm protect --keyserver: exit $rc"; }
grep -q "audit: owner-token uuid=$uuid1 .*result=ok" "$T_TMP/ks.log" ||
	t_fail "no audit line for the owner's token"
dom0_owner_session "$OWNER" vm1
t_pass "the owner's vm protect fetched its token from the key server and bound vm1"

# ---- dom0 again, now on the protected VM; and an unregistered VM -------------
run "$DOM0" --trust-hv-key "$fp" --pipe vm protect vm1 --keyserver "$URL" -- $SHIMCMD --protect vm1
[ "$rc" != 0 ] && grep -q "owner_proof_invalid" "$T_TMP/err" ||
	{ cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "dom0 on the protected vm1 (exit $rc)"; }
newuser "$T_TMP/owner2" vm2 "$uuid2"
run "$T_TMP/owner2" --trust-hv-key "$fp" --pipe vm protect vm2 --keyserver "$URL" -- $SHIMCMD --protect vm2
[ "$rc" != 0 ] && grep -q "owner_proof_invalid" "$T_TMP/err" ||
	{ cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "unregistered vm2 got a token (exit $rc)"; }
t_pass "no token for dom0 on the protected VM, nor for an unregistered VM"
