# tests/integration/ks-pglib.sh — a real PostgreSQL server for key server
# tests (source it after tests/lib.sh; not a test itself).
#
# ks_pg_start: initdb into a fresh directory (owned by an unprivileged
# user: "nobody" when we are root, as CI is), unix socket only, no TCP;
# sets PGURI (a postgresql:// URI for sccrypt-keyserver --db).  ks_pg_stop
# and ks_pg_start again restart it on the same data.  The EXIT trap stops
# it and removes the directory, whatever happened.
# Skips the test (77) only when the PostgreSQL server programs are absent.

KS_PG_BIN=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
	[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { KS_PG_BIN=$d; break; }
done
if [ -z "$KS_PG_BIN" ] && command -v initdb >/dev/null 2>&1 &&
   command -v pg_ctl >/dev/null 2>&1; then
	KS_PG_BIN=$(dirname "$(command -v pg_ctl)")
fi
[ -n "$KS_PG_BIN" ] || t_skip "PostgreSQL server (initdb, pg_ctl) not installed"

KS_PG_DIR=""
if [ "$(id -u)" = 0 ]; then
	KS_PG_RUN="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
else
	KS_PG_RUN=""
fi

ks_pg_cleanup() {
	if [ -n "$KS_PG_DIR" ]; then
		$KS_PG_RUN "$KS_PG_BIN/pg_ctl" -D "$KS_PG_DIR/data" -m immediate \
			stop >/dev/null 2>&1 || true
		rm -rf "$KS_PG_DIR"
	fi
	t_cleanup
}
trap ks_pg_cleanup EXIT INT TERM

ks_pg_start() {
	if [ -z "$KS_PG_DIR" ]; then
		# Outside $T_TMP (0700, ours): the server's user must reach it.
		KS_PG_DIR=$(mktemp -d /tmp/sccrypt-pg.XXXXXX)
		chmod 755 "$KS_PG_DIR"
		[ -z "$KS_PG_RUN" ] || chown nobody "$KS_PG_DIR"
		$KS_PG_RUN "$KS_PG_BIN/initdb" -D "$KS_PG_DIR/data" -U ks -A trust \
			-E UTF8 --locale=C --no-sync >"$KS_PG_DIR/initdb.log" 2>&1 ||
			{ cat "$KS_PG_DIR/initdb.log" >&2; t_fail "initdb"; }
		PGURI="postgresql:///postgres?host=$KS_PG_DIR&user=ks"
	fi
	$KS_PG_RUN "$KS_PG_BIN/pg_ctl" -D "$KS_PG_DIR/data" -w -t 120 \
		-l "$KS_PG_DIR/server.log" \
		-o "-c listen_addresses='' -k $KS_PG_DIR -c fsync=off -c max_connections=60" \
		start >/dev/null || { cat "$KS_PG_DIR/server.log" >&2; t_fail "PostgreSQL did not start"; }
}

ks_pg_stop() {
	$KS_PG_RUN "$KS_PG_BIN/pg_ctl" -D "$KS_PG_DIR/data" -m fast -w stop >/dev/null ||
		t_fail "PostgreSQL did not stop"
}
