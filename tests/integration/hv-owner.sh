#!/bin/sh
# hv-owner.sh — ownership that dom0 cannot forge (docs/xen.md §4 item 6), on
# sccrypt-hvsim configured with the key server's owner CA (owner-ca, the
# stand-in for Xen's measured sccrypt-owner-ca=):
#   - dom0, as root on the ops socket with everything it holds (the disk
#     key too: the worst case), binds credentials of its own to a fresh
#     domain nobody has protected: refused (SC_ERR_UNTRUSTED, authenticated
#     by the hv's confirm), the domain stays unprotected;
#   - the owner's `vm protect` without a token: refused, exit 4, message;
#     with the key server's token (--issue-owner-token): bound;
#   - dom0 re-binds the protected domain with its own keys, with and
#     without the owner's token: refused;
#   - dom0 replays the owner's token: to another domain, refused; to the
#     owner's domain with a VM secret of its own, it binds the owner's keys
#     only: dom0's key still opens no session.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/dom0-lib.sh"
. "$top_srcdir/tests/integration/ks-lib.sh"
dom0_need_stack
TERM_BIN=$top_builddir/sccrypt-term/sccrypt-term
CTL=$top_builddir/tests/helpers/sc-hvctl
for p in "$TERM_BIN" "$KS" "$CTL"; do
	[ -x "$p" ] || t_skip "$(basename "$p") not built"
done

# The key server's owner CA (made on first use) into hvsim's configuration.
ks_owner_ca
[ "$(stat -c %a "$T_TMP/ks/owner-ca.key")" = 600 ] || t_fail "owner CA key mode"
[ "$("$KS" -s "$T_TMP/ks" --print-owner-ca 2>/dev/null)" = "$ca" ] ||
	t_fail "the owner CA key changed between runs"
dom0_owner_stack "$ca"

ctl() {	# ctl ARGS...: sc-hvctl on the ops socket (dom0); $rc, out, err
	set +e
	"$CTL" -S "$T_TMP/hv.sock" "$@" >"$T_TMP/ctl.out" 2>"$T_TMP/ctl.err"
	rc=$?
	set -e
}
unprotected() {	# unprotected VM: dom0's own view of the flags
	ctl status "$1"
	[ "$rc" = 0 ] || { cat "$T_TMP/ctl.err" >&2; t_fail "status $1"; }
	! grep -q protected "$T_TMP/ctl.out"
}
run() {	# run ARGS...: the owner's client; $rc, out, err
	set +e
	"$TERM_BIN" "$@" </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
}

# dom0's own credentials: a key, a VM secret; and the disk key of vm1.
ctl genkey "$T_TMP/dom0.key" >/dev/null
ctl pubkey "$T_TMP/dom0.key"; dom0_pub=$(cat "$T_TMP/ctl.out")
hex32 >"$T_TMP/dom0.secret"

dom0_binds() {	# dom0_binds VM [protect options]: dom0's own binding of VM
	vm=$1; shift
	ctl protect "$vm" --disk-key-file "$T_TMP/vm1.vk" \
	    --vm-secret-file "$T_TMP/dom0.secret" "$@"
}

# ---- 1. a fresh domain: dom0 binds credentials of its own -------------------
dom0_binds vm1 --owner-key "$T_TMP/dom0.key"
[ "$rc" = 1 ] && grep -q "not trusted" "$T_TMP/ctl.err" &&
    grep -q "authenticated by the hv" "$T_TMP/ctl.err" ||
	{ cat "$T_TMP/ctl.out" "$T_TMP/ctl.err" >&2; t_fail "dom0 bound a fresh domain (exit $rc)"; }
unprotected vm1 || t_fail "vm1 protected after dom0's refused binding"
t_pass "dom0's own credentials on a fresh domain: refused (untrusted), still unprotected"

# ---- 2. the owner, without and with the key server's token ------------------
SCCRYPT_HOME=$T_TMP/owner; export SCCRYPT_HOME
mkdir -p "$SCCRYPT_HOME"; chmod 700 "$SCCRYPT_HOME"
"$TERM_BIN" keygen -N >/dev/null
"$TERM_BIN" vm init vm1 --uuid "$uuid1" --disk-key-file "$T_TMP/vm1.vk" -N >/dev/null
owner_pub=$(cat "$SCCRYPT_HOME/id_x25519.pub")
run --trust-hv-key "$fp" --pipe vm protect vm1 -- $SHIMCMD --protect vm1
[ "$rc" = 4 ] && grep -q "ownership token" "$T_TMP/err" ||
	{ cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "vm protect without a token: exit $rc"; }
unprotected vm1 || t_fail "vm1 protected without a token"
token=$("$KS" -s "$T_TMP/ks" --issue-owner-token "$uuid1" "$owner_pub" 2>"$T_TMP/ks.err") ||
	{ cat "$T_TMP/ks.err" >&2; t_fail "--issue-owner-token"; }
echo "$token" | grep -qx '[0-9a-f]\{128\}' || t_fail "token format: '$token'"
set +e
"$KS" -s "$T_TMP/ks" --issue-owner-token not-a-uuid "$owner_pub" >/dev/null 2>"$T_TMP/ks.err"
[ $? = 64 ] && grep -q "not a UUID" "$T_TMP/ks.err" || { set -e; t_fail "--issue-owner-token: bad UUID"; }
"$KS" -s "$T_TMP/ks" --issue-owner-token "$uuid1" "sccrypt-x25519 AAAA" >/dev/null 2>"$T_TMP/ks.err"
[ $? = 64 ] && grep -q "not a public key" "$T_TMP/ks.err" || { set -e; t_fail "--issue-owner-token: bad key"; }
"$KS" -s "$T_TMP/ks" --issue-owner-token "$uuid1" >/dev/null 2>"$T_TMP/ks.err"
[ $? = 64 ] || { set -e; t_fail "--issue-owner-token without a key"; }
chmod 644 "$T_TMP/ks/owner-ca.key"
"$KS" -s "$T_TMP/ks" --print-owner-ca >/dev/null 2>"$T_TMP/ks.err"
[ $? = 1 ] || { set -e; t_fail "an owner CA key readable by others was used"; }
chmod 600 "$T_TMP/ks/owner-ca.key"
set -e
run --trust-hv-key "$fp" --pipe vm protect vm1 --owner-token "$token" -- $SHIMCMD --protect vm1
[ "$rc" = 0 ] && grep -q "is now protected" "$T_TMP/out" ||
	{ cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "the owner's binding with a token: exit $rc"; }
dom0_owner_session "" vm1
t_pass "the owner's vm protect: refused without a token (exit 4), bound with the key server's token"

# ---- 3. the protected domain: dom0 re-binds with its own keys ---------------
dom0_binds vm1 --owner-key "$T_TMP/dom0.key"
[ "$rc" = 1 ] && grep -q "not trusted" "$T_TMP/ctl.err" ||
	{ cat "$T_TMP/ctl.err" >&2; t_fail "dom0 re-bound vm1 without a token (exit $rc)"; }
owner_hex=$(printf '%s' "$owner_pub" | awk '{ print $2 }' | base64 -d | od -An -tx1 | tr -d ' \n')
[ ${#owner_hex} = 64 ] || t_fail "owner key hex"
dom0_binds vm1 --owner-pub "$owner_hex" --user-pub "$dom0_pub" --token "$token"
[ "$rc" = 1 ] && grep -q "not trusted" "$T_TMP/ctl.err" ||
	{ cat "$T_TMP/ctl.err" >&2; t_fail "dom0 added its key with the owner's token (exit $rc)"; }
t_pass "dom0's own keys on the protected domain, with or without the owner's token: refused"

# ---- 4. replays of the owner's token -----------------------------------------
dom0_binds vm2 --owner-pub "$owner_hex" --token "$token"
[ "$rc" = 1 ] && grep -q "not trusted" "$T_TMP/ctl.err" ||
	{ cat "$T_TMP/ctl.err" >&2; t_fail "the owner's token bound vm2 (exit $rc)"; }
unprotected vm2 || t_fail "vm2 protected by a replayed token"
# Same UUID, dom0's VM secret: it binds, but only the owner's key.
dom0_binds vm1 --owner-pub "$owner_hex" --token "$token"
[ "$rc" = 0 ] || { cat "$T_TMP/ctl.err" >&2; t_fail "replay to vm1 (exit $rc)"; }
ctl session vm1 --user-key "$T_TMP/dom0.key" --vm-secret-file "$T_TMP/dom0.secret" \
    'send:echo DOM$((0+0))X\n' 'expect:DOM0X'
[ "$rc" = 1 ] || { cat "$T_TMP/ctl.out" "$T_TMP/ctl.err" >&2; t_fail "dom0 opened a session (exit $rc)"; }
grep -q DOM0X "$T_TMP/ctl.out" && t_fail "dom0 saw console output"
t_pass "the owner's token replayed: refused on another domain; on the owner's it binds only the owner's key"
