#!/bin/sh
# dom0-coalesce: consoled's output coalescing (output_coalesce_ms, issue 16
# "xenconsoled"; consoled/coalesce.h).  A guest that prints a slow stream
# (a numbered line, then a pause) must be relayed in clearly fewer OUTPUT
# pulls with coalescing on than off, every line delivered, in order; and
# keystrokes typed one at a time must each be echoed without a deferral.
# Counted in consoled's debug log (one "OUTPUT n bytes" line per pull, one
# "OUTPUT deferred" line per deferral), never by measuring milliseconds:
# the interval is the largest allowed (1000 ms), so the count holds for
# any line pace up to a quarter of a second, however loaded the machine.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
me=$(id -u)
LINES=100
dom0_keys
dom0_start_hv vm1

# start_consoled MS: a fresh consoled with output_coalesce_ms = MS
start_consoled() {
	if [ -n "${CONSOLED_PID:-}" ]; then
		kill "$CONSOLED_PID"
		t_wait 100 sh -c "! kill -0 $CONSOLED_PID" || t_fail "consoled did not stop"
		rm -f "$T_TMP/cd.sock"
	fi
	dom0_start_consoled <<EOC
output_coalesce_ms = $1
allow $me vm1
EOC
}

# probe TAG ARGS...: a session on vm1 running ARGS (sc-probe steps); the
# consoled log lines it caused go to $T_TMP/TAG.log
probe() {
	tag=$1; shift
	n0=$(wc -l <"$T_TMP/consoled.log")
	"$PROBE" --user-key "$T_TMP/user.key" --vm-secret "$T_TMP/vm1.secret" \
	    --protect-disk-key "$T_TMP/vm1.vk" --timeout 120 "$@" -- \
	    "$SHIM" -f "$T_TMP/sccrypt.conf" vm1 >"$T_TMP/$tag.out" 2>"$T_TMP/$tag.err" ||
	    { cat "$T_TMP/$tag.out" "$T_TMP/$tag.err" >&2; tail -20 "$T_TMP/consoled.log" >&2
	      t_fail "$tag: the session failed"; }
	# consoled logs a pull before the client can have its output: every
	# pull the probe waited for is in the log by now
	tail -n +$((n0 + 1)) "$T_TMP/consoled.log" >"$T_TMP/$tag.log"
}
pulls() { grep -c ': OUTPUT [0-9]* bytes' "$T_TMP/$1.log" || true; }
deferrals() { grep -c ': OUTPUT deferred' "$T_TMP/$1.log" || true; }

# The slow stream: after a pause longer than the interval (the command's
# own echo is not what is measured), LINES numbered lines 20 ms apart,
# then END.  The typed command holds neither a line number nor "END".
stream="stty -echo; sleep 1.5; i=0; while [ \$i -lt $LINES ]; do printf 'L%04d\\n' \$i; sleep 0.02; i=\$((i+1)); done; echo E''ND"
expects=""
i=0
while [ $i -lt $LINES ]; do
	expects="$expects --expect $(printf 'L%04d' $i)"
	i=$((i + 1))
done

# ---- the slow stream, coalescing off, then on -----------------------------
start_consoled 0
# shellcheck disable=SC2086
probe off --send "$stream" $expects --expect END
start_consoled 1000
# shellcheck disable=SC2086
probe on --send "$stream" $expects --expect END
off=$(pulls off) on=$(pulls on)
echo "OUTPUT pulls for $LINES lines: coalescing off $off, on $on ($(deferrals on) deferrals)"
[ "$(deferrals off)" = 0 ] || t_fail "coalescing off, yet $(deferrals off) pulls were deferred"
# Off, a pull per line (two lines may meet in one pull on a busy machine).
[ "$off" -ge $((LINES / 2)) ] || t_fail "only $off pulls for $LINES lines with coalescing off: the stream was not slow"
[ $((on * 3)) -le "$off" ] || t_fail "coalescing on took $on pulls, off $off: not clearly fewer"
[ "$(deferrals on)" -gt 0 ] || t_fail "coalescing on deferred nothing"
t_pass "a slow stream: $on OUTPUT pulls with coalescing on, $off off; every line, in order"

# ---- keystrokes: each echo pulled at once ----------------------------------
# One key at a time, the next only once the echo of the last is seen: each
# follows the previous pull by much less than the interval, so only the
# input rule keeps it from waiting (up to 1 s each).
keys=""
for k in e c h o ' ' K E Y T E S T; do
	keys="${keys}--send-raw|$k|--expect|$k|"
done
old_ifs=$IFS; IFS='|'
# shellcheck disable=SC2086
set -- $keys
IFS=$old_ifs
# The stream left the terminal's echo off: on again first.
probe echo --send 'stty echo; echo RE""ADY' --expect READY "$@" --send '' --expect KEYTEST
[ "$(deferrals echo)" = 0 ] ||
    { grep 'OUTPUT' "$T_TMP/echo.log" >&2; t_fail "$(deferrals echo) echoes were deferred"; }
n=$(grep -c ': OUTPUT [0-9]* bytes.*(input)' "$T_TMP/echo.log" || true)
[ "$n" -ge 12 ] || { grep 'OUTPUT' "$T_TMP/echo.log" >&2; t_fail "only $n pulls for input: 12 keys typed"; }
t_pass "12 keys typed one at a time: every echo pulled at once ($n pulls for input, no deferral)"
