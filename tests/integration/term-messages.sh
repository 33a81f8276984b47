#!/bin/sh
# sccrypt-term's messages name what is wrong and what to do (issue 18
# item 7): a missing keystore (its path, keygen), a damaged key / VM file /
# keyserver.pub (which file, "damaged"), an unknown VM (the VMs known), a
# refused port (the port), and ~C replies marked [sccrypt].
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"

expect() {	# expect WHAT CODE TEXT ARGS...: sccrypt-term ARGS fails so
	what=$1 code=$2 text=$3; shift 3
	set +e
	setsid -w "$TERM_BIN" "$@" </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = "$code" ] || { cat "$T_TMP/err" >&2; t_fail "$what: exit $rc, want $code"; }
	grep -qF -- "$text" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "$what: message"; }
	t_pass "$what: '$text'"
}
PIPE="--host $PEER_HOST --pipe"

# 1. no keystore yet
SCCRYPT_HOME=$T_TMP/none expect "no keystore" 1 \
	"keystore $T_TMP/none: not found (run 'sccrypt-term keygen' to create it)" \
	$PIPE $VM -- true

term_setup
# 2. an unknown VM: the known ones are listed
expect "unknown VM" 1 "no VM named \"vn1\" in your keystore ($SCCRYPT_HOME/vms/vn1); known VMs: $VM; a typo?" \
	$PIPE vn1 -- true

# 3. damaged files: which one, and that it is damaged
cp "$SCCRYPT_HOME/vms/$VM" "$T_TMP/vm.good"
head -c 40 "$T_TMP/vm.good" >"$SCCRYPT_HOME/vms/$VM"
expect "damaged VM file" 1 "cannot load the VM file $SCCRYPT_HOME/vms/$VM" $PIPE $VM -- true
grep -q "damaged" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "damaged VM file: not called damaged"; }
cp "$T_TMP/vm.good" "$SCCRYPT_HOME/vms/$VM"
cp "$SCCRYPT_HOME/keyserver.pub" "$T_TMP/ks.good"
echo "sccrypt-ed25519 AAAA" >"$SCCRYPT_HOME/keyserver.pub"
expect "damaged keyserver.pub" 1 "the pinned key server key $SCCRYPT_HOME/keyserver.pub" $PIPE $VM -- true
grep -q "damaged" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "damaged keyserver.pub: not called damaged"; }
cp "$T_TMP/ks.good" "$SCCRYPT_HOME/keyserver.pub"
cp "$SCCRYPT_HOME/id_x25519" "$T_TMP/id.good"
head -c 30 "$T_TMP/id.good" >"$SCCRYPT_HOME/id_x25519"
expect "damaged user key" 1 "cannot load your console key $SCCRYPT_HOME/id_x25519" $PIPE $VM -- true
grep -q "damaged" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "damaged user key: not called damaged"; }
cp "$T_TMP/id.good" "$SCCRYPT_HOME/id_x25519"

# 4. a port nothing listens on: the port is named
PORT=$(t_free_port)
expect "refused port" 3 "port $PORT" -p "$PORT" -F /dev/null \
	-o UserKnownHostsFile="$T_TMP/kh" 127.0.0.1 $VM

# 5. ~C replies carry the [sccrypt] prefix
command -v tmux >/dev/null 2>&1 || t_skip "no tmux (the rest needs a terminal)"
term_pane_script "$T_TMP/s1" "$TERM_BIN $PIPE $VM -- $(term_peer_cmd)"
tmux_start "$T_TMP/s1"
tmux_wait 'guest\$'
tmux_ send-keys Enter '~C'
tmux_wait 'sccrypt>'
tmux_ send-keys 'nosuchcommand' Enter
tmux_wait "\[sccrypt\] unknown command 'nosuchcommand'"
tmux_ send-keys Enter '~#'
tmux_wait 'expires in [0-9]*h[0-9][0-9]m'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "exit code"
t_pass "~C replies are marked [sccrypt]; ~# gives the certificate's expiry in hours"

# 6. dom0's stderr after the HELLO: one notice per line, not per write
#    (a lone newline is no notice of its own)
cat >"$T_TMP/errpeer.sh" <<EOF
#!/bin/sh
( while [ ! -e "$T_TMP/flag" ]; do sleep 0.1; done
  printf 'disk-warn' >&2; sleep 0.3; printf ' part2\n' >&2; sleep 0.3
  printf '\n' >&2; printf 'second line\n' >&2 ) &
exec $(term_peer_cmd)
EOF
chmod +x "$T_TMP/errpeer.sh"
term_pane_script "$T_TMP/s2" "$TERM_BIN $PIPE $VM -- $T_TMP/errpeer.sh"
tmux_start "$T_TMP/s2"
tmux_wait 'guest\$'
touch "$T_TMP/flag"
tmux_wait 'dom0 stderr (not authenticated): second line'
tmux_has 'dom0 stderr (not authenticated): disk-warn part2' ||
	{ tmux_dump; t_fail "a line written in two parts is not one notice"; }
[ "$(tmux_count 'dom0 stderr (not authenticated)')" = 2 ] ||
	{ tmux_dump; t_fail "dom0 stderr: not one notice per line"; }
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "exit code (stderr)"
t_pass "dom0 stderr after the HELLO: one notice per line"
