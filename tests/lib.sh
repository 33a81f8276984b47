# tests/lib.sh — helpers for shell integration tests (source it).
# Every test gets its own scratch directory and kills what it started.

set -eu
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$top_builddir}"

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sccrypt-test.XXXXXX")
T_PIDS=""
TPMPORT=""
# At exit: SIGTERM to what the test started, up to 3 s for it to go, then
# SIGKILL; the scratch directory is removed once nothing writes into it any
# more (a process that was still exiting, e.g. an sshd session child, can
# create a file between rm's scan and its rmdir: "Directory not empty").
t_pid_gone() {	# PID is gone (a zombie, not yet reaped, is gone)
	t_st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$t_st" ] || [ "$t_st" = Z ]
}
t_gone() {	# none of $T_PIDS is left
	for p in $T_PIDS; do
		t_pid_gone "$p" || return 1
	done
	return 0
}
t_cleanup() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null || true; done
	t_wait 30 t_gone || true
	for p in $T_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	if [ "${T_KEEP:-0}" = 1 ]; then echo "kept $T_TMP" >&2; return 0; fi
	t_wait 50 rm -rf "$T_TMP" || rm -rf "$T_TMP"
}
trap t_cleanup EXIT INT TERM

t_bg() { "$@" & T_PIDS="$T_PIDS $!"; }
t_fail() { echo "FAIL: $*" >&2; exit 1; }
t_pass() { echo "ok: $*"; }
t_skip() { echo "SKIP: $*"; exit 77; }

# Wait until a condition command succeeds (max N tenths of a second).
t_wait() {
	n=$1; shift
	while [ "$n" -gt 0 ]; do
		if "$@" 2>/dev/null; then return 0; fi
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# t_converse FORMAT PATTERN OUT ERR CMD...: run CMD in the background with
# printf FORMAT on its stdin, which stays open until PATTERN (grep -q) shows
# up in OUT (CMD's stdout; stderr goes to ERR), 60 s at most; then stdin
# ends and CMD is waited for.  Returns 1 when PATTERN never showed up.  For
# a console, where the input must not end before the answer is seen.
t_converse() {
	tc_fmt=$1 tc_pat=$2 tc_out=$3 tc_err=$4
	shift 4
	tc_fifo=$(mktemp -u "$T_TMP/stdin.XXXXXX")
	mkfifo "$tc_fifo"
	"$@" <"$tc_fifo" >"$tc_out" 2>"$tc_err" &
	tc_pid=$!
	exec 9>"$tc_fifo"
	# shellcheck disable=SC2059
	printf -- "$tc_fmt" >&9
	tc_rc=0
	t_wait 600 grep -q -- "$tc_pat" "$tc_out" || tc_rc=1
	exec 9>&-
	wait "$tc_pid" || true
	rm -f "$tc_fifo"
	return "$tc_rc"
}

# Skip the test (exit 77) unless every named command is installed.
t_need_cmds() {
	for t_c in "$@"; do
		command -v "$t_c" >/dev/null 2>&1 || t_skip "$t_c not installed"
	done
}

# A free TCP port on 127.0.0.1.
t_free_port() {
	python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# Two adjacent free TCP ports on 127.0.0.1: prints the first.
t_free_port_pair() {
	python3 - <<'PY'
import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
PY
}

# Start a software TPM (swtpm) on 127.0.0.1, state in $T_TMP/tpm, and wait
# until it answers (t_fail if it does not).  The swtpm TCTI expects the
# control port right after the TPM port: TPMPORT is the TPM port, the
# control channel is TPMPORT + 1.  Sets TPMPORT, TPMPID and TCTI, and exports
# TPM2TOOLS_TCTI=$TCTI.  The first call picks the ports; a later one (after
# `kill "$TPMPID"`) starts it again on the same ports and state: a reboot,
# PCRs reset and persistent objects kept.
t_start_swtpm() {
	[ -n "$TPMPORT" ] || TPMPORT=$(t_free_port_pair)
	[ -n "$TPMPORT" ] || t_fail "no two adjacent free ports for swtpm"
	TCTI="swtpm:host=127.0.0.1,port=$TPMPORT"
	TPM2TOOLS_TCTI=$TCTI
	export TPM2TOOLS_TCTI
	mkdir -p "$T_TMP/tpm"
	t_bg swtpm socket --tpm2 \
		--server type=tcp,port=$TPMPORT,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((TPMPORT + 1)),bindaddr=127.0.0.1 \
		--tpmstate dir="$T_TMP/tpm" --flags not-need-init,startup-clear
	TPMPID=$!
	t_wait 100 tpm2_pcrread sha256:0 >/dev/null || t_fail "swtpm did not start"
}
