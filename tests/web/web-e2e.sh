#!/bin/sh
# The web client's protocol code (web/src/client.js, bundled) in Node, with
# no browser, against the real stack through the real gateway: swtpm ->
# sccrypt-hvsim (attested, VMM certificate from sccrypt-keyserver) ->
# sccrypt-consoled -> sccrypt-webgate (wss://, lab CA, token) -> Node.
# A command runs in the guest and its output comes back; the close
# handshake confirms every record; the gateway refuses a wrong token, a
# foreign Origin and a VM the user's policy does not allow; a hostile hop
# in the WebSocket path (tamper, withheld or expired certificate) is
# detected; the same in the armored encoding; the gateway's log and traffic
# hold no plaintext.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/web/lib.sh"
w_need_node
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"
w_need_gate
CERTTOOL=$top_builddir/tests/helpers/term-certtool

treal_up vm1 vm2
# vm2 is bound, but dom0's policy stops allowing this user to open it.
sed -i "/^allow $ME vm2\$/d" "$T_TMP/sccrypt.conf"
kill -HUP "$CONSOLED_PID"
w_start_gate
t_pass "stack up, gateway on $WG_URL"

# 1. a session: a command runs in the guest, output comes back, exit 0
#    (the hv's CLOSE accounted for every record).  It goes through a
#    passive hop that records every byte crossing the gateway (step 5).
mp=$(t_free_port)
t_bg "$NODE" "$W/web-e2e.mjs" --mitm --listen "$mp" --to "$WG_URL" --ca "$T_TMP/ca.pem" \
    --capture "$T_TMP/passive.cap" 2>"$T_TMP/passive.log"
t_wait 100 grep -q "mitm listening" "$T_TMP/passive.log" || t_fail "passive hop did not start"
W_URL=ws://127.0.0.1:$mp/
rc=$(printf 'echo W$((6*7))Z\n' | w_client "$T_TMP/s1" --vm vm1 --expect W42Z)
W_URL=
cat "$T_TMP/s1.err" >&2
[ "$rc" = 0 ] || t_fail "session exit $rc"
grep -q 'W42Z' "$T_TMP/s1" || t_fail "no command output"
grep -q '^STATE encrypted' "$T_TMP/s1.err" || t_fail "never encrypted"
grep -q '^END 0 session closed' "$T_TMP/s1.err" || t_fail "no orderly close"
guest_input vm1 | grep -q 'echo W\$((6\*7))Z' || t_fail "the guest did not get the command"
t_pass "Node web client: command ran in vm1 (W42Z), close handshake exit 0"

# 1b. the armored encoding (the page's "armored encoding", as
#     sccrypt-console --armor): the gateway asks consoled for A, the client
#     follows the HELLO's encoding; a hop tampers with one armored record.
mp=$(t_free_port)
t_bg "$NODE" "$W/web-e2e.mjs" --mitm --listen "$mp" --to "$WG_URL" --ca "$T_TMP/ca.pem" \
    --capture "$T_TMP/armor.cap" 2>"$T_TMP/armor.log"
t_wait 100 grep -q "mitm listening" "$T_TMP/armor.log" || t_fail "armor hop did not start"
W_URL=ws://127.0.0.1:$mp/
rc=$(printf 'echo R$((6*8))Q\n' | w_client "$T_TMP/s1a" --vm vm1 --armor --expect R48Q)
W_URL=
[ "$rc" = 0 ] && grep -q 'R48Q' "$T_TMP/s1a" && grep -q '^END 0 session closed' "$T_TMP/s1a.err" ||
	{ cat "$T_TMP/s1a.err" >&2; t_fail "armored session: exit $rc"; }
grep -aq 'SCCRYPT:A' "$T_TMP/armor.cap" || t_fail "the relay did not announce the armored encoding"
! grep -aq 'SCCRYPT:B' "$T_TMP/armor.cap" || t_fail "binary frames in the armored session"
grep -q "user $(id -un): console vm1 (armored)" "$T_TMP/webgate.log" || t_fail "the gateway did not ask for A"
mp=$(t_free_port)
t_bg "$NODE" "$W/web-e2e.mjs" --mitm --listen "$mp" --to "$WG_URL" --ca "$T_TMP/ca.pem" \
    --arm flip@1 2>"$T_TMP/armor-flip.log"
t_wait 100 grep -q "mitm listening" "$T_TMP/armor-flip.log" || t_fail "armor flip hop did not start"
W_URL=ws://127.0.0.1:$mp/
rc=$(printf 'echo S$((5*5))S\n' | w_client "$T_TMP/s1b" --vm vm1 --armor)
W_URL=
[ "$rc" = 5 ] && grep -q '^STATE tampered' "$T_TMP/s1b.err" && grep -q 'hit flip' "$T_TMP/armor-flip.log" ||
	{ cat "$T_TMP/s1b.err" >&2; t_fail "armored tamper: exit $rc"; }
! grep -q 'S25S' "$T_TMP/s1b" || t_fail "output after tampering"
t_pass "armored encoding end to end: command ran (R48Q), close handshake; a flipped armored record: tampered, exit 5"

# 2. the gateway's refusals (clear, from dom0: exit 6 / 3), nothing reaches the guest
before=$(guest_input vm1 | wc -c)
WG_TOKEN_SAVED=$WG_TOKEN
WG_TOKEN=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
rc=$(printf 'echo BAD1\n' | w_client "$T_TMP/s2" --vm vm1)
WG_TOKEN=$WG_TOKEN_SAVED
[ "$rc" = 6 ] && grep -q 'GATEWAY refused ERR perm unknown token' "$T_TMP/s2.err" ||
	{ cat "$T_TMP/s2.err" >&2; t_fail "wrong token: exit $rc"; }
rc=$(printf 'echo BAD2\n' | w_client "$T_TMP/s3" --vm vm1 --origin https://evil.example)
[ "$rc" = 3 ] || { cat "$T_TMP/s3.err" >&2; t_fail "foreign Origin: exit $rc"; }
grep -q "Origin 'https://evil.example' not allowed" "$T_TMP/webgate.log" || t_fail "Origin refusal not logged"
before2=$(guest_input vm2 | wc -c)
t_wait 100 sh -c "printf 'echo BAD3\n' | \"\$NODE\" '$W/web-e2e.mjs' --url '$WG_URL' --ca '$T_TMP/ca.pem' --token '$WG_TOKEN' --home '$SCCRYPT_HOME' --host $TREAL_HOST --origin null --vm vm2 2>&1 | grep -q 'GATEWAY refused ERR perm'" ||
	t_fail "vm2 outside the user's policy was not refused (perm)"
[ "$(guest_input vm1 | wc -c)" = "$before" ] && [ "$(guest_input vm2 | wc -c)" = "$before2" ] ||
	t_fail "a refused connection reached a guest"
t_pass "refused: wrong token (exit 6), foreign Origin (exit 3), a VM outside dom0's policy (perm); nothing reached a guest"

# 3. a hostile hop in the WebSocket path: tamper with one record from the
#    gateway -> tampered, exit 5, the record's content never shown.
mp=$(t_free_port)
t_bg "$NODE" "$W/web-e2e.mjs" --mitm --listen "$mp" --to "$WG_URL" --ca "$T_TMP/ca.pem" \
    --capture "$T_TMP/tamper.cap" --arm flip@2 2>"$T_TMP/tamper.log"
MITM_PID=$!
t_wait 100 grep -q "mitm listening" "$T_TMP/tamper.log" || t_fail "mitm did not start"
W_URL=ws://127.0.0.1:$mp/
rc=$( (printf 'echo T$((1+1))T\n'; sleep 1; printf 'echo U$((2+2))U\n'; sleep 1; printf 'echo V$((3+3))V\n') |
	w_client "$T_TMP/s5" --vm vm1)
cat "$T_TMP/s5.err" >&2
[ "$rc" = 5 ] || t_fail "tampered session: exit $rc"
grep -q '^STATE tampered' "$T_TMP/s5.err" || t_fail "no tamper state"
grep -q 'connection tampered with' "$T_TMP/s5.err" || t_fail "no tamper message"
grep -q 'hit flip' "$T_TMP/tamper.log" || t_fail "the hop never tampered"
t_pass "a flipped bit in the gateway path: tampered, exit 5"
kill "$MITM_PID"

# 4. withheld and expired certificates (the hop rewrites the HELLO): exit 4,
#    no handshake message, nothing typed reaches the guest.
"$CERTTOOL" "$T_TMP/ks-main/signing.key" "$T_TMP/good.cert" "$T_TMP/expired.cert" --expired ||
	t_fail "term-certtool --expired"
for what in nocert "cert:$T_TMP/expired.cert"; do
	mp=$(t_free_port)
	t_bg "$NODE" "$W/web-e2e.mjs" --mitm --listen "$mp" --to "$WG_URL" --ca "$T_TMP/ca.pem" \
	    --arm "hello-$what" 2>"$T_TMP/hello.log"
	MITM_PID=$!
	t_wait 100 grep -q "mitm listening" "$T_TMP/hello.log" || t_fail "mitm did not start"
	W_URL=ws://127.0.0.1:$mp/
	before=$(guest_input vm1 | wc -c)
	rc=$(printf 'echo NOPE\n' | w_client "$T_TMP/s6" --vm vm1)
	[ "$rc" = 4 ] || { cat "$T_TMP/s6.err" >&2; t_fail "$what: exit $rc"; }
	case $what in
	nocert) grep -q 'withheld the VMM certificate' "$T_TMP/s6.err" || t_fail "withheld: message" ;;
	*) grep -q 'certificate is expired' "$T_TMP/s6.err" || t_fail "expired: message" ;;
	esac
	[ "$(guest_input vm1 | wc -c)" = "$before" ] || t_fail "$what: input reached the guest"
	kill "$MITM_PID"
	t_pass "HELLO $what: refused (exit 4), nothing sent"
done
W_URL=

# 5. eavesdrop: the gateway's log and everything that crossed the hostile
#    hop (what a dom0 observer of the gateway sees) hold no plaintext.
for f in "$T_TMP/webgate.log" "$T_TMP/passive.cap" "$T_TMP/tamper.cap" "$T_TMP/armor.cap"; do
	for s in 'echo W' 'W42Z' 'echo T' 'T2T' 'echo U' 'echo V' 'echo R' 'R48Q'; do
		! grep -aqF "$s" "$f" || t_fail "plaintext '$s' in $(basename "$f")"
	done
done
n=$(wc -c <"$T_TMP/passive.cap")
[ "$n" -gt 600 ] || t_fail "only $n bytes captured"
grep -aq 'SCCRYPT:B' "$T_TMP/passive.cap" && grep -aq vm1 "$T_TMP/passive.cap" ||
	t_fail "the capture lacks the clear HELLO: it does not see the gateway traffic"
t_pass "eavesdrop: 0 plaintext hits in the gateway log and its traffic ($(cat "$T_TMP/passive.cap" "$T_TMP/tamper.cap" | wc -c) bytes)"
