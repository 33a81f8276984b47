#!/bin/sh
# Ctrl-C in sccrypt-term under tmux (issue 18 items 2 and 3):
#   1. at the ~C command line it cancels the line (the command does not
#      run) and the session goes on;
#   2. while connecting (a server that accepts and never answers) it ends
#      sccrypt-term at once: exit 130, a message, the terminal restored;
#   3. at the hypervisor-key yes/no question: the same, nothing trusted;
#   4. before the HELLO (dom0 runs but stays silent, terminal raw): the same.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
term_setup

PIPE="$TERM_BIN --host $PEER_HOST --pipe $VM --"

# The pane's shell is in the foreground process group too: it must outlive
# the Ctrl-C to record the exit code (a trap, not an ignore: sccrypt-term
# inherits the default disposition, as from an interactive shell).
pane_script() {	# pane_script FILE CMD
	term_pane_script "$@"
	sed -i '1i trap : INT QUIT' "$1"
}

# An exit within 5 s of the Ctrl-C (the blocking steps below would take
# 60 s or forever without the fix).
quick_rc() {
	t_wait 50 test -s "$T_TMP/rc" || { tmux_dump; t_fail "$1: no exit within 5 s of Ctrl-C"; }
	sed 's/rc=//' "$T_TMP/rc"
}

# 1. ~C, a command typed, Ctrl-C: cancelled, not run; the session goes on
term_pane_script "$T_TMP/s1" "$PIPE $(term_peer_cmd)"
tmux_start "$T_TMP/s1"
tmux_wait 'guest\$'
tmux_ send-keys Enter '~C'
tmux_wait 'sccrypt>'
tmux_ send-keys 'rekey'
tmux_wait 'sccrypt> rekey'
tmux_ send-keys C-c
tmux_wait 'command line cancelled'
tmux_has 'rekeyed' && { tmux_dump; t_fail "the cancelled command ran"; }
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
# the next ~C line works, and its command runs
tmux_ send-keys Enter '~C'
t_wait 100 sh -c "[ \$(tmux -S '$TMUX_SOCK' capture-pane -p -S -200 | grep -c 'sccrypt>') -ge 2 ]" ||
	{ tmux_dump; t_fail "no second command line"; }
tmux_ send-keys 'rekey' Enter
tmux_wait 'rekeyed'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || { tmux_dump; t_fail "~C ^C: exit code (the interrupt must not end the session)"; }
term_check_stty "after ~C and Ctrl-C"
t_pass "Ctrl-C at ~C cancels the line; the session goes on"

# 2. connecting to a server that accepts and never answers
PORT=$(t_free_port)
cat >"$T_TMP/mute.py" <<EOS
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", $PORT)); s.listen(4)
open("$T_TMP/listening", "w").write("yes")
c, _ = s.accept()
open("$T_TMP/accepted", "w").write("yes")
time.sleep(300)
EOS
t_bg python3 "$T_TMP/mute.py"
t_wait 100 test -e "$T_TMP/listening" || t_fail "the mute server did not start"
: >"$T_TMP/kh"
pane_script "$T_TMP/s2" "$TERM_BIN -p $PORT -F /dev/null -o UserKnownHostsFile=$T_TMP/kh -o ConnectTimeout=60 --host $PEER_HOST 127.0.0.1 $VM"
tmux_start "$T_TMP/s2"
t_wait 100 test -e "$T_TMP/accepted" || { tmux_dump; t_fail "sccrypt-term never connected"; }
tmux_ send-keys C-c
[ "$(quick_rc connecting)" = 130 ] || { tmux_dump; t_fail "connecting: exit code"; }
tmux_wait 'interrupted while connecting to 127.0.0.1'
term_check_stty "Ctrl-C while connecting"
t_pass "Ctrl-C while connecting ends at once (exit 130), terminal restored"

# 3. the hypervisor-key question (a keystore without a pinned key server,
#    a HELLO without a certificate: trust on first use is asked)
export SCCRYPT_HOME=$T_TMP/ks2
mkdir -p "$SCCRYPT_HOME"; chmod 700 "$SCCRYPT_HOME"
"$TERM_BIN" keygen -N >/dev/null
"$TERM_BIN" vm init $VM --uuid $VM_UUID --disk-key-file "$T_TMP/disk.key" -N >/dev/null
pane_script "$T_TMP/s3" "$PIPE $(term_peer_cmd --cert none)"
tmux_start "$T_TMP/s3"
tmux_wait 'yes/no'
tmux_ send-keys C-c
[ "$(quick_rc "hv key question")" = 130 ] || { tmux_dump; t_fail "hv key question: exit code"; }
tmux_wait 'interrupted at the hypervisor key question'
tmux_has 'Please type' && { tmux_dump; t_fail "Ctrl-C was taken for an answer"; }
[ ! -s "$SCCRYPT_HOME/known_hvs" ] || t_fail "a key was trusted"
term_check_stty "Ctrl-C at the hv key question"
t_pass "Ctrl-C at the hypervisor-key question ends at once (exit 130), nothing trusted"
export SCCRYPT_HOME=$T_TMP/ks

# 4. dom0 runs but never sends the HELLO; the terminal is raw (wrap mode)
pane_script "$T_TMP/s4" "$TERM_BIN --host $PEER_HOST --wrap $VM -- sh -c 'echo silent-dom0; sleep 300'"
tmux_start "$T_TMP/s4"
tmux_wait 'silent-dom0'
tmux_ send-keys C-c
[ "$(quick_rc "before the HELLO")" = 130 ] || { tmux_dump; t_fail "before the HELLO: exit code"; }
tmux_wait 'interrupted (Ctrl-C) before the encrypted session started'
term_check_stty "Ctrl-C before the HELLO"
t_pass "Ctrl-C before the HELLO ends at once (exit 130), terminal restored"
