#!/bin/sh
# term-sshauth.sh — the built-in libssh transport against a real OpenSSH
# sshd on 127.0.0.1, ending in the real stack (the forced command execs the
# sccrypt-console shim, consoled, hvsim, a VMM certificate):
#   - password authentication (a wrong password is retried, then refused
#     with exit 4), the password never echoed;
#   - keyboard-interactive authentication through sshd's PAM;
#   - SIGWINCH: a tmux resize-window changes the size of the remote pty
#     (-t), seen by the forced command's `stty size` before it starts the
#     shim.
# Password and keyboard-interactive need a local account with a password,
# so they run as root only (a temporary user, removed at the end); the
# SIGWINCH part uses key authentication and runs for everyone.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"
command -v ssh-keygen >/dev/null 2>&1 || t_skip "no ssh-keygen"

TUSER=
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null 2>&1 &&
    command -v chpasswd >/dev/null 2>&1; then
	TUSER=sct$$
	TPASS=pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
	useradd -M -d /nonexistent -s /bin/sh "$TUSER" || t_fail "useradd"
	trap 'tmux_stop; userdel "$TUSER" 2>/dev/null || true; t_cleanup' EXIT
	echo "$TUSER:$TPASS" | chpasswd || t_fail "chpasswd"
	TREAL_POLICY="allow $(id -u "$TUSER") vm1"
fi
treal_up vm1
# the test user's forced command reads the config and the marker file
chmod 711 "$T_TMP"
chmod 644 "$T_TMP/sccrypt.conf"

# The forced command: print the pty size (again on every SIGWINCH) until
# the test touches $T_TMP/go, then become the real shim.
cat >"$T_TMP/forced.sh" <<EOS
#!/bin/sh
echo "remote size: \$(stty size)"
trap 'echo "remote size: \$(stty size)"' WINCH
while [ ! -e "$T_TMP/go" ]; do sleep 0.1; done
exec $SHIM -f $T_TMP/sccrypt.conf
EOS
chmod 755 "$T_TMP/forced.sh"
SSHD_FORCED="$T_TMP/forced.sh"
SSHD_EXTRA="ForceCommand $T_TMP/forced.sh"
[ -n "$TUSER" ] && SSHD_EXTRA="$SSHD_EXTRA
PasswordAuthentication yes"
term_sshd
PW_PORT=$SSHD_PORT
LOPTS="-F /dev/null -o UserKnownHostsFile=$T_TMP/known_hosts -o StrictHostKeyChecking=yes -H $TREAL_HOST --strict-hv-key -t"

pane_rows() { tmux_ display-message -p '#{pane_height}'; }

# ---- 1. SIGWINCH reaches the remote pty (key authentication) ---------------
rm -f "$T_TMP/go"
treal_pane w1 "$TERM_BIN $LOPTS -p $PW_PORT -i $T_TMP/id_user -o BatchMode=yes $(id -un)@127.0.0.1 vm1"
tmux_wait 'remote size: 40 120'
tmux_ resize-window -x 100 -y 30
tmux_wait 'remote size: 30 100'
tmux_ resize-window -x 90 -y 25
tmux_wait 'remote size: 25 90'
touch "$T_TMP/go"
tmux_wait "encrypted console to vm1"
tmux_ send-keys Enter
guest_run 'echo S$((6*7))Z' S42Z
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "SIGWINCH session: exit code"
term_check_stty "libssh -t with resizes"
t_pass "libssh -t: tmux resize-window changes the remote pty's size (stty size 40x120 -> 30x100 -> 25x90), then the real stack"
tmux_stop

if [ -z "$TUSER" ]; then
	echo "note: password and keyboard-interactive authentication need root (a temporary account); not run"
	exit 0
fi

# ---- 2. password authentication ------------------------------------------
rm -f "$T_TMP/go"
treal_pane p1 "$TERM_BIN $LOPTS -p $PW_PORT $TUSER@127.0.0.1 vm1"
tmux_wait "$TUSER@127.0.0.1's password:"
tmux_ send-keys "wrong-$TPASS" Enter
tmux_wait 'Permission denied, please try again.'
tmux_ send-keys "$TPASS" Enter
tmux_wait 'remote size: 40 120'
tmux_has "$TPASS" && t_fail "the password was echoed"
touch "$T_TMP/go"
tmux_wait "encrypted console to vm1"
tmux_ send-keys Enter
guest_run 'echo P$((5*5))W' P25W
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "password session: exit code"
term_check_stty "password authentication"
t_pass "password authentication (one wrong try, then the right one; never echoed), then the real stack"
tmux_stop

# three wrong passwords: refused, exit 4
treal_pane p2 "$TERM_BIN $LOPTS -p $PW_PORT $TUSER@127.0.0.1 vm1"
for i in 1 2 3; do
	t_wait 100 sh -c "[ \$(tmux -S '$TMUX_SOCK' capture-pane -p | grep -c 'password:') -ge $i ]" ||
		{ tmux_dump; t_fail "password prompt $i"; }
	tmux_ send-keys "bad$i" Enter
done
[ "$(term_wait_rc)" = 4 ] || t_fail "wrong passwords: exit code"
tmux_wait 'Permission denied (authentication failed)'
term_check_stty "wrong passwords"
t_pass "three wrong passwords: refused with exit 4"
tmux_stop

# ---- 3. keyboard-interactive through PAM -----------------------------------
SSHD_DIR=$T_TMP/sshd-kbd
SSHD_EXTRA="ForceCommand $T_TMP/forced.sh
UsePAM yes
KbdInteractiveAuthentication yes
PidFile $T_TMP/sshd-kbd/sshd.pid"
term_sshd
rm -f "$T_TMP/go"
treal_pane k1 "$TERM_BIN $LOPTS -p $SSHD_PORT $TUSER@127.0.0.1 vm1"
if ! t_wait 100 tmux_has '[Pp]assword:'; then
	tmux_dump
	t_fail "no keyboard-interactive prompt"
fi
tmux_has "$TUSER@127.0.0.1's password:" &&
	t_fail "keyboard-interactive expected, the password method was used"
tmux_ send-keys "$TPASS" Enter
if ! t_wait 100 tmux_has 'remote size: 40 120'; then
	tmux_dump
	grep -q pam_loginuid /var/log/auth.log 2>/dev/null &&
		echo "note: PAM's session stack fails in this container" >&2
	t_fail "keyboard-interactive login did not reach the forced command"
fi
tmux_has "$TPASS" && t_fail "the keyboard-interactive answer was echoed"
touch "$T_TMP/go"
tmux_wait "encrypted console to vm1"
tmux_ send-keys Enter
guest_run 'echo K$((9*9))I' K81I
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "keyboard-interactive session: exit code"
term_check_stty "keyboard-interactive"
t_pass "keyboard-interactive authentication (PAM's prompt answered from the terminal, not echoed), then the real stack"
tmux_stop
