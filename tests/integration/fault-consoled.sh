#!/bin/sh
# fault-consoled.sh — kill -9 of sccrypt-consoled under a plaintext relay
# (an unprotected domain, `xenconsole VM`; issue 17): the shim says that
# consoled cut the relay and exits 69 (it exited 0, as for an orderly end).
# The framed relay's case (no BYE) is in nothing-lost.sh part 3.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
me=$(id -u)
dom0_start_hv plain1
dom0_start_consoled <<EOC
allow $me plain1
EOC
mkfifo "$T_TMP/in"
SSH_ORIGINAL_COMMAND="xenconsole plain1" "$SHIM" -f "$T_TMP/sccrypt.conf" \
    <"$T_TMP/in" >"$T_TMP/out" 2>"$T_TMP/err" &
shim=$!
exec 9>"$T_TMP/in"
printf 'echo R$((2+3))\n' >&9
t_wait 300 grep -q '^R5' "$T_TMP/out" || { cat "$T_TMP/err" >&2; t_fail "no plaintext round trip"; }
kill -9 "$CONSOLED_PID"
rc=0; wait "$shim" || rc=$?
exec 9>&-
[ "$rc" = 69 ] || { cat "$T_TMP/err" >&2; t_fail "shim exit $rc when consoled died, expected 69"; }
grep -q 'sccrypt-consoled cut the relay (it exited' "$T_TMP/err" ||
    { cat "$T_TMP/err" >&2; t_fail "the shim did not say that consoled went away"; }
t_pass "consoled killed (-9) under a plaintext relay: the shim says so and exits 69"
