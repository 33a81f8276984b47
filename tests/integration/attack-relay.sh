#!/bin/sh
# attack-relay.sh — the dom0 attack suite (issue 7, docs/attacks.md).
#
# The real stack (swtpm, sccrypt-hvsim with LUKS2 disks, key server +
# sccrypt-attest, sccrypt-consoled, the sccrypt-console shim) and the real
# client (sccrypt-term --pipe on a pty).  A hostile relay,
# tests/helpers/evil-relay, sits where dom0 sits for vm1's sessions and
# attacks them live.  For every attack:
#   - the client ends or refuses with the expected exit code and message;
#   - vm1's guest received exactly the legitimately typed bytes (hvsim's
#     per-guest input log), no forged, replayed or duplicated keystroke;
#   - the relay's capture of both directions holds no plaintext;
#   - a session on vm2 through the real stack, open the whole time, still
#     round-trips; consoled and hvsim are still up.
# Each case prints an ATTACK-RESULT line; docs/attacks.md's results table is
# generated from them (build-aux/attacks-table) and the suite fails when the
# committed table differs from what it observed (issue 18 item 13).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/attack-lib.sh"
atk_need
me=$(id -u)

# ---- the stack -------------------------------------------------------------
dom0_keys
atk_start_tpm
atk_start_ks "$T_TMP/ks-main" main --cert-lifetime 60
atk_enroll main $HOSTNAME_
atk_start_hv vm1 vm2
# A short-lived certificate first (it will have expired by the end), then
# the key server with its default lifetime for the real one.
atk_attest main $HOSTNAME_ "$T_TMP/short.cert"
short_issued=$(date +%s)
kill "$KSPID_main"; wait "$KSPID_main" 2>/dev/null || true
atk_start_ks "$T_TMP/ks-main" main
atk_attest main $HOSTNAME_ "$T_TMP/vmm.cert"
# A certificate for the same hv key from a key server nobody pinned.
atk_start_ks "$T_TMP/ks-other" other
atk_enroll other $HOSTNAME_
atk_attest other $HOSTNAME_ "$T_TMP/foreign.cert"
# A certificate from the pinned key server for another host (the same
# TPM enrolled a second time under another name).
other_host=1
if "$AT_BIN" -q --create-ak --insecure-ak --ak-handle 0x81010077 -n hv9 >"$T_TMP/enroll-hv9.json" 2>"$T_TMP/hv9.err" &&
    curl -sf -m 5 -H "Authorization: Bearer $(cat "$T_TMP/ks-main/operator.token")" \
    --data-binary @"$T_TMP/enroll-hv9.json" "$KSURL_main/v1/hosts" >/dev/null &&
    "$AT_BIN" -q -k "$KSURL_main" -n hv9 --ak-handle 0x81010077 -s "$T_TMP/hv.sock" \
    -K "$T_TMP/main.pub" -o "$T_TMP/otherhost.cert" 2>>"$T_TMP/hv9.err"; then
	:
else
	cat "$T_TMP/hv9.err" >&2
	t_fail "cannot obtain a certificate for a second host name"
fi
dom0_start_consoled <<EOC
allow $me vm1
allow $me vm2
EOC
CDPID=$CONSOLED_PID
atk_client_setup
atk_bind vm1
atk_bind vm2
t_pass "stack up: hvsim key attested (PCR 15), certificates: valid, short-lived, foreign key server, other host"

# ---- the bystander: vm2's session through the real stack --------------------
cli_start b --pipe vm2 -- $(shim_cmd vm2)
RT=0
: >"$T_TMP/vm2.expect"
rt_vm2() {	# a round trip on vm2; its input log must hold exactly what was typed
	RT=$((RT + 1))
	line="echo RT\$((7000+$RT))Z
"
	printf '%s' "$line" >>"$T_TMP/vm2.expect"
	cli_type b "$line"
	cli_wait b "RT$((7000 + RT))Z" 100
	cmp -s "$T_TMP/vm2.expect" "$T_TMP/vm2.input" ||
	    { od -c "$T_TMP/vm2.input" | tail -5 >&2; t_fail "vm2's input log differs from what was typed"; }
}
rt_vm2
[ "$(cat "$T_TMP/b.rc" 2>/dev/null)" = "" ] || t_fail "vm2 session ended"

stack_alive() {
	kill -0 "$HVPID" 2>/dev/null || t_fail "sccrypt-hvsim died ($1)"
	kill -0 "$CDPID" 2>/dev/null || t_fail "sccrypt-consoled died ($1)"
	[ ! -e "$T_TMP/b.rc" ] || { cat "$T_TMP/b.err" >&2; t_fail "vm2's session ended ($1)"; }
	rt_vm2
}

# ---- the attack harness -----------------------------------------------------
# result NAME OUTCOME RC MESSAGE FAILED: one row of docs/attacks.md's table
# (build-aux/attacks-table), on stdout and in $T_TMP/results.  MESSAGE is
# the part of sccrypt-term's message that the case checks (stable from run
# to run: no fingerprints, times or random bytes).
: >"$T_TMP/results"
result() {
	printf 'ATTACK-RESULT|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" |
	    tr -d '\r' | tee -a "$T_TMP/results"
}
N=0
CTL=$T_TMP/relay.ctl
mkfifo "$CTL"

# victim_start [relay options]: a vm1 session through the evil relay.
victim_start() {
	N=$((N + 1))
	LOGOFF=$(wc -c <"$T_TMP/vm1.input")
	: >"$T_TMP/expect"
	rm -f "$T_TMP/cap.c2s" "$T_TMP/cap.s2c"
	: >"$T_TMP/relay.log"
	cli_start a --pipe vm1 -- "$RELAY" --log "$T_TMP/relay.log" --ctl "$CTL" \
	    --capture "$T_TMP/cap" "$@" -- $(shim_cmd vm1)
}
# a line typed at vm1; $1 = 1 if the guest must receive it; $2: more
# shell after it (e.g. output that comes later, in another record)
TYPED=0
victim_type() {
	TYPED=$((TYPED + 1))
	line="echo MARK\$(($N*100+$TYPED))X${2:-}
"
	[ "$1" = 1 ] && printf '%s' "$line" >>"$T_TMP/expect"
	cli_type a "$line"
	LAST="MARK$((N * 100 + TYPED))X"
}
victim_rt() {	# a legitimate round trip
	victim_type 1
	cli_wait a "$LAST" 100
	cli_quiet a	# the prompt too: the next record is the attacked one
}
relay_arm() {	# relay_arm "ACTION DIR [TYPE]": wait for the relay's ack
	printf '%s\n' "$1" >"$CTL"
	set -- $1
	t_wait 50 grep -q "armed $1 $2\|did $1 $2" "$T_TMP/relay.log" ||
	    { cat "$T_TMP/relay.log" >&2; t_fail "relay did not take '$1'"; }
}
# victim_end NAME RC REGEX EXPECTED-OUTCOME: check everything, add a row.
# A failed check is recorded and the suite goes on (so one finding does not
# hide the others); the test fails at the end if any check failed.
: >"$T_TMP/failures"
case_fail() {
	echo "FAIL: $name: $*" >&2
	printf '%s: %s\n' "$name" "$*" >>"$T_TMP/failures"
	bad="$bad${bad:+; }$*"
}
victim_end() {
	name=$1 want=$2 re=$3 outcome=$4 bad=
	rc=$(cli_rc a 150)
	cli_close a
	if [ "$rc" != "$want" ]; then
		echo "--- client stderr:" >&2; cat "$T_TMP/a.err" >&2
		echo "--- relay log:" >&2; cat "$T_TMP/relay.log" >&2
		tail -4 "$T_TMP/consoled.log" >&2
		case_fail "client exit $rc, expected $want"
	fi
	if [ -n "$re" ] && ! grep -q -- "$re" "$T_TMP/a.err"; then
		echo "--- client stderr:" >&2; cat "$T_TMP/a.err" >&2
		case_fail "client message does not match '$re'"
	fi
	# the guest got exactly the legitimate keystrokes: wait for them (they
	# lag under load), then a little longer for anything late or forged
	t_wait 50 sh -c "tail -c +$((LOGOFF + 1)) '$T_TMP/vm1.input' | cmp -s '$T_TMP/expect' -" ||
	    true
	sleep 0.3
	tail -c +$((LOGOFF + 1)) "$T_TMP/vm1.input" >"$T_TMP/got"
	if ! cmp -s "$T_TMP/expect" "$T_TMP/got"; then
		echo "--- expected:" >&2; od -c "$T_TMP/expect" >&2
		echo "--- guest received:" >&2; od -c "$T_TMP/got" >&2
		case_fail "the guest's input differs from the legitimate keystrokes"
	fi
	# dom0 learned nothing: no typed text, no output in the capture
	for f in "$T_TMP/cap.c2s" "$T_TMP/cap.s2c"; do
		[ -e "$f" ] || continue
		if grep -a -q 'MARK\|RT\$\|echo ' "$f"; then
			case_fail "plaintext in the relay's capture ($(basename "$f"))"
		fi
	done
	stack_alive "$name"
	msg=
	[ -z "$re" ] || msg=$(grep -o -- "$re" "$T_TMP/a.err" | head -1)
	result "$name" "$outcome" "$rc" "$msg" "$bad"
	[ -n "$bad" ] ||
	    t_pass "$name: exit $rc, guest got only legitimate input, no plaintext at dom0, vm2 unaffected"
}

# ---- 0. baseline: the relay only forwards --------------------------------------
victim_start
victim_rt
victim_rt
cli_type a "~."
victim_end "baseline (no attack)" 0 "" "session works through the relay"
t_wait 50 grep -q "done: " "$T_TMP/relay.log" || t_fail "relay did not see the end"

# ---- 1. input records (client -> hv) ------------------------------------------
for act in flip drop truncate reorder; do
	victim_start
	victim_rt
	relay_arm "$act c2s"
	victim_type 0
	if [ $act = reorder ] || [ $act = drop ]; then
		# drop: only the next record shows the gap; reorder: the held
		# record follows this one
		sleep 0.3
		victim_type 0
	fi
	victim_end "$act an input record" 5 "tamper\|protocol violation reported by the hypervisor" \
	    "the hv rejects the record; the session ends; nothing of it reaches the guest"
done

victim_start
victim_rt
relay_arm "dup c2s"
victim_type 1	# the original is authentic and delivered once
victim_end "duplicate an input record" 5 "tamper\|protocol violation reported by the hypervisor" \
    "the copy fails authentication; the keystrokes arrive once"

# ---- 2. output records (hv -> client) --------------------------------------------
for act in flip drop dup truncate reorder; do
	victim_start
	victim_rt
	relay_arm "$act s2c"
	# input is untouched: the guest runs it and answers in two records
	victim_type 1 "; sleep 0.3; echo MARK-LATER"
	victim_end "$act an output record" 5 "connection tampered with" \
	    "the client detects it (exit 5) and shows nothing forged"
done

# ---- 3. replay of recorded input into a new session --------------------------------
victim_start --record "$T_TMP/rec1"
victim_rt
victim_rt
cli_type a "~."
victim_end "record a session (for the replay)" 0 "" "normal session, recorded by dom0"
victim_start --replay "$T_TMP/rec1"
victim_rt
relay_arm "replay c2s"
victim_end "replay input records into a new session" 5 "tamper\|protocol violation reported by the hypervisor" \
    "old ciphertext fails under the new session keys; nothing replayed reaches the guest"
# the recorded HS_INIT sent instead of the new one
victim_start --replay "$T_TMP/rec1" --arm "replace c2s HS_INIT"
victim_type 0
victim_end "replay an old HS_INIT" 4 "refused the handshake" \
    "the hv refuses a replayed message 1; no session (the client says dom0 reported it, unauthenticated)"

# ---- 4. splicing: another VM -------------------------------------------------------
# the shim for vm2 answers a client that asked for vm1
victim_start_route() { N=$((N + 1)); LOGOFF=$(wc -c <"$T_TMP/vm1.input"); : >"$T_TMP/expect"
	rm -f "$T_TMP/cap.c2s" "$T_TMP/cap.s2c"; : >"$T_TMP/relay.log"
	cli_start a --pipe vm1 -- "$RELAY" --log "$T_TMP/relay.log" --ctl "$CTL" \
	    --capture "$T_TMP/cap" "$@" -- $(shim_cmd vm2); }
vm2off=$(wc -c <"$T_TMP/vm2.input")
victim_start_route
victim_type 0
victim_end "route the session to another VM" 4 'dom0 connected this session to VM "vm2", not "vm1"' \
    "the client refuses: the HELLO names another VM"
victim_start_route --hello-vm vm1
victim_type 0
victim_end "route to another VM, HELLO renamed" 4 "the domain UUID in the HELLO is not the one of VM" \
    "the client refuses: the domain UUID is not vm1's"
victim_start_route --hello-vm vm1 --hello-uuid "$(atk_uuid vm1)"
victim_type 0
victim_end "route to another VM, HELLO forged (name + UUID)" 4 "refused the handshake" \
    "the hv of vm2 refuses vm1's handshake (prologue UUID, psk); no session"
# vm1's real HELLO, but the client's HS_INIT goes to vm2's shim
victim_start --splice "$(shim_cmd vm2)"
victim_type 0
victim_end "splice vm1's HS_INIT onto vm2" 4 "refused the handshake" \
    "vm2's hv refuses it (vm1's UUID is in the prologue); no session"
tail -c +$((vm2off + 1)) "$T_TMP/vm2.input" | grep -q MARK &&
    t_fail "vm2's guest received keystrokes meant for vm1"
t_pass "vm2's guest received nothing meant for vm1"

# ---- 5. HELLO and certificate substitution --------------------------------------------
victim_start --hello-key random
victim_type 0
victim_end "substitute the relay's own hv key" 4 "another hypervisor key\|not the one the VMM certificate" \
    "the certificate does not cover the key: refused"
victim_start --hello-key random --cert none
victim_type 0
victim_end "own hv key and no certificate" 4 "dom0 withheld the VMM certificate" \
    "no certificate, key server pinned: refused"
victim_start --cert "$T_TMP/foreign.cert"
victim_type 0
victim_end "certificate from a foreign key server" 4 "key server other than the pinned" \
    "refused: not signed by the pinned key server"
victim_start --cert "$T_TMP/otherhost.cert"
victim_type 0
victim_end "certificate for another host" 4 "another host" \
    "refused: the certificate names another host"

# vm protect through a relay that strips the certificate (issue 12 item 2),
# not strict and with a user who would answer "yes": refused at once, no
# question asked, nothing sent after the HELLO (no blob: neither the VM
# secret nor the disk key), known_hvs untouched.
N=$((N + 1))
name="vm protect, certificate stripped"
rm -f "$T_TMP/cap.c2s" "$T_TMP/cap.s2c" "$T_TMP/p.rc" "$T_TMP/p.in"
: >"$T_TMP/relay.log"; : >"$T_TMP/p.out"
cp "$SCCRYPT_HOME/known_hvs" "$T_TMP/known_hvs.before" 2>/dev/null || : >"$T_TMP/known_hvs.before"
mkfifo "$T_TMP/p.in"
t_bg python3 "$T_TMP/ptyrun.py" "$T_TMP/p.in" "$T_TMP/p.out" "$T_TMP/p.err" "$T_TMP/p.rc" -- \
    "$TERM_BIN" -H $HOSTNAME_ vm protect vm1 -- "$RELAY" --log "$T_TMP/relay.log" \
    --capture "$T_TMP/cap" --cert none -- $(shim_cmd vm1)
exec 9>"$T_TMP/p.in"
asked() { grep -q 'yes/no' "$T_TMP/p.out" "$T_TMP/p.err"; }
t_wait 300 sh -c "test -e '$T_TMP/p.rc' || grep -q 'yes/no' '$T_TMP/p.out' '$T_TMP/p.err'" ||
	{ cat "$T_TMP/p.out" "$T_TMP/p.err" >&2; t_fail "$name: the client neither ended nor asked"; }
bad=
if asked; then
	case_fail "first-use trust offered for vm protect"
	printf 'yes\n' >&9	# the user says yes: see what dom0 gets
fi
t_wait 300 test -e "$T_TMP/p.rc" || t_fail "$name: the client did not exit"
exec 9>&-
rc=$(cat "$T_TMP/p.rc")
[ "$rc" = 4 ] || case_fail "exit $rc, want 4"
grep -q "dom0 withheld the VMM certificate" "$T_TMP/p.err" ||
	case_fail "the refusal does not say that dom0 withheld the certificate"
if [ -e "$SCCRYPT_HOME/known_hvs" ]; then
	cmp -s "$T_TMP/known_hvs.before" "$SCCRYPT_HOME/known_hvs" || case_fail "known_hvs changed"
fi
[ ! -s "$T_TMP/cap.c2s" ] || case_fail "the client sent $(wc -c <"$T_TMP/cap.c2s") bytes to dom0"
result "$name" "refused (exit 4, dom0 withheld the certificate), no prompt, nothing sent" \
    "$rc" "$(grep -o "dom0 withheld the VMM certificate" "$T_TMP/p.err" | head -1)" "$bad"
[ -n "$bad" ] || t_pass "$name: refused without a question, nothing sent to dom0, known_hvs untouched"

# ---- 6. garbage and oversized frames ---------------------------------------------------
for inj in "oversize s2c" "garbage s2c 300" "badtype s2c"; do
	victim_start
	victim_rt
	relay_arm "$inj"
	victim_end "inject $inj" 5 "malformed frame from dom0\|unexpected\|tamper" \
	    "the client ends the session: nothing is sent to the VM"
done
for inj in "bigrecord s2c" "shortrecord s2c"; do
	victim_start
	victim_rt
	relay_arm "$inj"
	victim_end "inject $inj" 5 "connection tampered with" \
	    "the record layer refuses it: tampering, the session ends"
done
# a record over the size limit: consoled refuses it before the hv
victim_start
victim_rt
relay_arm "bigrecord c2s"
victim_type 0
victim_end "inject bigrecord c2s" 6 "dom0 relay (not authenticated): record has a bad size" \
    "consoled refuses it (ERROR, BYE); nothing reaches the guest"
# a record shorter than its tag reaches the hv, which says so, sealed
victim_start
victim_rt
relay_arm "shortrecord c2s"
victim_type 0
victim_end "inject shortrecord c2s" 5 "protocol violation reported by the hypervisor" \
    "the hv ends the session with an authenticated CLOSE; nothing reaches the guest"
for inj in "oversize c2s" "garbage c2s 300" "badtype c2s"; do
	victim_start
	victim_rt
	relay_arm "$inj"
	victim_type 0
	victim_end "inject $inj" 6 "relay" \
	    "consoled rejects the stream (ERROR, BYE); nothing reaches the guest"
done
# a session cut in the middle of an output frame
victim_start
victim_rt
relay_arm "cut s2c"
victim_type 1
victim_end "cut the stream mid-frame" 5 "the connection closed in the middle of a frame" \
    "the session ended without the hv's CLOSE: the client reports the cut (exit 5)"

# ---- 6b. tail truncation (issue 12 item 9) --------------------------------------------
# dom0 drops the end of a session and hangs up, hoping it passes for an
# orderly end.  Only the hv's CLOSE (its counts: every client record arrived)
# ends a session in order; without it the client exits 5.
victim_start
victim_rt
relay_arm "tail c2s 2"
victim_type 0		# dropped: the guest never gets it
cli_type a "~."		# our CLOSE, dropped too; then the relay hangs up
victim_end "drop the last input and the CLOSE, hang up" 5 \
    "without the hypervisor's CLOSE" \
    "the hv never confirms the close: exit 5, the user is told the input may not have arrived"
victim_start
victim_rt
relay_arm "tail s2c 1"
victim_type 1		# the guest runs it; its output record is dropped
victim_end "drop the last output and hang up" 5 "the end of the console output or of your input may be missing" \
    "no hv CLOSE: exit 5, the user is told the end of the output may be missing"
# The same in batch mode (input not a terminal, closed after --linger).
# batch_run FILE WANT-RC RE NAME OUTCOME [relay options]
batch_run() {
	bin=$1 want=$2 re=$3 bname=$4 boutcome=$5; shift 5
	N=$((N + 1))
	LOGOFF=$(wc -c <"$T_TMP/vm1.input")
	rm -f "$T_TMP/cap.c2s" "$T_TMP/cap.s2c" "$T_TMP/a.rc"
	: >"$T_TMP/relay.log"
	: >"$T_TMP/a.out"
	t_bg sh -c 'f=$1; shift; "$@" <"$0" >"$f.out" 2>"$f.err"
	    echo $? >"$f.rc.tmp"; mv "$f.rc.tmp" "$f.rc"' \
	    "$bin" "$T_TMP/a" "$TERM_BIN" -H $HOSTNAME_ --strict-hv-key --linger 300 --pipe vm1 \
	    -- "$RELAY" --log "$T_TMP/relay.log" --capture "$T_TMP/cap" \
	    "$@" -- $(shim_cmd vm1)
	victim_end "$bname" "$want" "$re" "$boutcome"
}
printf 'echo MARK%dX\n' $(( (N + 1) * 100 + 1)) >"$T_TMP/batch1.in"
cp "$T_TMP/batch1.in" "$T_TMP/expect"
batch_run "$T_TMP/batch1.in" 0 "" "batch session, no attack" \
    "input read once open; the close handshake confirms it arrived: exit 0"
grep -q "MARK$((N * 100 + 1))X" "$T_TMP/a.out" ||
    { cat "$T_TMP/a.out" >&2; t_fail "the batch session did not show the guest's answer"; }
printf 'echo MARK%dX\n' $(( (N + 1) * 100 + 1)) >"$T_TMP/batch2.in"
: >"$T_TMP/expect"
batch_run "$T_TMP/batch2.in" 5 "never confirmed your CLOSE" \
    "batch: drop the last input and the CLOSE, hang up" \
    "exit 5 (was 0): the script is told its input may not have reached the VM" \
    --arm "tail c2s 2"

# ---- 7. an expired certificate (issued at set-up, 60 s lifetime) ---------------------------
while [ $(( $(date +%s) - short_issued )) -le 62 ]; do sleep 1; done
victim_start --cert "$T_TMP/short.cert"
victim_type 0
victim_end "expired certificate" 4 "the VMM certificate for $HOSTNAME_ has expired" \
    "refused: the certificate has expired"

# ---- 8. PROTECT: a withheld re-bind answered with an old confirmation -------------------
# (issue 12 items 1 and 5) dom0 records one `vm protect vm1`; at the next one
# it sends the hv the recorded (old) blob instead of the new one and answers
# the client with the recorded PROTECT_OK (status 0, the old confirm, same
# VM secret).  The hv refuses the old blob (its generation is not above the
# domain's); the client refuses the old confirm (it names another blob).
protect_via_relay() {	# protect_via_relay OUT [relay options]
	out=$1; shift
	: >"$T_TMP/relay.log"
	set +e
	"$TERM_BIN" -H $HOSTNAME_ vm protect vm1 -- "$RELAY" --log "$T_TMP/relay.log" \
	    "$@" -- $(shim_cmd vm1) </dev/null >"$out" 2>&1
	prc=$?
	set -e
}
protect_via_relay "$T_TMP/protect-rec.out" --record "$T_TMP/rec-protect"
[ "$prc" = 0 ] && grep -q "confirmed" "$T_TMP/protect-rec.out" ||
    { cat "$T_TMP/protect-rec.out" >&2; t_fail "vm protect through the relay (recorded): exit $prc"; }
protect_via_relay "$T_TMP/protect-atk.out" --replay "$T_TMP/rec-protect" \
    --arm "replace c2s PROTECT" --arm "replace s2c PROTECT_OK"
atk_rc=$prc
grep -q "did replace s2c PROTECT_OK" "$T_TMP/relay.log" ||
    { cat "$T_TMP/relay.log" >&2; t_fail "the relay did not replace PROTECT_OK"; }
if [ "$prc" = 0 ] || ! grep -q "confirmation does not verify" "$T_TMP/protect-atk.out"; then
	cat "$T_TMP/protect-atk.out" >&2
	t_fail "an old PROTECT_OK was accepted for a new blob (exit $prc)"
fi
t_wait 50 grep -q "PROTECT of vm1 by uid $me: expired" "$T_TMP/consoled.log" ||
    { tail -5 "$T_TMP/consoled.log" >&2; t_fail "the hv did not refuse the replayed blob as superseded"; }
result "replay an old PROTECT blob and PROTECT_OK" \
    "the hv refuses the old blob (generation); the client refuses the old confirm" \
    "$atk_rc" "$(grep -o "confirmation does not verify" "$T_TMP/protect-atk.out" | head -1)" ""
protect_via_relay "$T_TMP/protect-again.out"
[ "$prc" = 0 ] || { cat "$T_TMP/protect-again.out" >&2; t_fail "vm protect after the attack: exit $prc"; }
stack_alive "protect replay"
t_pass "withheld re-bind: old blob refused by the hv (expired), old confirm refused by the client (exit $atk_rc); a fresh vm protect is confirmed"

# ---- the table: docs/attacks.md must say what was observed -------------------------------
if ! "$top_srcdir/build-aux/attacks-table" --check "$top_srcdir/docs/attacks.md" "$T_TMP/results"; then
	echo "docs/attacks.md: results table differs from this run" >>"$T_TMP/failures"
fi
cli_type b "~."
[ "$(cli_rc b)" = 0 ] || t_fail "vm2's session did not end cleanly"
t_pass "vm2's session survived $N attacks on vm1 and ends cleanly"
if [ -s "$T_TMP/failures" ]; then
	echo "failed checks:" >&2
	cat "$T_TMP/failures" >&2
	exit 1
fi
