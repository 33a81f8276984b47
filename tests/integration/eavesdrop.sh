#!/bin/sh
# eavesdrop.sh — the paper's experiment, automated.  With the whole lab stack
# (sccrypt-lab: swtpm, sccrypt-hvsim with LUKS2 VMs, key server + attestation,
# sccrypt-consoled, OpenSSH sshd with the forced command), a tenant logs in at
# the guest's login prompt (a password typed with echo off), types a command
# line carrying a secret marker, and makes the guest print a second secret
# that never crosses the wire from the client (computed in the guest, written
# to a file there and cat'ed).  Meanwhile every byte dom0 sees is captured:
#   - strace -f of sshd (listener, per-connection processes, the forced
#     command, its tap and sccrypt-console) and of sccrypt-consoled (its client
#     sockets and the hv ops socket as dom0 sees it): every read/write/
#     send/recv, decoded from strace -xx into raw bytes and concatenated per
#     process, descriptor and direction, in order — so a secret split across
#     reads is still found;
#   - the tap's recording of the forced command's stdin/stdout;
#   - consoled's ciphertext log, and the logs of consoled, sshd and the dom0
#     attestation agent.
# Protected (vm1 via sccrypt-term): zero occurrences of any secret.  The same
# flow on the unprotected twin (plain1 via ssh + xenconsole) must find every
# secret in the same capture, so the detector is proven to work.  One line:
#   eavesdrop: protected 0 hits / N bytes; unprotected M hits / N bytes
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/lab-lib.sh"
command -v strace >/dev/null 2>&1 || t_skip "strace not installed"
command -v python3 >/dev/null 2>&1 || t_skip "python3 not installed"

rnd() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
num() { od -An -N4 -tu4 /dev/urandom | tr -d ' '; }
PW="Pw$(rnd 8)"				# typed at Password: (echo off)
S1="S1MARK$(rnd 8)"			# typed on a command line
A=$(( $(num) % 900000000 + 100000000 ))
B=$(( $(num) % 90000 + 10000 ))
S2="ZQ$((A * B))QZ"			# printed by the guest, never typed
export SCCRYPT_LAB_GUEST_PASSWORD="$PW"
TRACE=$T_TMP/trace

# strace must be able to trace here (containers may forbid ptrace).
strace -f -o /dev/null true 2>/dev/null || t_skip "strace cannot trace in this environment"
lab_up --strace "$TRACE"
t_pass "lab up with sshd and consoled under strace"

now() { date +%s.%N; }
# Sizes of the recorded files at a phase boundary.
snap() {	# snap FILE-OUT
	for f in "$LAB_DIR"/dom0/tap/* "$LAB_DIR"/dom0/sclog/* "$LAB_DIR"/log/consoled.log \
	    "$LAB_DIR"/log/sshd.log "$LAB_DIR"/log/attest.log; do
		[ -f "$f" ] && printf '%s %s\n' "$(wc -c <"$f" | tr -d ' ')" "$f"
	done >"$1"
}

# session CMD VM: log in at VM's prompt, type the secret line, see S2.
session() {
	ls "$TRACE" >"$T_TMP/traces.before"
	pane_script "$T_TMP/pane" "$1"
	tmux_start "$T_TMP/pane"
	t_wait 150 tmux_has "$2 login:" || { tmux_screen | tail >&2; t_fail "$2: no login prompt"; }
	guest_login "$2" "$PW"
	# The command line carries S1; the guest computes S2 into a file and
	# cats it: S2's literal is never typed.
	tmux_ send-keys -l "export TOKEN=$S1; echo ZQ\$(($A*$B))QZ >s2.txt; cat s2.txt"
	tmux_ send-keys Enter
	tmux_wait "^$S2"
	if [ "$(id -u)" = 0 ] || [ "$2" = vm1 ]; then
		tmux_ send-keys Enter '~.'
	else
		tmux_ send-keys C-]	# plain, unprivileged sshd: no pty, Ctrl-]
	fi
	pane_rc >/dev/null
	tmux_stop
	# The session's dom0 processes (sshd's, the forced command, its tap,
	# the shim) have exited and strace has written all they did: every
	# trace file the session added ends with strace's exit line.
	t_wait 300 session_traced ||
	    { ls -l "$TRACE" >&2; t_fail "$2: the session's dom0 processes did not end"; }
}
session_traced() {
	for f in $(ls "$TRACE" | grep -v -x -F -f "$T_TMP/traces.before"); do
		tail -n 1 "$TRACE/$f" | grep -q '^[0-9.]* +++ ' || return 1
	done
}

T0=$(now); snap "$T_TMP/snap0"
session "$LAB_BIN -d $LAB_DIR connect vm1" vm1
T1=$(now); snap "$T_TMP/snap1"
session "$LAB_BIN -d $LAB_DIR plain plain1" plain1
T2=$(now); snap "$T_TMP/snap2"
t_pass "sessions done: vm1 (SCCrypt) and plain1 (unprotected twin), same typing"

# strace buffers its output: stop the lab so every trace is complete.
lab -q down || t_fail "down"
[ -z "$(lab_pids)" ] || t_fail "lab processes left after down"
ls "$TRACE"/sshd.* >/dev/null 2>&1 || t_fail "no sshd traces"
ls "$TRACE"/consoled.* >/dev/null 2>&1 || t_fail "no consoled traces"

python3 - "$TRACE" "$T_TMP" "$T0" "$T1" "$T2" "$PW" "$S1" "$S2" >"$T_TMP/result" \
    2>"$T_TMP/detail" <<'PY' ||
import os, re, sys
trace, tmp = sys.argv[1], sys.argv[2]
t0, t1, t2 = (float(x) for x in sys.argv[3:6])
secrets = [s.encode() for s in sys.argv[6:9]]

IN = {"read", "readv", "recvfrom", "recvmsg", "pread64"}
OUT = {"write", "writev", "sendto", "sendmsg", "pwrite64"}
line_re = re.compile(r'^(\d+\.\d+) (\w+)\((\d+),(.*)\) += (-?\d+)')
str_re = re.compile(r'"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')
iov_re = re.compile(r'iov_base="((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')

def phase(ts):
    if t0 <= ts < t1:
        return "protected"
    if t1 <= ts < t2:
        return "unprotected"
    return None

streams = {"protected": {}, "unprotected": {}}
truncated = 0
for name in sorted(os.listdir(trace)):
    with open(os.path.join(trace, name), "r", errors="replace") as f:
        for line in f:
            m = line_re.match(line)
            if not m:
                continue
            ts, call, fd, args, ret = float(m.group(1)), m.group(2), m.group(3), m.group(4), int(m.group(5))
            if call in IN:
                d = "in"
            elif call in OUT:
                d = "out"
            else:
                continue
            p = phase(ts)
            if p is None or ret <= 0:
                continue
            # The data: the iov_base strings of vector calls, else the
            # first string (the buffer; a socket address may follow).
            if call in ("readv", "writev", "recvmsg", "sendmsg"):
                ms = list(iov_re.finditer(args))
            else:
                ms = list(str_re.finditer(args))[:1]
            data = b""
            for sm in ms:
                data += bytes.fromhex(sm.group(1).replace("\\x", ""))
                if sm.group(2):
                    truncated += 1
            data = data[:ret]
            key = (name, fd, d)
            streams[p].setdefault(key, bytearray()).extend(data)

# Recorded files: the bytes appended during each phase.
def sizes(fn):
    r = {}
    for l in open(os.path.join(tmp, fn)):
        n, path = l.rstrip("\n").split(" ", 1)
        r[path] = int(n)
    return r
s0, s1, s2 = sizes("snap0"), sizes("snap1"), sizes("snap2")
for p, a, b in (("protected", s0, s1), ("unprotected", s1, s2)):
    for path, end in b.items():
        start = a.get(path, 0)
        with open(path, "rb") as f:
            f.seek(start)
            streams[p][("file", path, "")] = bytearray(f.read(end - start))

out = {}
for p in ("protected", "unprotected"):
    total = sum(len(v) for v in streams[p].values())
    hits = 0
    found = set()
    where = []
    for key, data in streams[p].items():
        for s in secrets:
            c = bytes(data).count(s)
            if c:
                hits += c
                found.add(s)
                where.append("%s:%s:%s %r x%d" % (key[0], key[1], key[2], s, c))
    out[p] = (hits, total, found, where)
print("detail protected streams=%d unprotected streams=%d strace-truncated=%d" %
      (len(streams["protected"]), len(streams["unprotected"]), truncated), file=sys.stderr)
for w in out["protected"][3]:
    print("PROTECTED HIT " + w, file=sys.stderr)
for w in out["unprotected"][3]:
    print("unprotected hit " + w, file=sys.stderr)
ph, pn, _, _ = out["protected"]
uh, un, ufound, _ = out["unprotected"]
print("eavesdrop: protected %d hits / %d bytes; unprotected %d hits / %d bytes" % (ph, pn, uh, un))
# Every source must have seen the protected session: sshd's processes,
# consoled (client socket + hv ops socket) and the tap.
def source(key):
    return "tap" if "/tap/" in key[1] else key[0].split(".")[0]
seen = {}
for key, data in streams["protected"].items():
    seen[source(key)] = seen.get(source(key), 0) + len(data)
print("detail protected bytes by source: %r" % seen, file=sys.stderr)
missing = [x for x in ("sshd", "consoled", "tap") if seen.get(x, 0) == 0]
if missing:
    print("nothing captured from %r during the protected session" % missing, file=sys.stderr)
ok = (ph == 0 and len(ufound) == len(secrets) and pn > 0 and un > 0 and truncated == 0
      and not missing)
if len(ufound) != len(secrets):
    print("the detector missed %r in the unprotected capture" %
          [s for s in secrets if s not in ufound], file=sys.stderr)
sys.exit(0 if ok else 1)
PY
    { cat "$T_TMP/detail" "$T_TMP/result" >&2; t_fail "eavesdropping experiment"; }
# Where the detector found the secrets without SCCrypt (per process/file).
sed -n 's/^unprotected hit \([a-z]*\)[.:].*/\1/p' "$T_TMP/detail" | sort | uniq -c |
    awk '{ printf "%s%s %s", (NR > 1 ? ", " : "note: streams holding a secret without SCCrypt: "), $2, $1 } END { print "" }'

# The stream on the protected side must be substantial: the session's
# handshake and records went through the traced processes.
cat "$T_TMP/result"
grep -q '^eavesdrop: protected 0 hits / [0-9]* bytes; unprotected [1-9][0-9]* hits / [0-9]* bytes$' \
    "$T_TMP/result" || t_fail "summary line"
pn=$(sed -n 's/^eavesdrop: protected 0 hits \/ \([0-9]*\) bytes.*/\1/p' "$T_TMP/result")
[ "$pn" -gt 10000 ] || t_fail "protected capture too small ($pn bytes): the session was not traced"

t_pass "no secret in anything dom0 saw with SCCrypt; all secrets found without it"
