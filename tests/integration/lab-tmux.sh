#!/bin/sh
# lab-tmux.sh — sccrypt-lab end to end, the way a user drives it:
#   up in a temp dir (swtpm, hvsim with LUKS2 disks, key server + attestation,
#   consoled, sshd with the forced command, VMs bound by the owner), status,
#   an idempotent second up, `connect vm1` in tmux (log in at the guest's
#   prompt, echo $((6*7)) -> 42, ~. restores the terminal), `snoop vm1`
#   (live and --once) shows no plaintext of anything typed or printed,
#   `plain plain1` works and its snoop shows the plaintext (the detector
#   works), `down` leaves no process behind.
#   Issue 18 item 8: guests are UTF-8 (Backspace after 日本語 deletes one
#   character), the sshd port survives a restart, `connect nosuchvm` fails
#   before its banner, `status` shows the hv key in the certificate's form.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/lab-lib.sh"

PW="pw-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MARK="LABMARK$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')"
export SCCRYPT_LAB_GUEST_PASSWORD="$PW"
# tmux (server and capture) must handle the UTF-8 typed into the guest
unset LC_ALL
export LC_CTYPE=C.UTF-8

# ---- connect to a VM the lab does not have: refused before anything ---------
set +e
"$LAB_BIN" -d "$T_TMP/nolab" connect nosuchvm </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$T_TMP/err" >&2; t_fail "connect nosuchvm: exit $rc"; }
grep -q "no VM named 'nosuchvm' in the lab; its VMs: vm1 vm2" "$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "connect nosuchvm: message"; }
grep -q "encrypted console" "$T_TMP/err" && t_fail "connect nosuchvm: the banner came first"
[ ! -e "$T_TMP/nolab" ] || t_fail "connect nosuchvm created a lab"
t_pass "connect nosuchvm: refused first, the lab's VMs listed"

# ---- up, status, idempotence ----------------------------------------------
lab_up
lab status >"$T_TMP/status" 2>&1 || { cat "$T_TMP/status" >&2; t_fail "status after up"; }
for c in keyserver swtpm hvsim attest consoled sshd; do
	grep -Eq "^$c +[0-9]+ +up " "$T_TMP/status" || { cat "$T_TMP/status" >&2; t_fail "status: $c"; }
done
for vm in vm1 vm2; do
	grep -q "^$vm .*protected=yes" "$T_TMP/status" || { cat "$T_TMP/status" >&2; t_fail "$vm not protected"; }
done
grep -q '^plain1 .*protected=no' "$T_TMP/status" || t_fail "plain1 should be unprotected"
grep -q 'valid for host lab-dom0' "$T_TMP/status" || t_fail "certificate not valid"
grep -q 'expires: ' "$T_TMP/status" || t_fail "no certificate expiry"
grep -q 'pinned key server' "$T_TMP/status" || t_fail "certificate not signed by the pinned key"
# the hv key: one form (SC256), the same in the VM lines and the certificate
vmkey=$(sed -n 's/^vm1 .*hv-key=\(SC256:[A-Za-z0-9+/]*\).*/\1/p' "$T_TMP/status")
certkey=$(sed -n 's/^  hv key: \(.*\)$/\1/p' "$T_TMP/status")
[ -n "$vmkey" ] && [ "$vmkey" = "$certkey" ] ||
	{ cat "$T_TMP/status" >&2; t_fail "status: the hv key not in one form ('$vmkey' vs '$certkey')"; }
t_pass "up: every component running, vm1/vm2 protected, certificate valid for lab-dom0, hv key $vmkey in both"
# The lab enrolls its AK the normal way: EK certificate + activation (issue 21).
grep -q 'enroll host=lab-dom0 .*ek=verified activation=pending' "$LAB_DIR/log/keyserver.log" &&
grep -q 'activate host=lab-dom0 .*result=ok' "$LAB_DIR/log/keyserver.log" &&
! grep -q 'insecure_ak' "$LAB_DIR/log/keyserver.log" ||
	{ cat "$LAB_DIR/log/keyserver.log" >&2; t_fail "lab AK not enrolled through its EK"; }
t_pass "up: the AK was enrolled with the TPM's EK certificate and activated"

# The lab's TPM has no authorisation: it must be reachable only through
# unix sockets of mode 0600 in the private run directory, never over TCP.
for s in tpm.sock tpm.sock.ctrl; do
	[ -S "$LAB_DIR/run/$s" ] || t_fail "no swtpm socket run/$s"
	[ "$(stat -c %a "$LAB_DIR/run/$s")" = 600 ] || t_fail "run/$s is not 0600"
done
[ "$(stat -c %a "$LAB_DIR")" = 700 ] || t_fail "lab directory not private"
swpid=$(cat "$LAB_DIR/run/swtpm.pid")
tr '\0' ' ' <"/proc/$swpid/cmdline" | grep -q 'type=tcp' && t_fail "swtpm on TCP"
swinodes=$(ls -l "/proc/$swpid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
for i in $swinodes; do
	awk -v i="$i" '$4 == "0A" && $10 == i { f = 1 } END { exit !f }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null && t_fail "swtpm listens on TCP"
done
t_pass "swtpm only on unix sockets (0600) in the private lab directory"

# The long-lived processes: every component and each VM's console command.
# Short-lived children (a guest's `sleep` while it waits for power-on) come
# and go by themselves and say nothing about idempotence.
lab_long_lived() {
	for f in "$LAB_DIR"/run/*.pid; do
		p=$(cat "$f")
		kill -0 "$p" 2>/dev/null && echo "${f##*/} $p"
	done
	sed -n 's/.*guest \([^:]*\): console command started (pid \([0-9]*\)).*/guest-\1 \2/p' \
	    "$LAB_DIR/log/hvsim.log"
}
procs1=$(lab_long_lived | sort)
lab up >"$T_TMP/up2" 2>&1 || { cat "$T_TMP/up2" >&2; t_fail "second up"; }
grep -q 'all components already running' "$T_TMP/up2" || { cat "$T_TMP/up2" >&2; t_fail "second up restarted things"; }
procs2=$(lab_long_lived | sort)
if [ "$procs2" != "$procs1" ]; then
	printf 'before:\n%s\nafter:\n%s\n' "$procs1" "$procs2" >&2
	t_fail "second up changed the processes"
fi
[ "$(echo "$procs1" | grep -c .)" -ge 9 ] || { echo "$procs1" >&2; t_fail "fewer long-lived processes than components + VMs"; }
t_pass "up is idempotent"

# ---- connect vm1 in tmux ---------------------------------------------------
# snoop, live, while the session runs
"$LAB_BIN" -d "$LAB_DIR" snoop vm1 >"$T_TMP/snoop-live" 2>&1 &
SNOOP=$!
T_PIDS="$T_PIDS $SNOOP"
pane_script "$T_TMP/s1" "$LAB_BIN -d $LAB_DIR connect vm1"
tmux_start "$T_TMP/s1"
tmux_wait 'encrypted console to vm1'
tmux_wait 'VMM certificate'
# the guest was powered on after binding: its first prompt is in the
# (encrypted) history
tmux_wait 'vm1 login:'
guest_login vm1 "$PW"
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
tmux_ send-keys "echo $MARK-\$((1000+337))" Enter
tmux_wait "^$MARK-1337"
# a UTF-8 guest: Backspace after 日本語 deletes 語, not one of its bytes
# (the guest counts them: "U8-日本" and a newline are 10 bytes; a
# half-deleted 語 leaves 12, and tmux would not even show its remains)
tmux_ send-keys -l 'echo U8-日本語'
tmux_ send-keys BSpace
tmux_ send-keys -l ' | wc -c | sed s/^/LEN-/'
tmux_ send-keys Enter
tmux_wait '^LEN-'
tmux_has '^LEN-10$' || { tmux_screen | tail -5 >&2; t_fail "Backspace did not delete one UTF-8 character"; }
tmux_ send-keys Enter '~.'
[ "$(pane_rc)" = 0 ] || { tmux_screen | tail >&2; t_fail "connect: exit code"; }
pane_check_stty "after ~."
t_pass "connect vm1: login at the guest's prompt, echo \$((6*7)) -> 42, ~. restores the terminal"
# the live snoop has shown both directions of vm1's session (not a fixed wait)
t_wait 100 sh -c "grep -q 'vm1 client->dom0' '$T_TMP/snoop-live' &&
    grep -q 'vm1 dom0->client' '$T_TMP/snoop-live'" || true
kill "$SNOOP" 2>/dev/null || true
wait "$SNOOP" 2>/dev/null || true

# ---- what dom0 saw ---------------------------------------------------------
grep -q 'vm1 client->dom0' "$T_TMP/snoop-live" || { cat "$T_TMP/snoop-live" >&2; t_fail "live snoop showed no input"; }
grep -q 'vm1 dom0->client' "$T_TMP/snoop-live" || t_fail "live snoop showed no output"
lab snoop --once vm1 >"$T_TMP/snoop-once" || t_fail "snoop --once"
lab snoop --raw in --once vm1 >"$T_TMP/vm1.in"
lab snoop --raw out --once vm1 >"$T_TMP/vm1.out"
lab snoop --log --raw in --once vm1 >"$T_TMP/vm1.sclog"
[ -s "$T_TMP/vm1.in" ] && [ -s "$T_TMP/vm1.out" ] && [ -s "$T_TMP/vm1.sclog" ] || t_fail "snoop recorded nothing"
# The ASCII column of the dumps, joined, must not show the text either.
no_text() {	# no_text WHAT FILE...
	w=$1
	shift
	python3 - "$PW" "$MARK" "$@" <<'PY' || t_fail "plaintext in $w"
import sys, re
needles = [sys.argv[1], sys.argv[2], "$((6*7))", "demo@vm1", "login:", "Password"]
for f in sys.argv[3:]:
    data = open(f, "rb").read().decode("latin-1")
    # od -z dumps: also search the ASCII column joined across lines
    cols = "".join(m.group(1) for m in re.finditer(r">(.{1,16})<$", data, re.M))
    for n in needles:
        if n in data or n in cols:
            sys.exit("found %r in %s" % (n, f))
PY
}
no_text "the snoop of vm1" "$T_TMP/snoop-live" "$T_TMP/snoop-once" "$T_TMP/vm1.in" \
    "$T_TMP/vm1.out" "$T_TMP/vm1.sclog"
t_pass "snoop vm1 (live, dump, raw, consoled's log): no plaintext of what was typed or printed"

# ---- plain plain1: the unprotected twin ------------------------------------
pane_script "$T_TMP/s2" "$LAB_BIN -d $LAB_DIR plain plain1"
tmux_start "$T_TMP/s2"
tmux_wait 'NOT encrypted'
guest_login plain1 "$PW"
tmux_ send-keys "echo $MARK-\$((6*7))" Enter
tmux_wait "^$MARK-42"
if [ "$(id -u)" = 0 ]; then
	tmux_ send-keys Enter '~.'	# ssh -tt
else
	tmux_ send-keys C-]		# no pty from an unprivileged sshd
fi
pane_rc >/dev/null
pane_check_stty "after plain ~."
lab snoop --raw in --once plain1 >"$T_TMP/plain1.in"
lab snoop --raw out --once plain1 >"$T_TMP/plain1.out"
grep -aq "$PW" "$T_TMP/plain1.in" || t_fail "snoop plain1 does not show the typed password"
grep -aqF "echo $MARK-\$((6*7))" "$T_TMP/plain1.in" || t_fail "snoop plain1 does not show the command"
grep -aq "$MARK-42" "$T_TMP/plain1.out" || t_fail "snoop plain1 does not show the output"
lab snoop --once plain1 >"$T_TMP/plain1.dump"
python3 - "$T_TMP/plain1.dump" "$MARK-42" <<'PY' || t_fail "the snoop dump of plain1 does not show the output"
import sys, re
data = open(sys.argv[1]).read()
cols = "".join(m.group(1) for m in re.finditer(r">(.{1,16})<$", data, re.M))
sys.exit(0 if "plain1 login: " in cols and sys.argv[2] in cols else "not in the dump")
PY
t_pass "plain plain1 works; its snoop shows the password, the command and the output in clear"

# ---- a dead hypervisor: up reboots it (TPM reset), re-attests, re-binds ----
key1=$vmkey
kill "$(cat "$LAB_DIR/run/hvsim.pid")"
t_wait 50 sh -c "! '$LAB_BIN' -d '$LAB_DIR' status >/dev/null 2>&1" || t_fail "status still up with hvsim dead"
lab -q up || t_fail "up after hvsim died"
lab status >"$T_TMP/status2" 2>&1 || { cat "$T_TMP/status2" >&2; t_fail "status after recovery"; }
key2=$(sed -n 's/^vm1 .*hv-key=\(SC256:[A-Za-z0-9+/]*\).*/\1/p' "$T_TMP/status2")
[ -n "$key2" ] && [ "$key1" != "$key2" ] || t_fail "no new hv key after the reboot"
grep -q '^vm1 .*protected=yes' "$T_TMP/status2" || t_fail "vm1 not bound again"
grep -q 'valid for host lab-dom0' "$T_TMP/status2" || t_fail "no valid certificate for the new key"
# a restarted sshd listens on the same port (ssh/config, known_hosts valid)
port1=$(sed -n 's/^SSHD_PORT=//p' "$LAB_DIR/lab.env")
kill "$(cat "$LAB_DIR/run/sshd.pid")"
t_wait 50 sh -c "! '$LAB_BIN' -d '$LAB_DIR' status >/dev/null 2>&1" || t_fail "status still up with sshd dead"
lab -q up || t_fail "up after sshd died"
port2=$(sed -n 's/^SSHD_PORT=//p' "$LAB_DIR/lab.env")
[ -n "$port1" ] && [ "$port1" = "$port2" ] || t_fail "sshd port changed on restart: $port1 -> $port2"
lab status 2>&1 | grep -q "^sshd .* up  *127.0.0.1:$port1 " || t_fail "status: sshd not on $port1"
pane_script "$T_TMP/s3" "$LAB_BIN -d $LAB_DIR connect vm1"
tmux_start "$T_TMP/s3"
tmux_wait 'vm1 login:'
guest_login vm1 "$PW"
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
tmux_ send-keys Enter '~.'
[ "$(pane_rc)" = 0 ] || t_fail "connect after recovery"
tmux_stop
t_pass "hvsim killed: up rebooted it (new key, TPM reset, attested, VMs bound again); sshd killed: back on port $port1; connect works"

# ---- down -----------------------------------------------------------------
lab status >/dev/null 2>&1 || t_fail "status before down"
pids=$(lab_pids)
[ "$(echo "$pids" | wc -w)" -ge 10 ] || t_fail "expected the lab's processes, found: $pids"
lab -q down || t_fail "down"
for p in $pids; do
	st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$p/status" 2>/dev/null) || true
	if [ -n "$st" ] && [ "$st" != Z ]; then	# a zombie has ended
		t_fail "process $p ($(cat "/proc/$p/cmdline" 2>/dev/null | tr '\0' ' ')) survived down"
	fi
done
[ -z "$(lab_pids)" ] || t_fail "lab processes left: $(lab_pids)"
for s in hv cd ks; do
	[ ! -e "$LAB_DIR/run/$s.sock" ] || t_fail "socket $s.sock left behind"
done
if lab status >/dev/null 2>&1; then t_fail "status says up after down"; fi
t_pass "down: all $(echo "$pids" | wc -w) processes gone, sockets removed"
