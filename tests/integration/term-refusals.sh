#!/bin/sh
# Refusals from dom0 before any HELLO (issue 18 items 6 and 12): the real
# sccrypt-console refuses in clear and exits with its status; sccrypt-term
# exits 6 ("the dom0 relay reported another error", sccrypt-term(1)) and
# names the refusal, in pipe mode and over the built-in libssh transport.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/dom0-lib.sh"
for p in "$HVSIM" "$CONSOLED" "$SHIM"; do
	[ -x "$p" ] || t_skip "$(basename "$p") not built"
done
term_setup
# vm9 is known to the tenant (a VM file) but not to dom0
"$TERM_BIN" vm init vm9 --uuid "$(cat /proc/sys/kernel/random/uuid)" \
	--disk-key-file "$T_TMP/disk.key" -N >/dev/null
dom0_start_hv plain1
echo "allow $(id -un) *" >"$T_TMP/policy"
dom0_start_consoled <"$T_TMP/policy"	# not in a pipe: t_bg records the pid

refuse() {	# refuse WHAT CODE TEXT CMD...
	what=$1 code=$2 text=$3; shift 3
	set +e
	# no controlling terminal: what the user would see comes to stderr
	setsid -w "$@" </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = "$code" ] || { cat "$T_TMP/err" >&2; t_fail "$what: exit $rc, want $code"; }
	grep -q -- "$text" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "$what: message"; }
	t_pass "$what: exit $code, '$text'"
}

# 1. a VM dom0 does not know (sccrypt-console exit 68)
refuse "unknown VM, pipe mode" 6 "dom0 refused the console of vm9: no such VM" \
	"$TERM_BIN" --pipe vm9 -- "$SHIM" -f "$T_TMP/sccrypt.conf" vm9
cat "$T_TMP/out" "$T_TMP/err" | grep -q "dom0 clear. sccrypt-console: vm9: no such VM" || { cat -A "$T_TMP/err" >&2; t_fail "dom0's own words not shown"; }

# 2. consoled not reachable (exit 69): the shim names the socket it tried
printf 'listen = %s\n' "$T_TMP/nothing-here.sock" >"$T_TMP/bad.conf"
refuse "consoled unreachable, pipe mode" 6 "sccrypt-consoled or the hypervisor is not reachable" \
	"$TERM_BIN" --pipe vm1 -- "$SHIM" -f "$T_TMP/bad.conf" vm1
set +e
"$SHIM" -f "$T_TMP/bad.conf" vm1 </dev/null 2>"$T_TMP/shim.err"
rc=$?
set -e
[ "$rc" = 69 ] || t_fail "shim, consoled unreachable: exit $rc"
grep -q "cannot reach sccrypt-consoled at $T_TMP/nothing-here.sock: .*(configuration: $T_TMP/bad.conf)" "$T_TMP/shim.err" ||
	{ cat "$T_TMP/shim.err" >&2; t_fail "the shim does not name the socket it tried"; }
t_pass "sccrypt-console names the socket and the configuration it tried"

# 3. the same refusal through sshd and the built-in libssh transport
SSHD_FORCED="$SHIM -f $T_TMP/sccrypt.conf"
term_sshd
refuse "unknown VM, libssh transport" 6 "dom0 refused the console of vm9: no such VM" \
	"$TERM_BIN" -p "$SSHD_PORT" -i "$T_TMP/id_user" -F /dev/null \
	-o UserKnownHostsFile="$T_TMP/known_hosts" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -c "xenconsole vm9" "$SSH_USER@127.0.0.1" vm9

# 4. a connection that closes without a word from sccrypt-console stays 3
refuse "silent close, pipe mode" 3 "closed before the console started" \
	"$TERM_BIN" --pipe vm1 -- sh -c 'echo hello; exit 0'

# 5. configuration errors (issue 18 item 12): every one reported, the key
#    named with the nearest valid one; an allow rule for a user that does
#    not exist is an error, not a warning followed by OK
printf 'listen = %s\nmax_client = 3\nbackend = kvm\n' "$T_TMP/x.sock" >"$T_TMP/typo.conf"
set +e
"$CONSOLED" -t -f "$T_TMP/typo.conf" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
set -e
[ "$rc" = 78 ] || { cat "$T_TMP/err" >&2; t_fail "config errors: exit $rc"; }
grep -q "line 2: unknown key 'max_client'; did you mean 'max_clients'?" "$T_TMP/err" &&
	grep -q "line 3: backend: backend must be sim or xen" "$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "config errors: not all reported, or the key not named"; }
printf 'listen = %s\nallow nosuchuser-sc18 *\n' "$T_TMP/x.sock" >"$T_TMP/nouser.conf"
set +e
"$CONSOLED" -t -f "$T_TMP/nouser.conf" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
set -e
[ "$rc" = 78 ] || { cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "allow for no such user: exit $rc"; }
grep -q "allow rule for 'nosuchuser-sc18': no such user" "$T_TMP/err" || t_fail "no such user: message"
t_pass "configuration errors: all reported, keys named and suggested; unknown user refused"
