# tests/integration/lab-lib.sh — shared setup for the sccrypt-lab tests
# (source after tests/lib.sh): the lab in $T_TMP/lab, a private tmux server,
# and a cleanup that stops both before lib.sh removes the directory.

LAB_BIN=$top_builddir/lab/sccrypt-lab
[ -x "$LAB_BIN" ] || t_skip "lab/sccrypt-lab not built"
for p in hv/sim/sccrypt-hvsim consoled/sccrypt-consoled dom0-forced-command/sccrypt-console \
    keyserver/sccrypt-keyserver keyserver/sccrypt-attest sccrypt-term/sccrypt-term; do
	[ -x "$top_builddir/$p" ] || t_skip "$p not built"
done
t_need_cmds tmux swtpm tpm2_pcrread cryptsetup curl ssh ssh-keygen
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || t_skip "sshd not installed"

LAB_DIR=$T_TMP/lab
lab() { "$LAB_BIN" -d "$LAB_DIR" "$@"; }

# Every process of the lab carries SCCRYPT_LAB_ID=<id>; sshd rewrites its
# environment, its title names the lab's sshd_config.
lab_pids() {
	id=$(sed -n 's/^LAB_ID=//p' "$LAB_DIR/lab.env" 2>/dev/null)
	[ -n "$id" ] || return 0
	for e in /proc/[0-9]*/environ; do
		p=${e#/proc/}
		p=${p%/environ}
		if grep -qz "^SCCRYPT_LAB_ID=$id\$" "$e" 2>/dev/null ||
		    tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -Eq \
		    "^(sshd: )?[^ ]*(sccrypt-keyserver|sccrypt-hvsim|sccrypt-attest|sccrypt-consoled|swtpm|sshd|strace) .*$LAB_DIR/"; then
			echo "$p"
		fi
	done
}

# ---- tmux: a 160x50 pane, 2000 lines back with wrapped lines joined ----
T_TMUX_COLS=160 T_TMUX_ROWS=50 T_TMUX_HISTORY=5000 T_TMUX_CAPTURE="-J -S -2000"
. "$top_srcdir/tests/integration/tmux-lib.sh"
tmux_wait() {	# tmux_wait REGEX [tenths]
	t_wait "${2:-150}" tmux_has "$1" || { tmux_screen | tail -25 >&2; t_fail "screen never showed '$1'"; }
}
tmux_wait_count() {	# tmux_wait_count REGEX N [tenths]: at least N lines match
	n=${3:-150}
	while [ "$n" -gt 0 ]; do
		[ "$(tmux_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	tmux_screen | tail -25 >&2
	t_fail "screen never showed '$1' $2 times"
}

# A pane script: stty before, the command, its exit code, stty after.
pane_script() {	# pane_script FILE CMD...
	f=$1
	shift
	cat >"$f" <<EOS
trap : INT	# like an interactive shell: Ctrl-] (SIGINT) ends only the client
stty -a >"$T_TMP/stty.before"
$*
echo "rc=\$?" >"$T_TMP/rc"
stty -a >"$T_TMP/stty.after"
echo PANE-DONE
sleep 600
EOS
	rm -f "$T_TMP/rc" "$T_TMP/stty.before" "$T_TMP/stty.after"
}
pane_rc() {
	t_wait 150 test -s "$T_TMP/rc" || { tmux_screen | tail -20 >&2; t_fail "the session did not end"; }
	sed 's/rc=//' "$T_TMP/rc"
}
pane_check_stty() {
	t_wait 50 test -s "$T_TMP/stty.after" || t_fail "no stty after"
	cmp -s "$T_TMP/stty.before" "$T_TMP/stty.after" ||
	    { diff "$T_TMP/stty.before" "$T_TMP/stty.after" >&2; t_fail "terminal not restored ($1)"; }
}

# Log in at the guest's login prompt shown in the pane (VM, password).
# An empty line first: the guest prints a fresh prompt for it.
guest_login() {
	n0=$(tmux_count "$1 login:")
	tmux_ send-keys Enter
	tmux_wait_count "$1 login:" $((n0 + 1))
	n0=$(tmux_count 'Password:')
	tmux_ send-keys demo Enter
	tmux_wait_count 'Password:' $((n0 + 1))
	tmux_ send-keys -l "$2"
	tmux_ send-keys Enter
	tmux_wait "demo@$1:"
}

lab_cleanup() {
	tmux_stop
	if [ -f "$LAB_DIR/lab.env" ]; then
		"$LAB_BIN" -q -d "$LAB_DIR" down >/dev/null 2>&1 || true
	fi
	t_cleanup
}
trap lab_cleanup EXIT
trap 'exit 1' INT TERM

# lab_up [up options]: a fresh lab; skips where LUKS2 images cannot be made.
lab_up() {
	if ! lab -q up "$@" >"$T_TMP/up.out" 2>&1; then
		if grep -q 'cryptsetup luksFormat' "$T_TMP/up.out" && [ "$(id -u)" != 0 ]; then
			cat "$T_TMP/up.out" >&2
			t_skip "cryptsetup luksFormat cannot run here as non-root"
		fi
		cat "$T_TMP/up.out" >&2
		t_fail "sccrypt-lab up"
	fi
}
