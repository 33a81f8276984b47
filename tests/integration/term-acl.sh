#!/bin/sh
# term-acl.sh — who may open a console, on the real, attested stack:
#   - a user gets a VM file without the disk key (owner: vm export; user:
#     vm import); it opens sessions but `vm protect` refuses it;
#   - outside the VM's access list the hv refuses the handshake: exit 4
#     with a message saying so (relayed by dom0: unauthenticated);
#   - the owner changes the list inside an authenticated session
#     (`vm acl NAME add|list|del`), which does not disturb the session at the
#     console; the user can, then cannot, open a session;
#   - --viewer: output visible, typing reaches nothing; --takeover: the old
#     session is told "taken over" and ends (exit 0, the reason shown).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"

treal_up vm1
OWNER=$SCCRYPT_HOME
USERB=$T_TMP/userb
uuid=$(atk_uuid vm1)

as() {	# as HOME ARGS...: run the client with that keystore; $rc, out, err
	h=$1; shift
	set +e
	SCCRYPT_HOME=$h "$TERM_BIN" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
}
acl() {	# acl ARGS...: the owner's vm acl command through the real shim
	as "$OWNER" -H $TREAL_HOST --strict-hv-key vm acl vm1 "$@" -- $(shim_cmd vm1) </dev/null
}

# ---- 1. a user's VM file: vm export (owner) / vm import (user) --------------
as "$OWNER" vm export vm1 --secret-file "$T_TMP/export-vm1.secret"
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "vm export"; }
[ "$(stat -c %a "$T_TMP/export-vm1.secret")" = 600 ] || t_fail "secret file mode"
grep -qx '[0-9a-f]\{64\}' "$T_TMP/export-vm1.secret" || t_fail "secret file format"
as "$OWNER" vm export vm1 --secret-file "$T_TMP/export-vm1.secret"
[ "$rc" = 1 ] || t_fail "vm export overwrote a file"
treal_keystore "$USERB"
as "$USERB" vm import vm1 --uuid "$uuid" --secret-file "$T_TMP/export-vm1.secret" -N
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "vm import"; }
as "$USERB" vm show vm1
grep -q "disk key none" "$T_TMP/out" || t_fail "vm show: imported file has a disk key?"
grep -q "uuid $uuid" "$T_TMP/out" || t_fail "vm show: uuid"
head -c 31 /dev/urandom >"$T_TMP/short.secret"
as "$USERB" vm import vm1 --uuid "$uuid" --secret-file "$T_TMP/short.secret" -N --force
[ "$rc" = 1 ] && grep -q "64 hex digits" "$T_TMP/err" || t_fail "bad secret accepted"
# the user cannot bind the VM: no disk key
as "$USERB" -H $TREAL_HOST --strict-hv-key vm protect vm1 -- $(shim_cmd vm1) </dev/null
[ "$rc" = 1 ] || { cat "$T_TMP/err" >&2; t_fail "vm protect without a disk key: exit $rc"; }
grep -q "has no disk key" "$T_TMP/err" && grep -q "only the VM's owner" "$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "vm protect without a disk key: message"; }
t_pass "vm export / vm import: a user's VM file without the disk key; vm protect refuses it"

# ---- 2. not in the access list: refused, exit 4 -----------------------------
userb_session() {	# a scripted session of user B on vm1
	set +e
	printf '%s\n' "$1" | SCCRYPT_HOME=$USERB "$TERM_BIN" -H $TREAL_HOST --strict-hv-key \
	    --pipe vm1 -- $(shim_cmd vm1) >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
}
userb_session 'echo NOTALLOWED-$((1+1))'
[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "key outside the ACL: exit $rc, want 4"; }
grep -q "not in the access list of VM \"vm1\"" "$T_TMP/err" &&
	grep -q "not authenticated" "$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "key outside the ACL: message"; }
guest_input vm1 | grep -q NOTALLOWED && t_fail "a refused user's input reached the guest"
t_pass "a key outside the ACL: exit 4, 'not in the access list' (as reported by dom0)"

# ---- 3. the owner manages the list, while someone is at the console ---------
treal_pane own "$TERM_BIN -H $TREAL_HOST --strict-hv-key --pipe vm1 -- $(shim_cmd vm1)"
tmux_wait "encrypted console to vm1"
tmux_ send-keys Enter
guest_run 'echo O$((1+1))O' O2O
userbpub=$USERB/id_x25519.pub

acl list
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "acl list: exit $rc"; }
grep -q "access list has 1 key(s)" "$T_TMP/out" && grep -q "(owner)" "$T_TMP/out" ||
	{ cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "acl list: owner only"; }
acl add "$userbpub"
[ "$rc" = 0 ] || { cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "acl add: exit $rc"; }
grep -q "access list has 2 key(s)" "$T_TMP/out" || t_fail "acl add: count"
acl list
[ "$(grep -c '^  SC256:' "$T_TMP/out")" = 2 ] || t_fail "acl list after add"
[ "$(grep -c '(owner)' "$T_TMP/out")" = 1 ] || t_fail "acl list: user B is not an owner"
# the session at the console was not disturbed by the owner's commands
tmux_has 'taken over' && t_fail "an acl command took the console over"
guest_run 'echo O$((2+2))O' O4O
t_pass "vm acl list / add through a session; the console session stays"

# user B, now in the list: a session round-trips
userb_session 'echo USERB-$((3+4))-OK'
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "user B after acl add: exit $rc"; }
grep -q 'USERB-7-OK' "$T_TMP/out" || t_fail "user B: no output"
guest_input vm1 | grep -q 'USERB-$((3+4))-OK' || t_fail "user B's input did not reach the guest"
t_pass "user B (imported VM file, key added) opens a session"
# B's session took the console (it typed): the owner's session was ended
tmux_wait 'taken over by another'
tmux_stop

# a non-owner cannot change the list: refused by the hv (exit 4)
as "$USERB" -H $TREAL_HOST --strict-hv-key vm acl vm1 add "$OWNER/id_x25519.pub" -- \
	$(shim_cmd vm1) </dev/null
[ "$rc" = 4 ] || { cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "non-owner acl add: exit $rc"; }
grep -q "refused by the hypervisor: permission denied" "$T_TMP/out" ||
	{ cat "$T_TMP/out" >&2; t_fail "non-owner acl add: message"; }
t_pass "a non-owner's acl command is refused by the hv (exit 4)"

# ---- 4. --viewer and --takeover -----------------------------------------
tmux_ -f /dev/null new-session -d -s main -n own -x 120 -y 30 \
	"TERM=tmux-256color sh -c '$TERM_BIN -H $TREAL_HOST --strict-hv-key --pipe vm1 -- $(shim_cmd vm1); echo rc=\$? >$T_TMP/own.rc; sleep 600'"
tmux_ set-option -g remain-on-exit on >/dev/null
w() { tmux_ capture-pane -p -S -200 -t "main:$1"; }
whas() { w "$1" | grep -q -- "$2"; }
wwait() { t_wait "${3:-100}" whas "$1" "$2" ||
	{ w "$1" | tail -15 >&2; t_fail "window $1 never showed '$2'"; }; }
wwait own "encrypted console to vm1"
tmux_ send-keys -t main:own Enter 'echo O$((3+3))O' Enter
wwait own O6O
tmux_ new-window -d -t main -n view \
	"TERM=tmux-256color sh -c 'SCCRYPT_HOME=$USERB $TERM_BIN -H $TREAL_HOST --strict-hv-key --viewer --pipe vm1 -- $(shim_cmd vm1); echo rc=\$? >$T_TMP/view.rc; sleep 600'"
wwait view "read-only viewer: your keystrokes are not sent"
tmux_ send-keys -t main:view 'echo VIEWER-TYPED-$((1+1))' Enter
tmux_ send-keys -t main:own 'echo O$((4+4))O' Enter
wwait own O8O
wwait view O8O
# The hv answers the viewer's history request after everything the viewer
# sent before it: once the replay ends, a keystroke it had sent would have
# reached the hv (an event, not a fixed wait).
tmux_ send-keys -t main:view Enter '~C'
wwait view '^sccrypt>'
tmux_ send-keys -t main:view 'history 10' Enter
wwait view 'end of history replay ('
guest_input vm1 | grep -q VIEWER-TYPED && t_fail "a viewer's keystrokes reached the guest"
w own | grep -q VIEWER-TYPED && t_fail "a viewer's keystrokes showed up"
w own | grep -q 'taken over' && t_fail "the viewer took the console over"
# the viewer is told, once per burst of typing (issue 18 item 7)
VHINT="read-only viewer: what you type is not sent"
[ "$(w view | grep -c "$VHINT")" = 1 ] || { w view | tail -15 >&2; t_fail "viewer typing: not one notice for one burst"; }
# a viewer's ~B is refused locally (the hv would end the session for it)
n0=$(guest_input vm1 | od -An -tx1 | tr -d ' \n' | grep -o 0f | wc -l)
tmux_ send-keys -t main:view Enter '~B' s
wwait view "read-only viewer: break not sent"
tmux_ send-keys -t main:own 'echo O$((5+4))O' Enter
wwait view O9O
[ "$(guest_input vm1 | od -An -tx1 | tr -d ' \n' | grep -o 0f | wc -l)" = "$n0" ] ||
	t_fail "a viewer's break reached the guest"
# typing again after a pause: told again (the pause is what is tested)
sleep 2.5
n0=$(w view | grep -c "$VHINT")
tmux_ send-keys -t main:view 'more typing'
t_wait 100 sh -c "[ \$(tmux -S '$TMUX_SOCK' capture-pane -p -S -200 -t main:view | grep -c '$VHINT') = $((n0 + 1)) ]" ||
	{ w view | tail -15 >&2; t_fail "viewer typing after a pause: no new notice"; }
t_pass "--viewer: the guest's output is shown, its keystrokes (told, once per burst) and breaks reach nothing, the writer keeps the console"

tmux_ new-window -d -t main -n take \
	"TERM=tmux-256color sh -c 'SCCRYPT_HOME=$USERB $TERM_BIN -H $TREAL_HOST --strict-hv-key --takeover --pipe vm1 -- $(shim_cmd vm1); echo rc=\$? >$T_TMP/take.rc; sleep 600'"
wwait take "encrypted console to vm1"
wwait take "this session took the console over from another session"
wwait own "session taken over by another"
t_wait 100 test -s "$T_TMP/own.rc" || t_fail "the taken-over client did not exit"
[ "$(cat "$T_TMP/own.rc")" = rc=0 ] || t_fail "taken-over exit code: $(cat "$T_TMP/own.rc")"
tmux_ send-keys -t main:take Enter 'echo T$((5+5))K' Enter
wwait take T10K
wwait view T10K
t_pass "--takeover: the old session is told 'taken over' and exits 0; the new one types, the viewer watches"

# ---- 5. the owner removes user B: B's sessions end, B is refused -------------
acl del "$userbpub"
[ "$rc" = 0 ] || { cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "acl del: exit $rc"; }
grep -q "access list has 1 key(s)" "$T_TMP/out" || t_fail "acl del: count"
wwait take "your key was removed from the VM's access list"
wwait view "your key was removed from the VM's access list"
t_wait 100 test -s "$T_TMP/take.rc" || t_fail "user B's session did not end"
userb_session 'echo REMOVED-$((2+2))'
[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "removed user: exit $rc, want 4"; }
grep -q "not in the access list" "$T_TMP/err" || t_fail "removed user: message"
guest_input vm1 | grep -q 'REMOVED-' && t_fail "a removed user's input reached the guest"
t_pass "vm acl del: user B's open sessions end (key removed), new ones are refused (exit 4)"
tmux_stop
