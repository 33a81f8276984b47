#!/bin/sh
# dom0-shim-reject: the real sccrypt-console binary against a real
# sccrypt-consoled (no hypervisor needed: policy and grammar are decided
# before it).  Every hostile command is rejected with exit 64, executes
# nothing (each one would create a marker file if any shell ran it) and
# never reaches consoled; a VM the policy does not allow gives 77; an
# allowed VM gets as far as "hypervisor not reachable" (69).  As root, also
# the sudo path: SUDO_UID is passed as as= and checked against the policy,
# and -f is refused before any file is opened.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

SHIM="$top_builddir/dom0-forced-command/sccrypt-console"
CD="$top_builddir/consoled/sccrypt-consoled"
[ -x "$SHIM" ] && [ -x "$CD" ] || t_skip "programs not built"

me=$(id -u)
M="$T_TMP/marker"
cat >"$T_TMP/sccrypt.conf" <<EOC
backend = sim
hv_socket = $T_TMP/no-hv.sock
listen = $T_TMP/cd.sock
pid_file =
log_level = debug
allow $me vm1
allow 65534 nobodyvm
EOC
t_bg "$CD" -F -f "$T_TMP/sccrypt.conf" 2>"$T_TMP/consoled.log"
t_wait 50 test -S "$T_TMP/cd.sock" || t_fail "consoled did not start"

clients() { grep -c 'client from uid' "$T_TMP/consoled.log" || true; }

run_soc() {	# SSH_ORIGINAL_COMMAND, expected status
	set +e
	SSH_ORIGINAL_COMMAND="$1" "$SHIM" -f "$T_TMP/sccrypt.conf" </dev/null \
	    >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = "$2" ] || t_fail "[$1]: exit $rc, expected $2 ($(cat "$T_TMP/err"))"
	[ "$(wc -l <"$T_TMP/err")" -le 1 ] || t_fail "[$1]: more than one line on stderr"
}

before=$(clients)
n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	run_soc "$cmd" 64
	grep -q '^sccrypt-console: rejected: ' "$T_TMP/err" ||
	    t_fail "[$cmd]: no 'rejected' line"
done <<EOC
sccrypt-console vm1; touch $M.1
; touch $M.2
sccrypt-console \$(touch $M.3)
sccrypt-console \`touch $M.4\`
xenconsole vm1 && touch $M.5
sccrypt-console vm1 | touch $M.6
sccrypt-console ../../../etc/passwd
sccrypt-console ..
sccrypt-console /etc/shadow
sccrypt-console 'vm1'
sccrypt-console vm1 > $M.7
sudo touch $M.8
sh -c "touch $M.9"
bash
touch $M.10
scp -t /tmp
internal-sftp
sccrypt-console --shell vm1
sccrypt-console aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
xl list
xenconsole --num 1 vm1
vm1
EOC
# Newlines, empty commands and control bytes.
run_soc "$(printf 'sccrypt-console vm1\ntouch %s.11' "$M")" 64
run_soc "" 64
run_soc "   " 64
run_soc "$(printf 'sccrypt-console vm\033[2J')" 64
# argv form (no SSH_ORIGINAL_COMMAND).
set +e
"$SHIM" -f "$T_TMP/sccrypt.conf" "vm1;touch $M.12" </dev/null 2>/dev/null; rc1=$?
"$SHIM" -f "$T_TMP/sccrypt.conf" </dev/null 2>/dev/null; rc2=$?
"$SHIM" -f "$T_TMP/sccrypt.conf" vm1 extra </dev/null 2>/dev/null; rc3=$?
set -e
[ "$rc1$rc2$rc3" = "646464" ] || t_fail "argv rejections: $rc1 $rc2 $rc3"

ls "$M".* >/dev/null 2>&1 && t_fail "a rejected command was executed: $(ls "$M".*)"
[ "$(clients)" = "$before" ] || t_fail "a rejected command reached consoled"
t_pass "$((n + 7)) hostile commands rejected (64), nothing executed, consoled never asked"

# A forced command with extra arguments is a configuration error.
set +e
SSH_ORIGINAL_COMMAND="sccrypt-console vm1" "$SHIM" -f "$T_TMP/sccrypt.conf" vm2 \
    </dev/null 2>/dev/null
rc=$?
set -e
[ "$rc" = 78 ] || t_fail "extra forced-command arguments: exit $rc, expected 78"

# The shim reads listen and stall_timeout (lib/ctlconf.c, issue 19 item 2):
# a bad one is a configuration error naming the line, not the content, and
# nothing reaches consoled.
before=$(clients)
for bad in "listen = relative/cd.sock" "stall_timeout = 0" "listen = /a b c"; do
	printf 'backend = sim\n%s\n' "$bad" >"$T_TMP/bad.conf"
	set +e
	SSH_ORIGINAL_COMMAND="sccrypt-console vm1" "$SHIM" -f "$T_TMP/bad.conf" \
	    </dev/null 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = 78 ] || t_fail "[$bad]: exit $rc, expected 78"
	grep -q "bad.conf: line 2: " "$T_TMP/err" || t_fail "[$bad]: $(cat "$T_TMP/err")"
	! grep -q 'relative' "$T_TMP/err" || t_fail "[$bad]: the file's content was echoed"
done
[ "$(clients)" = "$before" ] || t_fail "a shim with a bad configuration reached consoled"
t_pass "configuration: a bad listen or stall_timeout is refused (78) with its line"

# Policy: a VM this user may not use; then an allowed one (no hv: 69).
run_soc "sccrypt-console secretvm" 77
grep -q 'permission denied' "$T_TMP/err" || t_fail "no permission message"
run_soc "xenconsole vm1" 69
run_soc "sudo sccrypt-console --armor vm1" 69
t_pass "policy: 77 for a VM not allowed; allowed VM reaches the hypervisor check"

# --version needs no daemon and no configuration.
SSH_ORIGINAL_COMMAND="sccrypt-console --version" "$SHIM" | grep -q '^sccrypt-console ' ||
    t_fail "--version"

if [ "$me" = 0 ]; then
	# Under sudo every argument is the tenant's: -f is refused before any
	# file is opened, so a root-only file, a missing one and a real
	# configuration all give the same answer (no probing as root).
	printf 'secret\n' >"$T_TMP/rootonly"
	chmod 0600 "$T_TMP/rootonly"
	before=$(clients)
	for f in /etc/shadow "$T_TMP/rootonly" "$T_TMP/missing" "$T_TMP/sccrypt.conf"; do
		set +e
		SUDO_UID=65534 SUDO_GID=65534 "$SHIM" -f "$f" nobodyvm </dev/null \
		    2>"$T_TMP/err.f"; rc=$?
		set -e
		[ "$rc" = 78 ] || t_fail "sudo -f $f: exit $rc, expected 78"
		if [ -e "$T_TMP/err.first" ]; then
			cmp -s "$T_TMP/err.first" "$T_TMP/err.f" ||
			    t_fail "sudo -f $f: answer differs: $(cat "$T_TMP/err.f")"
		else
			cp "$T_TMP/err.f" "$T_TMP/err.first"
		fi
	done
	grep -q 'under sudo, -f is not accepted' "$T_TMP/err.first" ||
	    t_fail "sudo -f: $(cat "$T_TMP/err.first")"
	[ "$(clients)" = "$before" ] || t_fail "sudo -f reached consoled"
	t_pass "sudo: -f refused (78) before opening anything, same answer for every file"

	# Simulated sudo (we are root; sudo itself is exercised in dom0-sshd.sh
	# when available): SUDO_UID is the user consoled must check.  The shim
	# reads only its default configuration: dom0_sudo_setup makes its default
	# socket lead to this consoled.
	if dom0_sudo_setup "$T_TMP/cd.sock"; then
		set +e
		SUDO_UID=65534 SUDO_GID=65534 "$T_TMP/sudo-shim" nobodyvm \
		    </dev/null 2>"$T_TMP/err"; rc=$?
		SUDO_UID=65534 SUDO_GID=65534 "$T_TMP/sudo-shim" vm1 \
		    </dev/null 2>"$T_TMP/err2"; rc2=$?
		set -e
		[ "$rc" = 69 ] || t_fail "sudo as 65534 to nobodyvm: exit $rc ($(cat "$T_TMP/err"))"
		[ "$rc2" = 77 ] || t_fail "sudo as 65534 to vm1 (root's VM): exit $rc2"
		grep -q 'uid 65534 denied console of vm1' "$T_TMP/consoled.log" ||
		    t_fail "consoled did not check the sudo user"
		t_pass "sudo (simulated as root: SUDO_UID=65534): as= checked by the policy"
	fi
else
	echo "note: not root; the sudo path is tested only as root"
fi
