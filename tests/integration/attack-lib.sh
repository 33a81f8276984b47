# attack-lib.sh — shared set-up for attack-relay.sh and nothing-lost.sh
# (source after tests/lib.sh).  The whole real stack, attested:
#   swtpm -> sccrypt-hvsim (LUKS2 disks from dom0-lib.sh, every guest logging
#   every input byte it receives) -> sccrypt-keyserver + sccrypt-attest (a
#   real VMM certificate for hvsim's measured key) -> sccrypt-consoled ->
#   the shim (sccrypt-console) as the transport command of the real client,
#   sccrypt-term --pipe, whose VMs are bound with `vm protect`.
# The client is driven through a FIFO on its stdin (kept open by the test)
# and writes the console to a file: see cli_start / cli_type / cli_wait.

. "$top_srcdir/tests/integration/dom0-lib.sh"

TERM_BIN=$top_builddir/sccrypt-term/sccrypt-term
KS_BIN=$top_builddir/keyserver/sccrypt-keyserver
AT_BIN=$top_builddir/keyserver/sccrypt-attest
RELAY=$top_builddir/tests/helpers/evil-relay
HOSTNAME_=hv1

atk_need() {
	dom0_need_stack
	for p in "$TERM_BIN" "$KS_BIN" "$AT_BIN" "$RELAY"; do
		[ -x "$p" ] || t_skip "$(basename "$p") not built"
	done
	t_need_cmds swtpm curl python3 tpm2_pcrread
}

# The software TPM: t_start_swtpm (tests/lib.sh) sets TCTI for hvsim.
atk_start_tpm() { t_start_swtpm; }

# A key server in state dir $1 on a free port: sets KSURL_$2, KSPID_$2 and
# writes $T_TMP/$2.pub.  Extra options (e.g. --cert-lifetime) follow.
atk_start_ks() {
	dir=$1 tag=$2; shift 2
	port=$(t_free_port)
	mkdir -p "$dir"
	t_bg "$KS_BIN" -s "$dir" -l 127.0.0.1:$port "$@" 2>>"$T_TMP/ks-$tag.log"
	eval "KSPID_$tag=\$!"
	eval "KSURL_$tag=http://127.0.0.1:$port"
	t_wait 100 curl -sf -m 2 "http://127.0.0.1:$port/v1/pubkey" -o /dev/null ||
	    { cat "$T_TMP/ks-$tag.log" >&2; t_fail "key server $tag did not start"; }
	curl -sf -m 5 "http://127.0.0.1:$port/v1/pubkey" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' >"$T_TMP/$tag.pub"
}

# atk_enroll TAG HOSTNAME: enroll this TPM's AK under HOSTNAME at key server TAG.
atk_enroll() {
	eval "url=\$KSURL_$1"
	[ -s "$T_TMP/enroll-$2.json" ] ||
	    "$AT_BIN" -q --create-ak --insecure-ak -n "$2" >"$T_TMP/enroll-$2.json" || t_fail "create AK"
	curl -sf -m 5 -H "Authorization: Bearer $(cat "$T_TMP/ks-$1/operator.token")" \
	    --data-binary @"$T_TMP/enroll-$2.json" "$url/v1/hosts" >/dev/null ||
	    t_fail "enroll $2 at key server $1"
}

# atk_attest TAG HOSTNAME CERTFILE: a certificate for hvsim's measured key.
atk_attest() {
	eval "url=\$KSURL_$1"
	"$AT_BIN" -q -k "$url" -n "$2" -s "$T_TMP/hv.sock" -K "$T_TMP/$1.pub" \
	    -o "$3" 2>"$T_TMP/agent.err" ||
	    { cat "$T_TMP/agent.err" >&2; t_fail "attestation ($1, $2)"; }
}

# The hv: dom0-lib's dom0_start_hv through a wrapper that gives every
# domain an input log ($T_TMP/NAME.input) and hvsim the swtpm.
atk_start_hv() {
	cat >"$T_TMP/hvsim-wrap" <<EOF
#!/bin/sh
conf=
prev=
for a in "\$@"; do [ "\$prev" = -f ] && conf=\$a; prev=\$a; done
awk -v d="$T_TMP" '{ print }
    /^\[domain / { n = \$2; sub(/\]\$/, "", n); print "input-log = " d "/" n ".input" }' \
    "\$conf" >"\$conf.new" && mv "\$conf.new" "\$conf"
exec "$HVSIM" --tpm-tcti "$TCTI" --pcr 15 "\$@"
EOF
	chmod +x "$T_TMP/hvsim-wrap"
	real_hvsim=$HVSIM
	HVSIM=$T_TMP/hvsim-wrap
	dom0_start_hv "$@"
	HVSIM=$real_hvsim
	HVPID=$(echo $T_PIDS | awk '{ print $NF }')
	for n in "$@"; do
		t_wait 50 test -e "$T_TMP/$n.input" || t_fail "no input log for $n"
	done
}

# uuid of domain NAME from the hvsim config dom0-lib wrote
atk_uuid() {
	awk -v n="[domain $1]" '$0 == n { f = 1; next } f && /^uuid = / { print $3; exit }' \
	    "$T_TMP/hvsim.conf"
}

# The transport command: the real shim, run locally as dom0 (what sshd's
# forced command runs; dom0-sshd.sh covers the ssh hop itself).
shim_cmd() { echo "$SHIM -f $T_TMP/sccrypt.conf $1"; }

# Client keystore: user key, pinned key server, VMs bound by their owner.
atk_client_setup() {
	export SCCRYPT_HOME=$T_TMP/home
	mkdir -p "$SCCRYPT_HOME"
	chmod 700 "$SCCRYPT_HOME"
	"$TERM_BIN" keygen -N >/dev/null || t_fail "keygen"
	"$TERM_BIN" keyserver pin "$T_TMP/main.pub" >/dev/null || t_fail "keyserver pin"
}
atk_bind() {	# atk_bind VM [vm protect options]
	vm=$1; shift
	"$TERM_BIN" vm init "$vm" --uuid "$(atk_uuid "$vm")" \
	    --disk-key-file "$T_TMP/$vm.vk" -N >/dev/null || t_fail "vm init $vm"
	"$TERM_BIN" -H $HOSTNAME_ vm protect "$vm" "$@" -- $(shim_cmd "$vm") \
	    </dev/null >"$T_TMP/protect-$vm.out" 2>&1 ||
	    { cat "$T_TMP/protect-$vm.out" >&2; t_fail "vm protect $vm"; }
}

# ---- a client session driven through a FIFO ----
# sccrypt-term reads keystrokes only from a terminal, so each client runs on
# a pty of its own (like a user's terminal; the client makes it raw).  A
# small python runner copies the FIFO $T_TMP/TAG.in to the pty master and
# the master to $T_TMP/TAG.out; the client's stderr goes to $T_TMP/TAG.err
# and its exit code to $T_TMP/TAG.rc.  Closing the FIFO hangs up the pty.
cat >"$T_TMP/ptyrun.py" <<'PY'
import errno, fcntl, os, select, sys, termios
fifo, out, err, rc = sys.argv[1:5]
argv = sys.argv[6:]
m, s = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    os.dup2(s, 0); os.dup2(s, 1)
    e = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(e, 2)
    for fd in (m, s, e):
        os.close(fd)
    os.execvp(argv[0], argv)
os.close(s)
with open(rc + ".pid", "w") as x:
    x.write("%d\n" % pid)
os.set_blocking(m, False)
o = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
f = os.open(fifo, os.O_RDONLY)
pend = b""
while True:
    rd = [m] + ([f] if f >= 0 and len(pend) < (1 << 20) else [])
    wr = [m] if pend else []
    r, w, _ = select.select(rd, wr, [], 0.5)
    if f in r:
        d = os.read(f, 65536)
        if not d:
            os.close(f); f = -1
        pend += d
    if m in w and pend:
        try:
            n = os.write(m, pend)
            pend = pend[n:]
        except BlockingIOError:
            pass
        except OSError:
            pend = b""
    if f < 0 and not pend and m >= 0:
        # the test closed the FIFO: hang up the terminal
        os.close(m); m = -1
        break
    if m in r:
        try:
            d = os.read(m, 65536)
        except BlockingIOError:
            continue
        except OSError as x:
            if x.errno != errno.EIO:
                raise
            d = b""
        if not d:
            break
        os.write(o, d)
_, st = os.waitpid(pid, 0)
code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)
with open(rc + ".tmp", "w") as x:
    x.write("%d\n" % code)
os.rename(rc + ".tmp", rc)
PY

# cli_start TAG [sccrypt-term options] -- TRANSPORT...
cli_start() {
	tag=$1; shift
	rm -f "$T_TMP/$tag.in" "$T_TMP/$tag.rc"
	: >"$T_TMP/$tag.out"
	mkfifo "$T_TMP/$tag.in"
	t_bg python3 "$T_TMP/ptyrun.py" "$T_TMP/$tag.in" "$T_TMP/$tag.out" \
	    "$T_TMP/$tag.err" "$T_TMP/$tag.rc" -- \
	    "$TERM_BIN" -H $HOSTNAME_ --strict-hv-key "$@"
	eval "CLI_PID_$tag=\$!"
	# keep the FIFO's write end open in this shell (a fixed fd per tag)
	eval "exec $(cli_fd "$tag")>\"\$T_TMP/\$tag.in\""
}
cli_fd() {	# a fixed fd per client tag (3..9)
	case $1 in
	a) echo 3 ;; b) echo 4 ;; c) echo 5 ;; d) echo 6 ;; e) echo 7 ;; *) echo 8 ;;
	esac
}
# A client may end at any moment (that is what the attacks provoke): a write
# to its FIFO then fails with EPIPE (SIGPIPE is ignored in that subshell),
# which is not an error of the test; what arrived is checked elsewhere.
cli_type() {	# cli_type TAG TEXT (printf format not interpreted)
	( trap '' PIPE; eval "printf '%s' \"\$2\" >&$(cli_fd "$1")" ) 2>/dev/null || true
}
cli_close() {	# hang up the client's terminal
	eval "exec $(cli_fd "$1")>&-"
}
cli_has() { grep -q -- "$2" "$T_TMP/$1.out"; }
cli_quiet() {	# wait until the client's output has been still for 0.4 s
	q=0 last=-1 n=50
	while [ $n -gt 0 ] && [ $q -lt 4 ]; do
		cur=$(wc -c <"$T_TMP/$1.out")
		if [ "$cur" = "$last" ]; then q=$((q + 1)); else q=0; fi
		last=$cur
		sleep 0.1; n=$((n - 1))
	done
}
cli_wait() {	# cli_wait TAG TEXT [tenths]
	t_wait "${3:-100}" cli_has "$1" "$2" ||
	    { echo "--- $1.out:" >&2; tail -c 600 "$T_TMP/$1.out" >&2
	      echo "--- $1.err:" >&2; cat "$T_TMP/$1.err" >&2
	      t_fail "client $1 never showed '$2'"; }
}
cli_rc() {	# cli_rc TAG [tenths]: wait for the exit, print the code
	t_wait "${2:-150}" test -e "$T_TMP/$1.rc" ||
	    { cat "$T_TMP/$1.err" >&2; t_fail "client $1 did not exit"; }
	cat "$T_TMP/$1.rc"
}
