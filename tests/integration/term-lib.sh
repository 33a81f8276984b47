# tests/integration/term-lib.sh — shared setup for the sccrypt-term tests
# (source after tests/lib.sh).  Provides:
#   term_setup          keystore (user key, VM file, pinned key server) and
#                       the test peer's keys, in $T_TMP
#   term_peer_cmd ARGS  the command line of the dom0+hv stand-in
#   term_sshd           an OpenSSH sshd on 127.0.0.1:$SSHD_PORT whose
#                       authorized_keys runs $SSHD_FORCED (forced command)
#   tmux_*              a private tmux server driving the real terminal
#                       (tests/integration/tmux-lib.sh)
# The stand-in (tests/helpers/term-testpeer) is used until the hvsim +
# consoled stack is available; the client is the real program either way.

TERM_BIN=$top_builddir/sccrypt-term/sccrypt-term
PEER_BIN=$top_builddir/tests/helpers/term-testpeer
[ -x "$TERM_BIN" ] || t_skip "sccrypt-term not built (libssh/ncurses/readline missing)"
[ -x "$PEER_BIN" ] || t_skip "term-testpeer not built"

VM=vm1
VM_UUID=6f1c3c52-3d5c-4a8e-9a51-0b3e7d8b1234
PEER_HOST=dom0.test
export SCCRYPT_HOME=$T_TMP/ks

term_setup() {
	mkdir -p "$SCCRYPT_HOME" "$T_TMP/peer"
	chmod 700 "$SCCRYPT_HOME"
	"$TERM_BIN" keygen -N >/dev/null
	head -c 64 /dev/urandom >"$T_TMP/disk.key"
	"$TERM_BIN" vm init $VM --uuid $VM_UUID --disk-key-file "$T_TMP/disk.key" -N >/dev/null
	"$PEER_BIN" init "$T_TMP/peer"
	"$TERM_BIN" keyserver pin "$T_TMP/peer/ks.pub" >/dev/null
}

term_peer_cmd() {
	echo "$PEER_BIN serve $T_TMP/peer $VM --keystore $SCCRYPT_HOME --pidfile $T_TMP/peer.pid $*"
}

# ---- tmux: a 120x40 pane, the last 200 lines of scrollback ----
. "$top_srcdir/tests/integration/tmux-lib.sh"
# The screen without trailing empty lines (for failure reports).
tmux_dump() { tmux_screen | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' | tail -"${1:-30}" >&2; }
tmux_wait() {	# tmux_wait TEXT [tenths]
	t_wait "${2:-100}" tmux_has "$1" || { tmux_dump; t_fail "screen never showed '$1'"; }
}
# The tmux server is not our child: stop it before lib.sh's cleanup.
trap 'tmux_stop; t_cleanup' EXIT
trap 'exit 1' INT TERM

# A script for the pane: stty before, the command, its exit code, stty after.
term_pane_script() {	# term_pane_script FILE CMD...
	f=$1; shift
	cat >"$f" <<EOS
stty -a >"$T_TMP/stty.before"
$*
echo "rc=\$?" >"$T_TMP/rc"
stty -a >"$T_TMP/stty.after"
echo PANE-DONE
sleep 600
EOS
}
term_wait_rc() {
	t_wait 150 test -s "$T_TMP/rc" || { tmux_screen | tail -20 >&2; t_fail "sccrypt-term did not exit"; }
	sed 's/rc=//' "$T_TMP/rc"
}
term_check_stty() {	# the terminal modes must be exactly as before (not its size)
	t_wait 50 test -s "$T_TMP/stty.after" || t_fail "no stty after"
	for f in before after; do
		sed 's/rows [0-9]*; columns [0-9]*;//' "$T_TMP/stty.$f" >"$T_TMP/stty.$f.modes"
	done
	cmp -s "$T_TMP/stty.before.modes" "$T_TMP/stty.after.modes" ||
		{ diff "$T_TMP/stty.before" "$T_TMP/stty.after" >&2; t_fail "terminal not restored ($1)"; }
	rm -f "$T_TMP/stty.before" "$T_TMP/stty.after" "$T_TMP/rc"
}

# ---- sshd ----
# SSHD_EXTRA: config lines put first (sshd takes the first value of a
# keyword), e.g. "PasswordAuthentication yes".  SSHD_DIR: its directory.
term_sshd() {	# needs SSHD_FORCED (the forced command)
	command -v sshd >/dev/null 2>&1 || command -v /usr/sbin/sshd >/dev/null 2>&1 ||
		t_skip "no sshd"
	SSHD=$(command -v sshd || echo /usr/sbin/sshd)
	SSHD_PORT=$(t_free_port)
	d=${SSHD_DIR:-$T_TMP/sshd}
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	[ -e "$T_TMP/id_user" ] || ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/id_user"
	printf 'command="%s",no-port-forwarding,no-agent-forwarding,no-X11-forwarding %s\n' \
		"$SSHD_FORCED" "$(cat "$T_TMP/id_user.pub")" >"$d/authorized_keys"
	chmod 600 "$d/authorized_keys"
	[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
	cat >"$d/sshd_config" <<EOS
${SSHD_EXTRA:-}
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin forced-commands-only
StrictModes no
UsePAM no
PidFile $d/sshd.pid
LogLevel ERROR
EOS
	t_bg "$SSHD" -D -E "$d/sshd.log" -f "$d/sshd_config"
	t_wait 50 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SSHD_PORT)).recv(4)" ||
		t_fail "sshd did not start"
	# known_hosts for both clients
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$d/host_key.pub")" >>"$T_TMP/known_hosts"
	SSH_USER=$(id -un)
}
