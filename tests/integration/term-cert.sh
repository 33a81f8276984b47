#!/bin/sh
# term-cert.sh — sccrypt-term trusts the hypervisor on a REAL VMM
# certificate: swtpm, sccrypt-hvsim extending PCR 15 with its key,
# sccrypt-keyserver + sccrypt-attest issuing the certificate, consoled
# handing it out in the HELLO (its `certificate` file), the shim as the
# transport.  The client, with only the key server key pinned, connects
# without --trust-hv-key; it refuses (exit 4, a message naming the reason,
# nothing typed reaches the guest) a certificate for another host, an
# expired one, one from a foreign key server, one for another hv key, and
# one it cannot check because no key server is pinned.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"
CERTTOOL=$top_builddir/tests/helpers/term-certtool
[ -x "$CERTTOOL" ] || t_skip "term-certtool not built"

treal_up vm1
t_pass "stack up: hv key measured into PCR 15, attested, certificate for $TREAL_HOST"

# 0. the certificate itself, checked by the client's own subcommand
"$TERM_BIN" cert verify "$T_TMP/vmm.cert" --host $TREAL_HOST >"$T_TMP/out" ||
	{ cat "$T_TMP/out" >&2; t_fail "cert verify"; }
grep -q "valid for host $TREAL_HOST" "$T_TMP/out" || t_fail "cert verify: output"
grep -q "(pinned key server)" "$T_TMP/out" || t_fail "cert verify: signer"
hvfp=$("$TERM_BIN" cert show "$T_TMP/vmm.cert" | sed -n 's/^  hv key *//p')
[ -n "$hvfp" ] || t_fail "no hv key in the certificate"
grep -q "hv key fingerprint $hvfp" "$T_TMP/hvsim.log" ||
	t_fail "the certificate does not name hvsim's key"
t_pass "cert verify: signed by the pinned key server, for $TREAL_HOST, names hvsim's key $hvfp"

# 1. an interactive session on the certificate alone (no --trust-hv-key,
#    never asked: --strict-hv-key)
treal_pane s1 "$TERM_BIN -H $TREAL_HOST --strict-hv-key --pipe vm1 -- $(shim_cmd vm1)"
tmux_wait "encrypted console to vm1 (hv key $hvfp, VMM certificate)"
tmux_ send-keys Enter
guest_run 'echo C$((40+2))D' C42D
tmux_ send-keys Enter '~#'
tmux_wait "certificate for $TREAL_HOST, expires in"
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "certified session: exit code"
term_check_stty "certified session"
[ ! -s "$SCCRYPT_HOME/known_hvs" ] || t_fail "known_hvs written for a certified key"
t_pass "session on the VMM certificate alone: no --trust-hv-key, no prompt, nothing pinned"
tmux_stop

# 2. refusals: consoled hands out another certificate each time
refuse() {	# refuse WHAT CERT TEXT [client options]
	what=$1 cert=$2 text=$3; shift 3
	cp "$cert" "$T_TMP/vmm.cert"
	before=$(guest_input vm1 | wc -c)
	set +e
	printf 'echo LEAKED-%s\n' "$what" |
	    "$TERM_BIN" -H $TREAL_HOST "$@" --pipe vm1 -- $(shim_cmd vm1) \
	    >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "$what: exit $rc, want 4"; }
	grep -q -- "$text" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "$what: message"; }
	grep -q "refusing" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "$what: not a refusal"; }
	[ "$(guest_input vm1 | wc -c)" = "$before" ] || t_fail "$what: the guest got input"
	! grep -q LEAKED "$T_TMP/out" || t_fail "$what: the keystrokes came back"
	t_pass "refused (exit 4): $what"
}

# a certificate for another host: the same TPM enrolled under a second
# name at the pinned key server, attested for hvsim's key
"$AT_BIN" -q --create-ak --insecure-ak --ak-handle 0x81010077 -n hv9 >"$T_TMP/enroll-hv9.json" ||
	t_fail "second AK"
curl -sf -m 5 -H "Authorization: Bearer $(cat "$T_TMP/ks-main/operator.token")" \
	--data-binary @"$T_TMP/enroll-hv9.json" "$KSURL_main/v1/hosts" >/dev/null ||
	t_fail "enroll hv9"
"$AT_BIN" -q -k "$KSURL_main" -n hv9 --ak-handle 0x81010077 -s "$T_TMP/hv.sock" \
	-K "$T_TMP/main.pub" -o "$T_TMP/hv9.cert" 2>"$T_TMP/agent.err" ||
	{ cat "$T_TMP/agent.err" >&2; t_fail "attest as hv9"; }
refuse "certificate for another host" "$T_TMP/hv9.cert" \
	"for another host: it names \"hv9\", you are connecting to \"$TREAL_HOST\""

# expired: re-issued with the key server's own signing key, lifetime over
"$CERTTOOL" "$T_TMP/ks-main/signing.key" "$T_TMP/good.cert" "$T_TMP/expired.cert" \
	--expired || t_fail "term-certtool --expired"
"$TERM_BIN" cert verify "$T_TMP/expired.cert" --host $TREAL_HOST >"$T_TMP/out" &&
	t_fail "cert verify accepted an expired certificate"
grep -q "INVALID: expired" "$T_TMP/out" || t_fail "cert verify: expired message"
refuse "expired certificate" "$T_TMP/expired.cert" "has expired"

# a foreign key server: a real attestation, but not the pinned signer
atk_start_ks "$T_TMP/ks-other" other
atk_enroll other $TREAL_HOST
atk_attest other $TREAL_HOST "$T_TMP/foreign.cert"
refuse "certificate from a foreign key server" "$T_TMP/foreign.cert" \
	"signed by a key server other than the pinned one"

# a hypervisor key other than the certified one (what a stale certificate
# or a fake dom0 presenting its own key looks like), signed by the pinned
# key server for the right host
"$CERTTOOL" "$T_TMP/ks-main/signing.key" "$T_TMP/good.cert" "$T_TMP/otherkey.cert" \
	--other-hv-key || t_fail "term-certtool --other-hv-key"
refuse "hv key differs from the certified one" "$T_TMP/otherkey.cert" \
	"the hypervisor key $hvfp that dom0 presented is not the one the VMM certificate"

# the user asks for another host than the certificate names
refuse "certificate for a host other than -H" "$T_TMP/good.cert" \
	"you are connecting to \"hv-elsewhere\"" -H hv-elsewhere

# no key server pinned: the certificate cannot be checked
mv "$SCCRYPT_HOME/keyserver.pub" "$T_TMP/pinned.pub"
refuse "no key server pinned" "$T_TMP/good.cert" "no key server key is pinned" \
	--strict-hv-key
mv "$T_TMP/pinned.pub" "$SCCRYPT_HOME/keyserver.pub"

# 3. the good certificate again: a scripted session works
cp "$T_TMP/good.cert" "$T_TMP/vmm.cert"
set +e
printf 'echo E$((3*3))F\n' | "$TERM_BIN" -H $TREAL_HOST --strict-hv-key --pipe vm1 -- \
	$(shim_cmd vm1) >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "good certificate again: exit $rc"; }
grep -q E9F "$T_TMP/out" || { cat "$T_TMP/out" >&2; t_fail "good certificate again: output"; }
! guest_input vm1 | grep -q LEAKED || t_fail "a refused session's keystrokes reached the guest"
t_pass "with the good certificate back, a scripted session round-trips; no refused keystroke ever reached the guest"
