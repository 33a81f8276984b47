# tests/web/lib.sh — helpers for the web console tests (source after tests/lib.sh).
# Skips (77) only when Node.js is truly absent; a missing bundle with node
# present is a build failure, not a skip.
w_need_node() {
	NODE=${NODE:-$(command -v node || true)}
	[ -n "$NODE" ] && [ -x "$NODE" ] || t_skip "node not installed"
	W="$top_builddir/web"
	[ -f "$W/sccrypt-web.html" ] && [ -f "$W/web-vectors.mjs" ] ||
	    t_fail "node is installed but the web bundle was not built ($W): configure found no node/npm?"
}
