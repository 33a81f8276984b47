#!/bin/sh
# fault-sshd.sh — kill -9 of sshd's session process under a live console
# session (issue 17, "faults survived"), the real dom0 path: OpenSSH sshd on
# 127.0.0.1 with the forced command, sccrypt-console, sccrypt-consoled,
# sccrypt-hvsim; sc-probe as the client.  The client is told (the transport
# ended, exit 3); the shim does not linger (it exits once consoled has ended
# the relay); consoled ends the hv session; sshd keeps serving; the guest
# goes on (its counter keeps counting) and a new session through ssh works.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || t_skip "sshd not installed"
command -v ssh >/dev/null 2>&1 || t_skip "ssh not installed"
command -v ssh-keygen >/dev/null 2>&1 || t_skip "ssh-keygen not installed"

me=$(id -u)
user=$(id -un)
dom0_keys
dom0_start_hv vm1
dom0_start_consoled <<EOC
allow $me vm1
EOC

# --- sshd ---------------------------------------------------------------
port=$(t_free_port)
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/id_user"
opts="no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-user-rc"
{
	printf 'command="%s -f %s",%s %s\n' "$SHIM" "$T_TMP/sccrypt.conf" "$opts" \
	    "$(cat "$T_TMP/id_user.pub")"
} >"$T_TMP/authorized_keys"
dom0_start_sshd
dest="$user@127.0.0.1"
uk="--user-key $T_TMP/user.key --timeout 30"

SSHD_PID=$(echo $T_PIDS | awk '{ print $NF }')	# the last t_bg: sshd
probe_ssh() {	# probe_ssh NAME STEPS...: a session through ssh, in the background
	n=$1; shift
	"$PROBE" $uk --vm-secret "$T_TMP/vm1.secret" "$@" \
	    -- "$SSH" -i "$T_TMP/id_user" -T "$dest" sccrypt-console vm1 \
	    >"$T_TMP/$n.out" 2>"$T_TMP/$n.err" &
}

# bind vm1, start a counter in the guest
dom0_probe bind $uk --vm-secret "$T_TMP/vm1.secret" --protect-disk-key "$T_TMP/vm1.vk" \
    --send '(i=0; while :; do i=$((i+1)); echo $i >'"$T_TMP"'/count; sleep 0.1; done) &' \
    --send 'echo UP$((1+1))' --expect UP2 \
    -- "$SSH" -i "$T_TMP/id_user" -T "$dest" sccrypt-console vm1

# a live session; its sshd session process is killed
probe_ssh a --send 'echo ONE$((2+2))' --expect ONE4 --expect NEVER-SHOWN
a=$!
t_wait 300 grep -q '^expect ok: ONE4' "$T_TMP/a.out" || { cat "$T_TMP/a.err" >&2; t_fail "no session"; }
shim=$(sed -n 's/.*client from uid [0-9]* pid \([0-9]*\)$/\1/p' "$T_TMP/consoled.log" | tail -1)
[ -n "$shim" ] && grep -q sccrypt-console "/proc/$shim/cmdline" || t_fail "no shim process ($shim)"
sess=$(awk '/^PPid:/ { print $2 }' "/proc/$shim/status")
[ -n "$sess" ] && [ "$sess" != "$SSHD_PID" ] && grep -q sshd "/proc/$sess/cmdline" ||
    t_fail "the shim's parent ($sess) is not an sshd session process"
kill -9 "$sess"
rc=0; wait "$a" || rc=$?
[ "$rc" = 3 ] && grep -q 'the transport ended' "$T_TMP/a.err" ||
    { cat "$T_TMP/a.err" >&2; t_fail "client exit $rc, expected 3 (the transport ended)"; }
t_wait 300 sh -c "! kill -0 $shim" || t_fail "the shim lingers after sshd's session process died"
kill -0 "$SSHD_PID" || t_fail "sshd died"
kill -0 "$CONSOLED_PID" || t_fail "consoled died"
c1=$(cat "$T_TMP/count")
t_wait 100 sh -c "[ \$(cat '$T_TMP/count') -gt $c1 ]" || t_fail "the guest's counter stopped"
dom0_probe b $uk --vm-secret "$T_TMP/vm1.secret" --send 'echo TWO$((3+3))' --expect TWO6 \
    -- "$SSH" -i "$T_TMP/id_user" -T "$dest" sccrypt-console vm1
t_pass "sshd's session process killed (-9): the client says the transport ended (exit 3), the shim exits, consoled and sshd go on, the guest counts on, a new session works"
