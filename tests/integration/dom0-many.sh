#!/bin/sh
# dom0-many: more domains than one LIST_DOMAINS op can carry (372).  One
# sccrypt-hvsim hosts 400 domains (399 unprotected /bin/cat guests and one
# on a LUKS2 disk, listed on the second page); checks that
#   - hvsim sizes its hv context to them (GET_INFO max-domains = 400),
#   - sc-hvctl pages through all 400, each once,
#   - sccrypt-consoled discovers every one: the protected domain on the
#     second page is bound and round-trips through the real shim, and an
#     unprotected one on the second page is served in plaintext,
#   - a client that stops reading while all 400 guests produce output is
#     not disconnected: it gets the events that fit, then one SC_EV_LOST,
#     and its ops are still answered (tests/helpers/ops-flood.py),
#   - consoled never logged a failed listing.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
CTL=$top_builddir/tests/helpers/sc-hvctl
[ -x "$CTL" ] || t_skip "sc-hvctl not built"
N=${DOM0_MANY_DOMAINS:-400}

dom0_keys
dom0_make_disk "$T_TMP/last"
conf=$T_TMP/hvsim.conf
printf 'socket = %s\nhistory = 2048\n' "$T_TMP/hv.sock" >"$conf"
# The hv lists domains in slot order and a domain's slot is domid % N when
# free: "last" comes first with domid 2N - 10, so it sits in slot N - 10,
# on the second page.
printf '\n[domain last]\ndomid = %d\nuuid = %s\ncommand = /bin/cat\ndisk = %s\n' \
    "$((2 * N - 10))" "$(cat /proc/sys/kernel/random/uuid)" "$T_TMP/last.img" >>"$conf"
i=1
while [ "$i" -lt "$N" ]; do
	printf '\n[domain m%d]\ndomid = %d\nuuid = %s\ncommand = /bin/cat\n' \
	    "$i" "$i" "$(cat /proc/sys/kernel/random/uuid)" >>"$conf"
	i=$((i + 1))
done
t_bg "$HVSIM" --foreground -f "$conf" 2>"$T_TMP/hvsim.log"
HV_PID=$!
# Forking 400 guests takes a while.
t_wait 1200 sh -c "test -S '$T_TMP/hv.sock' || ! kill -0 $HV_PID" 2>/dev/null || true
test -S "$T_TMP/hv.sock" || { tail -5 "$T_TMP/hvsim.log" >&2; t_fail "hvsim did not start"; }

ctl() { "$CTL" -S "$T_TMP/hv.sock" "$@"; }
ctl info >"$T_TMP/info.out" || t_fail "sc-hvctl info"
grep -qx "max-domains $N" "$T_TMP/info.out" ||
    { cat "$T_TMP/info.out" >&2; t_fail "GET_INFO max-domains is not $N"; }
ctl list >"$T_TMP/list.out" || t_fail "sc-hvctl list"
n=$(wc -l <"$T_TMP/list.out")
[ "$n" -eq "$N" ] || t_fail "$n domains listed, not $N"
n=$(awk '{ print $1 }' "$T_TMP/list.out" | sort -u | wc -l)
[ "$n" -eq "$N" ] || t_fail "$n distinct domids listed, not $N"
sed -n '373,$p' "$T_TMP/list.out" | grep -q " last running" ||
    t_fail "the protected domain is not on the second page"
ctl status last >/dev/null || t_fail "sc-hvctl status of a second-page domain"

python3 "$top_srcdir/tests/helpers/ops-flood.py" "$T_TMP/hv.sock" "$N" \
    >"$T_TMP/flood.out" 2>&1 ||
    { cat "$T_TMP/flood.out" >&2; t_fail "event flood on a slow ops client"; }
cat "$T_TMP/flood.out"

dom0_start_consoled <<EOC
allow $(id -u) *
EOC
shim() { echo "$SHIM" -f "$T_TMP/sccrypt.conf" "$1"; }
uk="--user-key $T_TMP/user.key --quiet --timeout 60"
# shellcheck disable=SC2046
dom0_probe last $uk --vm-secret "$T_TMP/last.secret" \
    --protect-disk-key "$T_TMP/last.vk" --send round-trip-last \
    --expect round-trip-last -- $(shim last)
grep -q '^protect status=0$' "$T_TMP/last.out" || t_fail "binding the last domain"
grep -q '^expect ok: round-trip-last$' "$T_TMP/last.out" ||
    t_fail "no round trip with the last domain"

# An unprotected domain of the second page, in plaintext through the shim.
far=m$((N - 1))
t_converse "plain-$far\\r" "plain-$far" "$T_TMP/plain.out" "$T_TMP/plain.err" \
    env SSH_ORIGINAL_COMMAND="xenconsole $far" "$SHIM" -f "$T_TMP/sccrypt.conf" ||
    { cat "$T_TMP/plain.err" >&2; t_fail "$far was not served in plaintext"; }

! grep -q 'cannot list domains' "$T_TMP/consoled.log" ||
    { grep 'cannot list' "$T_TMP/consoled.log" >&2; t_fail "consoled failed to list the domains"; }
t_pass "$N domains listed in pages; second-page domains served"
