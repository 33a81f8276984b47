#!/bin/sh
# hv-guest-signals.sh — a guest's console command starts with every signal
# at its default disposition and none blocked, whatever sccrypt-hvsim
# inherited (issue 18 item 4: the lab starts hvsim with `setsid ... &`,
# which leaves SIGINT and SIGQUIT ignored, and the guests could not be
# interrupted with Ctrl-C or Ctrl-\).
. "$top_srcdir/tests/lib.sh"

HVSIM=$top_builddir/hv/sim/sccrypt-hvsim
CTL=$top_builddir/tests/helpers/sc-hvctl
[ -x "$HVSIM" ] || t_skip "sccrypt-hvsim not built (needs libcryptsetup and tss2-esys)"
cd "$T_TMP"

# The guest prints the signal masks of a process it starts (grep reads its
# own /proc/self/status: ignored dispositions survive fork and exec).
cat > hvsim.conf <<EOF
[domain plain]
domid = 7
uuid = 0b1e8a4c-54de-4bc6-8a0c-2f9b7e3d1a55
command = /bin/sh -c 'while read x; do grep -E "^Sig(Ign|Blk)" /proc/self/status; echo END-\$x; done'
EOF
SOCK=$T_TMP/ops.sock
# hvsim as the lab starts it: SIGINT and SIGQUIT ignored, SIGINT blocked too
t_bg sh -c "trap '' INT QUIT; exec python3 -c '
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGUSR1])
os.execv(sys.argv[1], sys.argv[1:])' '$HVSIM' --foreground -f hvsim.conf -S '$SOCK' 2>hvsim.log"
t_wait 100 test -S "$SOCK" || { cat hvsim.log >&2; t_fail "hvsim did not start"; }
pid=$(pgrep -f "sccrypt-hvsim --foreground -f hvsim.conf -S $SOCK" | head -1)
[ -n "$pid" ] && grep -q '^SigIgn:.*6$' "/proc/$pid/status" ||
	t_fail "hvsim was not started with SIGINT/SIGQUIT ignored (the test's premise)"

"$CTL" -t 20 -S "$SOCK" raw plain 'send:one\n' 'expect:END-one' >raw.out 2>raw.err ||
	{ cat raw.err hvsim.log >&2; t_fail "no answer from the guest"; }
tr -d '\r' <raw.out >raw.txt
# Signals 1-31 (32 and 33 belong to the C library, which keeps them as
# its own parent set them).
python3 - raw.txt <<'PY' || { cat raw.txt >&2; t_fail "the guest inherited ignored signals"; }
import re, sys
m = re.search(r"^SigIgn:\s*([0-9a-f]+)$", open(sys.argv[1]).read(), re.M)
sys.exit(0 if m and int(m.group(1), 16) & 0x7fffffff == 0 else 1)
PY
grep -q "^SigBlk:[[:space:]]*0000000000000000$" raw.txt ||
	{ cat raw.txt >&2; t_fail "the guest inherited blocked signals"; }
t_pass "guest commands start with default signal dispositions and an empty mask"
