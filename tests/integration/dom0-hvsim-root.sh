#!/bin/sh
# dom0-hvsim-root: `sccrypt-hvsim -t` run as root refuses a domain whose
# console command would run as root without an explicit `user` (whoever
# reaches that console would get a root shell on dom0), accepts the same
# domain with a user (or an explicit `user = root`), and a real start with
# the refused configuration logs a loud warning.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

[ -x "$HVSIM" ] || t_skip "sccrypt-hvsim not built"
[ "$(id -u)" = 0 ] || t_skip "needs root (the check is about a root hvsim)"
id nobody >/dev/null 2>&1 || t_skip "no user nobody"

uuid=$(cat /proc/sys/kernel/random/uuid)
conf() {	# extra domain lines
	printf 'socket = %s\n\n[domain vm1]\ndomid = 1\nuuid = %s\ncommand = /bin/bash -l\n%s\n' \
	    "$T_TMP/hv.sock" "$uuid" "$1" >"$T_TMP/hvsim.conf"
}
check() {	# expected status
	set +e
	"$HVSIM" -t -f "$T_TMP/hvsim.conf" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = "$1" ] ||
	    t_fail "hvsim -t: exit $rc, expected $1 ($(cat "$T_TMP/out" "$T_TMP/err"))"
}

conf ""
check 1
grep -q 'domain vm1: command runs as root (no user)' "$T_TMP/err" ||
    t_fail "no reason given: $(cat "$T_TMP/err")"
[ ! -e "$T_TMP/hv.sock" ] || t_fail "hvsim -t started serving"
conf "user = nobody"
check 0
grep -q 'configuration OK' "$T_TMP/out" || t_fail "hvsim -t: $(cat "$T_TMP/out")"
conf "user = root"
check 0
t_pass "hvsim -t: root guest without user refused; user = nobody / user = root accepted"

conf ""
t_bg "$HVSIM" --foreground -f "$T_TMP/hvsim.conf" 2>"$T_TMP/hvsim.log"
t_wait 100 test -S "$T_TMP/hv.sock" || { cat "$T_TMP/hvsim.log" >&2; t_fail "hvsim did not start"; }
grep -q 'WARNING: domain vm1: command runs as ROOT' "$T_TMP/hvsim.log" ||
    t_fail "no warning at start: $(cat "$T_TMP/hvsim.log")"
t_pass "a start with a root guest and no user logs a loud warning"
