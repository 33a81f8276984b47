#!/bin/sh
# fault-sclog.sh — the disk with consoled's ciphertext log fills up during a
# session (issue 17, "faults survived"; PROTOCOL.md §9.5): the session goes
# on, consoled says why logging stopped ("No space left on device"), and the
# log keeps only whole entries (a write cut short by the full disk used to
# leave a torn entry at its end, which made the whole file unreadable for
# whoever parses it).  Needs root (tmpfs mount).
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
[ "$(id -u)" = 0 ] || t_skip "needs root (tmpfs mount)"
me=$(id -u)
mkdir -p "$T_TMP/sclog"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T_TMP/sclog" 2>/dev/null ||
    t_skip "cannot mount a tmpfs"
trap 'for p in $T_PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $T_PIDS; do wait "$p" 2>/dev/null || true; done
    umount "$T_TMP/sclog" 2>/dev/null || true; t_cleanup' EXIT
dom0_keys
dom0_start_hv vm1
dom0_start_consoled <<EOC
allow $me vm1
log_dir = $T_TMP/sclog
EOC
shim() { echo "$SHIM" -f "$T_TMP/sccrypt.conf" "$1"; }
probe() {	# probe NAME TEXT: a session that types TEXT and waits for its answer
	n=$1; shift
	dom0_probe "$n" --user-key "$T_TMP/user.key" --vm-secret "$T_TMP/vm1.secret" \
	    --protect-disk-key "$T_TMP/vm1.vk" --timeout 60 "$@" -- $(shim vm1)
}
# whole_entries FILE: dir:u8 ts:u64 len:u16 ct[len] ... up to exactly EOF
whole_entries() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
o = n = 0
while o < len(d):
    if o + 11 > len(d) or d[o] not in b'IO':
        sys.exit("torn or bad entry at offset %d of %d" % (o, len(d)))
    l = struct.unpack('>H', d[o + 9:o + 11])[0]
    if o + 11 + l > len(d):
        sys.exit("torn entry at offset %d of %d" % (o, len(d)))
    o += 11 + l; n += 1
print(n)
PY
}

probe s1 --send 'echo A$((1+1))' --expect A2
log=$T_TMP/sclog/vm1.sclog
[ -s "$log" ] || t_fail "no ciphertext log"
n1=$(whole_entries "$log") || t_fail "the log is not whole entries before the fault"
# fill the disk, then make the guest print 20 KB: the log cannot take it
dd if=/dev/zero of="$T_TMP/sclog/fill" bs=1k 2>/dev/null || true
probe s2 --send 'head -c 20000 /dev/zero | tr "\\0" x; echo; echo B$((2+2))' --expect B4
t_wait 100 grep -q "ciphertext log of vm1: write failed" "$T_TMP/consoled.log" ||
    t_fail "consoled did not stop logging"
n2=$(whole_entries "$log") || t_fail "the log on a full disk is torn: $n2"
t_wait 100 grep -q 'ciphertext log of vm1: write failed (No space left on device)' "$T_TMP/consoled.log" ||
    { grep 'ciphertext log' "$T_TMP/consoled.log" >&2; t_fail "consoled did not say why logging stopped"; }
[ "$n2" -ge "$n1" ] || t_fail "entries were lost from the log ($n2 < $n1)"
probe s3 --send 'echo C$((3+3))' --expect C6
kill -0 "$CONSOLED_PID" || t_fail "consoled died"
t_pass "disk full under the ciphertext log: sessions go on, consoled says 'No space left on device', the log holds $n2 whole entries"
