#!/bin/sh
# sccrypt-term keeps no copy of what the user typed once it is sent (issue
# 19 item 5): a secret typed into the encrypted console (the guest has echo
# off, so it never comes back as output) is not in the client's memory, as
# a core dump (gcore) taken after the guest has received it shows.  Only the
# memory is searched (the core's PT_LOAD segments), not the saved CPU
# registers in its notes: copying leaves the last bytes in vector
# registers, which no wipe reaches.  The search is checked first on what
# must be there: the client's argv.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
command -v gcore >/dev/null 2>&1 || t_skip "no gcore (gdb)"
term_setup

PIPE="$TERM_BIN --host $PEER_HOST --pipe $VM --"
# Random, so that it is nowhere in the client but in what is typed; after
# 2000 bytes of filler in the same paste, so that it sits deep in the read.
SECRET=SECRET$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
FILLER=$(head -c 2000 /dev/zero | tr '\0' x)

term_pane_script "$T_TMP/s1" "sh -c 'echo \$\$ >$T_TMP/term.pid; exec $PIPE $(term_peer_cmd)'"
tmux_start "$T_TMP/s1"
tmux_wait 'guest\$'
tmux_ send-keys "stty -echo; echo NOECHO\$((6*7)); head -n 1 >$T_TMP/typed" Enter
tmux_wait '^NOECHO42'
tmux_ send-keys -l "$FILLER$SECRET"
tmux_ send-keys Enter
t_wait 100 grep -q "$SECRET" "$T_TMP/typed" || t_fail "the guest never got the typed line"

pid=$(cat "$T_TMP/term.pid")
gcore -o "$T_TMP/core" "$pid" >"$T_TMP/gcore.log" 2>&1 ||
	{ cat "$T_TMP/gcore.log" >&2; t_fail "gcore $pid failed"; }
core=$T_TMP/core.$pid
# in_memory CORE TEXT: how many times TEXT is in CORE's PT_LOAD segments
in_memory() {
	python3 - "$1" "$2" <<'EOS'
import struct, sys
d = open(sys.argv[1], 'rb').read()
pat = sys.argv[2].encode()
assert d[:4] == b'\x7fELF' and d[4] == 2, "not a 64-bit ELF core"
phoff, = struct.unpack_from('<Q', d, 0x20)
phentsize, phnum = struct.unpack_from('<HH', d, 0x36)
n = 0
for i in range(phnum):
    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from('<IIQQQQ', d, phoff + i * phentsize)
    if p_type == 1:
        n += d[p_offset:p_offset + p_filesz].count(pat)
print(n)
EOS
}
[ "$(in_memory "$core" "$PEER_BIN")" -gt 0 ] ||
	t_fail "the dump's memory does not even hold the client's argv"
n=$(in_memory "$core" "$SECRET")
[ "$n" = 0 ] || t_fail "the typed secret is still in the client's memory ($n places)"
rm -f "$core"
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "~. exit code"
t_pass "what was typed is not in the client's memory once sent"
