# tests/lib.sh — helpers for shell integration tests (source it).
# Every test gets its own scratch directory and kills what it started.

set -eu
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$top_builddir}"

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sccrypt-test.XXXXXX")
T_PIDS=""
t_cleanup() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 0.1
	for p in $T_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	if [ "${T_KEEP:-0}" = 1 ]; then echo "kept $T_TMP" >&2; else rm -rf "$T_TMP"; fi
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

# A free TCP port on 127.0.0.1.
t_free_port() {
	python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
