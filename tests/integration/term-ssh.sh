#!/bin/sh
# sccrypt-term with real OpenSSH: a test sshd on 127.0.0.1 whose forced
# command plays dom0 (optionally with a sudo-style password prompt in the
# clear phase).
#   - wrap mode around the real ssh client (ssh -t), prompt answered in clear
#   - pipe mode behind ssh -o ProxyCommand=socat
#   - the built-in libssh transport (known_hosts, key auth, -t prompt)
#   - refusal of an unknown host key (libssh, StrictHostKeyChecking=yes)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
command -v ssh >/dev/null 2>&1 || t_skip "no ssh client"
command -v socat >/dev/null 2>&1 || t_skip "no socat"
term_setup

# The forced command: "prompt" asks for a password first (like sudo).
cat >"$T_TMP/forced.sh" <<EOS
#!/bin/sh
case "\$SSH_ORIGINAL_COMMAND" in
*prompt*) exec $(term_peer_cmd) --prompt ;;
*) exec $(term_peer_cmd) ;;
esac
EOS
chmod +x "$T_TMP/forced.sh"
SSHD_FORCED="$T_TMP/forced.sh"
term_sshd

SSH_OPTS="-p $SSHD_PORT -i $T_TMP/id_user -o UserKnownHostsFile=$T_TMP/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -F /dev/null"

# 1. wrap mode: ssh -t, a sudo-style prompt in the clear phase
term_pane_script "$T_TMP/w1" "$TERM_BIN --host $PEER_HOST --wrap $VM -- ssh -t -e none $SSH_OPTS $SSH_USER@127.0.0.1 sudo xenconsole prompt"
tmux_start "$T_TMP/w1"
tmux_wait 'password for tenant:'
tmux_ send-keys 'sudopw' Enter
tmux_wait "encrypted console to $VM"
tmux_wait 'guest\$'
tmux_has sudopw && t_fail "the password was echoed"
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "wrap: exit code"
term_check_stty "wrap mode, after ~."
t_pass "wrap mode around ssh -t with a sudo-style prompt"

# 2. pipe mode behind ssh -o ProxyCommand=socat
term_pane_script "$T_TMP/p1" "$TERM_BIN --host $PEER_HOST --pipe $VM -- ssh -T $SSH_OPTS -o 'ProxyCommand=socat - TCP:127.0.0.1:$SSHD_PORT' $SSH_USER@dom0-via-proxy console"
sed -i "s/-o UserKnownHostsFile=[^ ]*/-o UserKnownHostsFile=$(echo "$T_TMP" | sed 's,/,\\/,g')\/known_hosts_proxy/" "$T_TMP/p1"
sed 's/^\[127.0.0.1\]:[0-9]*/dom0-via-proxy/' "$T_TMP/known_hosts" >"$T_TMP/known_hosts_proxy"
tmux_start "$T_TMP/p1"
tmux_wait "encrypted console to $VM"
tmux_wait 'guest\$'
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "proxy: exit code"
term_check_stty "pipe mode behind ProxyCommand"
t_pass "pipe mode behind ssh -o ProxyCommand=socat"

# 3. the built-in libssh transport
LOPTS="-p $SSHD_PORT -i $T_TMP/id_user -F /dev/null -o UserKnownHostsFile=$T_TMP/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes --host $PEER_HOST"
term_pane_script "$T_TMP/l1" "$TERM_BIN $LOPTS -c console $SSH_USER@127.0.0.1 $VM"
tmux_start "$T_TMP/l1"
tmux_wait "encrypted console to $VM"
tmux_wait 'guest\$'
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "libssh: exit code"
term_check_stty "libssh mode, after ~."
t_pass "libssh transport: known_hosts, key auth, console"

# 4. libssh with a remote pty and the sudo-style prompt
term_pane_script "$T_TMP/l2" "$TERM_BIN $LOPTS -t -c 'sudo xenconsole prompt' $SSH_USER@127.0.0.1 $VM"
tmux_start "$T_TMP/l2"
tmux_wait 'password for tenant:'
tmux_ send-keys 'sudopw' Enter
tmux_wait 'guest\$'
tmux_has sudopw && t_fail "the password was echoed (libssh -t)"
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "libssh -t: exit code"
term_check_stty "libssh -t"
t_pass "libssh transport with -t and a clear-phase prompt"
tmux_stop

# 5. unknown host key: refused, nothing sent
: >"$T_TMP/empty_known_hosts"
set +e
$TERM_BIN -p $SSHD_PORT -i "$T_TMP/id_user" -F /dev/null \
	-o UserKnownHostsFile="$T_TMP/empty_known_hosts" -o StrictHostKeyChecking=yes \
	--host $PEER_HOST $SSH_USER@127.0.0.1 $VM </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "unknown host key: exit $rc"; }
grep -q "Host key verification failed" "$T_TMP/err" || t_fail "unknown host key: message"
t_pass "unknown host key refused (exit 4)"

# 6. a changed host key: loud refusal, naming the known_hosts file and the
#    line of the old key (issue 18 item 7), from -o and from -F's config
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/other_host_key"
{ echo "# known hosts"
  printf '[127.0.0.1]:1 %s\n' "$(cut -d' ' -f1,2 "$T_TMP/other_host_key.pub")"
  printf 'other.test,[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T_TMP/other_host_key.pub")"
} >"$T_TMP/bad_known_hosts"
printf 'Host 127.0.0.1\n\tUserKnownHostsFile %s\n' "$T_TMP/bad_known_hosts" >"$T_TMP/ssh_config_kh"
for how in "-F /dev/null -o UserKnownHostsFile=$T_TMP/bad_known_hosts" "-F $T_TMP/ssh_config_kh"; do
	set +e
	# shellcheck disable=SC2086	# $how: options
	$TERM_BIN -p $SSHD_PORT -i "$T_TMP/id_user" $how --host $PEER_HOST \
		$SSH_USER@127.0.0.1 $VM </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "changed host key ($how): exit $rc"; }
	grep -q "REMOTE HOST IDENTIFICATION HAS CHANGED" "$T_TMP/err" || t_fail "changed host key: message"
	grep -qF "is in $T_TMP/bad_known_hosts, line 3 (remove it" "$T_TMP/err" ||
		{ cat "$T_TMP/err" >&2; t_fail "changed host key ($how): the file and line not named"; }
done
t_pass "changed host key refused loudly (exit 4), the known_hosts file and line named"

# 7. accept-new: the new key is added, said as ssh says it (no function name
#    of ours in front: issue 18 item 7)
: >"$T_TMP/new_known_hosts"
set +e
$TERM_BIN -p $SSHD_PORT -i "$T_TMP/id_user" -F /dev/null \
	-o UserKnownHostsFile="$T_TMP/new_known_hosts" -o StrictHostKeyChecking=accept-new \
	--host $PEER_HOST $SSH_USER@127.0.0.1 $VM </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "accept-new: exit $rc"; }
grep -q "^Warning: Permanently added '127.0.0.1' (ssh-ed25519) to the list of known hosts" "$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "accept-new: not said as ssh says it"; }
[ -s "$T_TMP/new_known_hosts" ] || t_fail "accept-new: known_hosts not written"
t_pass "accept-new: 'Warning: Permanently added ...' as ssh says it, key stored"

# 8. by address without -H: the certificate names the host, the refusal says
#    to name it with -H
set +e
$TERM_BIN -p $SSHD_PORT -i "$T_TMP/id_user" -F /dev/null \
	-o UserKnownHostsFile="$T_TMP/known_hosts" -o StrictHostKeyChecking=yes \
	$SSH_USER@127.0.0.1 $VM </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "by address: exit $rc"; }
grep -q "it names \"$PEER_HOST\", you are connecting to \"127.0.0.1\".*connecting by address? name the host the certificate is for with -H (--host)" "$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "by address: no -H hint"; }
t_pass "by address without -H: refused (exit 4) with the hint to use -H"
