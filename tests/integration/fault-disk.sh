#!/bin/sh
# fault-disk.sh — the disk fills up while the client writes its files
# (issue 17, "faults survived"): the keystore on a small tmpfs that the test
# fills.  Each write is atomic (temporary file, fsync, rename, directory
# fsync): it fails with a clear "no space left on the device" message (it
# said "system error") and a non-zero exit, the old file is intact, no
# temporary file is left, and once space is free the same step works.
#   1. keygen --force (the user's key file)
#   2. vm init (a VM file)
#   3. known_hvs, trust on first use answered "yes" in a real terminal
# Needs root (mount).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
[ "$(id -u)" = 0 ] || t_skip "needs root (tmpfs mount)"
mkdir -p "$SCCRYPT_HOME"
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$SCCRYPT_HOME" 2>/dev/null ||
    t_skip "cannot mount a tmpfs"
trap 'tmux_stop; umount "$SCCRYPT_HOME" 2>/dev/null || true; t_cleanup' EXIT

# the keystore without a pinned key server: the hv key is trusted on first use
"$TERM_BIN" keygen -N >/dev/null || t_fail keygen
head -c 64 /dev/urandom >"$T_TMP/disk.key"
"$TERM_BIN" vm init $VM --uuid $VM_UUID --disk-key-file "$T_TMP/disk.key" -N >/dev/null ||
    t_fail "vm init"
mkdir -p "$T_TMP/peer"
"$PEER_BIN" init "$T_TMP/peer"
printf 'other.test * SC256:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '=')" \
    >"$SCCRYPT_HOME/known_hvs"

fill() { dd if=/dev/zero of="$SCCRYPT_HOME/fill" bs=4k 2>/dev/null || true; }
unfill() { rm -f "$SCCRYPT_HOME/fill"; }
snapshot() { (cd "$SCCRYPT_HOME" && find . -type f ! -name fill | sort | xargs sha256sum) >"$T_TMP/$1"; }
# check_full NAME RC: exit status non-zero, the message, nothing changed
check_full() {
	[ "$2" != 0 ] || t_fail "$1: succeeded on a full disk"
	grep -q 'no space left on the device' "$T_TMP/$1.err" ||
	    { cat "$T_TMP/$1.err" >&2; t_fail "$1: no clear 'no space left' message"; }
	snapshot after
	cmp -s "$T_TMP/before" "$T_TMP/after" ||
	    { diff "$T_TMP/before" "$T_TMP/after" >&2; t_fail "$1: the keystore changed"; }
	! ls "$SCCRYPT_HOME" | grep -q '\.tmp\.' || t_fail "$1: a temporary file was left"
}

# ---- 1. keygen --force ------------------------------------------------------
snapshot before
fill
rc=0; "$TERM_BIN" keygen -N --force >/dev/null 2>"$T_TMP/keygen.err" || rc=$?
check_full keygen $rc
unfill
"$TERM_BIN" keygen -N --force >/dev/null 2>&1 || t_fail "keygen with space again"
t_pass "keygen on a full disk: exit $rc, 'no space left on the device', the old key intact; works once space is free"

# ---- 2. vm init -------------------------------------------------------------
snapshot before
fill
rc=0; "$TERM_BIN" vm init vm2 --uuid 6f1c3c52-3d5c-4a8e-9a51-0b3e7d8b9999 \
    --disk-key-file "$T_TMP/disk.key" -N >/dev/null 2>"$T_TMP/vminit.err" || rc=$?
check_full vminit $rc
unfill
"$TERM_BIN" vm init vm2 --uuid 6f1c3c52-3d5c-4a8e-9a51-0b3e7d8b9999 \
    --disk-key-file "$T_TMP/disk.key" -N >/dev/null 2>&1 || t_fail "vm init with space again"
t_pass "vm init on a full disk: exit $rc, 'no space left on the device', nothing written; works once space is free"

# ---- 3. known_hvs (trust on first use) ---------------------------------------
PIPE="$TERM_BIN --host $PEER_HOST --pipe $VM --"
snapshot before
fill
term_pane_script "$T_TMP/s1" "$PIPE $(term_peer_cmd --cert none) 2>$T_TMP/tofu.err"
tmux_start "$T_TMP/s1"
tmux_wait 'continue connecting (yes/no)?'
tmux_ send-keys yes Enter
rc=$(term_wait_rc)
check_full tofu "$rc"
grep -q 'known_hvs' "$T_TMP/tofu.err" || t_fail "tofu: the message does not name known_hvs"
term_check_stty "after the refused pin"
tmux_stop
unfill
term_pane_script "$T_TMP/s2" "$PIPE $(term_peer_cmd --cert none)"
tmux_start "$T_TMP/s2"
tmux_wait 'continue connecting (yes/no)?'
tmux_ send-keys yes Enter
tmux_wait 'guest\$'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "session after space was freed"
grep -q "^$PEER_HOST " "$SCCRYPT_HOME/known_hvs" || t_fail "the key was not pinned with space"
grep -q '^other.test ' "$SCCRYPT_HOME/known_hvs" || t_fail "known_hvs lost its old entry"
t_pass "known_hvs on a full disk: exit $rc, 'no space left', old entries intact, no session; pinned once space is free"
