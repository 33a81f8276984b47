#!/bin/sh
# lab-dir: sccrypt-lab refuses a lab directory another user owns or could
# replace, before it creates or starts anything: a directory of another uid,
# one open to others, one under a directory another user owns or may write
# (not sticky); and without HOME the default is a per-uid directory under
# $TMPDIR, refused likewise when someone else made it first.  A directory
# of ours under a sticky world-writable one (like /tmp) is accepted.
. "${top_srcdir}/tests/lib.sh"

LAB_BIN=$top_builddir/lab/sccrypt-lab
[ -x "$LAB_BIN" ] || t_skip "lab/sccrypt-lab not built"
[ "$(id -u)" = 0 ] || t_skip "needs root (directories of another user)"
me=$(id -u)

refused() {	# refused WHY DIR [verb]: sccrypt-lab refuses DIR, creates nothing
	set +e
	"$LAB_BIN" -q -d "$2" "${3:-status}" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = 1 ] || t_fail "$1: exit $rc ($(cat "$T_TMP/err"))"
	grep -q 'refusing it' "$T_TMP/err" || t_fail "$1: $(cat "$T_TMP/err")"
}

mkdir -p "$T_TMP/nobody/lab"
chown -R 65534:65534 "$T_TMP/nobody"
chmod 0700 "$T_TMP/nobody/lab"
refused "lab of another uid" "$T_TMP/nobody/lab"
refused "lab of another uid (up)" "$T_TMP/nobody/lab" up
[ -z "$(ls -A "$T_TMP/nobody/lab")" ] || t_fail "up wrote into another user's directory"

mkdir -m 0700 "$T_TMP/parent-nobody"
chown 65534 "$T_TMP/parent-nobody"
mkdir -m 0700 "$T_TMP/parent-nobody/lab"
refused "parent of another uid (up)" "$T_TMP/parent-nobody/lab" up
[ -z "$(ls -A "$T_TMP/parent-nobody/lab")" ] || t_fail "up wrote under another user's directory"

mkdir -m 0777 "$T_TMP/open"
chmod 0777 "$T_TMP/open"
refused "parent writable by others (up)" "$T_TMP/open/lab" up
[ ! -e "$T_TMP/open/lab" ] || t_fail "up created a lab under a world-writable directory"

mkdir -m 0700 "$T_TMP/wide"
chmod 0755 "$T_TMP/wide"
refused "existing lab readable by others" "$T_TMP/wide"
t_pass "labs of another user, under another user's or a world-writable directory, or open: refused"

# Without HOME: ${TMPDIR:-/tmp}/sccrypt-lab-UID; someone else's is refused.
mkdir -m 1777 "$T_TMP/tmp"
chmod 1777 "$T_TMP/tmp"
env -u HOME -u XDG_RUNTIME_DIR -u SCCRYPT_LAB_DIR TMPDIR="$T_TMP/tmp" \
    "$LAB_BIN" status >"$T_TMP/out" 2>"$T_TMP/err" || true
grep -q "no lab in $T_TMP/tmp/sccrypt-lab-$me " "$T_TMP/err" ||
    t_fail "default without HOME: $(cat "$T_TMP/err")"
mkdir -m 0700 "$T_TMP/tmp/sccrypt-lab-$me"
chown 65534 "$T_TMP/tmp/sccrypt-lab-$me"
set +e
env -u HOME -u XDG_RUNTIME_DIR -u SCCRYPT_LAB_DIR TMPDIR="$T_TMP/tmp" \
    "$LAB_BIN" up >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q 'belongs to uid 65534' "$T_TMP/err" ||
    t_fail "default lab made by another user: exit $rc ($(cat "$T_TMP/err"))"
# Ours, in the sticky world-writable directory: accepted (nothing to show yet).
rmdir "$T_TMP/tmp/sccrypt-lab-$me"
mkdir -m 0700 "$T_TMP/tmp/sccrypt-lab-$me"
env -u HOME -u XDG_RUNTIME_DIR -u SCCRYPT_LAB_DIR TMPDIR="$T_TMP/tmp" \
    "$LAB_BIN" status >"$T_TMP/out" 2>"$T_TMP/err" || true
grep -q 'refusing' "$T_TMP/err" && t_fail "our own lab under a sticky directory refused"
t_pass "without HOME: a per-uid lab under \$TMPDIR; another user's refused, ours accepted"
