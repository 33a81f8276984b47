#!/bin/sh
# fault-clock.sh — the clock passes a certificate's expiry in the middle of
# a session (issue 17, "faults survived"; PROTOCOL.md §10 "Certificate
# policy").  What the design does: the VMM certificate vouches for the hv key
# at the handshake; the session's keys come from that handshake, so a
# session that is open goes on after the certificate expires (it is not cut,
# nothing is lost), and every new session is refused (exit 4, "expired")
# until dom0 serves a fresh certificate.  The key server's shortest lifetime
# (60 s) is used, so the test waits for the real clock to pass the expiry
# (an event: the date, not a guess).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/attack-lib.sh"
atk_need
me=$(id -u)

dom0_keys
atk_start_tpm
atk_start_ks "$T_TMP/ks-main" main --cert-lifetime 60
atk_enroll main $HOSTNAME_
atk_start_hv vm1
atk_client_setup
atk_attest main $HOSTNAME_ "$T_TMP/vmm.cert"
issued=$(date +%s)
dom0_start_consoled <<EOC
allow $me vm1
EOC
atk_bind vm1
CMD=$(shim_cmd vm1)

cli_start a --pipe vm1 -- $CMD
cli_type a 'echo BEFORE$((6*7))
'
cli_wait a BEFORE42 300
[ $(( $(date +%s) - issued )) -lt 60 ] || t_skip "set-up took longer than the certificate's 60 s"
# the real clock passes the expiry (60 s after issuance, +2 s margin)
t_wait 900 sh -c "[ \$(( \$(date +%s) - $issued )) -gt 62 ]" || t_fail "clock"
# the open session goes on
cli_type a 'echo AFTER$((7*7))
'
cli_wait a AFTER49 300
[ ! -e "$T_TMP/a.rc" ] || t_fail "the session ended at the certificate's expiry"
# a new session is refused: the certificate has expired
cli_start b --pipe vm1 -- $CMD
rc=$(cli_rc b 300)
[ "$rc" = 4 ] || { cat "$T_TMP/b.err" >&2; t_fail "new session after expiry: exit $rc, expected 4"; }
grep -q 'expired' "$T_TMP/b.err" || { cat "$T_TMP/b.err" >&2; t_fail "new session: no 'expired' message"; }
cli_close b
# the open one still works and ends in order
cli_type a 'echo STILL$((8*8))
'
cli_wait a STILL64 300
cli_type a "~."
[ "$(cli_rc a)" = 0 ] || { cat "$T_TMP/a.err" >&2; t_fail "the session did not end in order"; }
cli_close a
t_pass "certificate expired mid-session: the open session goes on and ends in order (exit 0); a new one is refused (exit 4, expired)"
