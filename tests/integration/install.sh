#!/bin/sh
# install.sh — what `make install` puts in place answers the same way
# (issue 18 items 10, 11), checked on a DESTDIR install of this build:
#   - every installed program (bindir, sbindir): -h/--help print the usage
#     on stdout and exit 0; -V/--version print "PROG (sccrypt) VERSION" on
#     stdout and exit 0; an unknown option exits 64 with a word on stderr
#     and nothing on stdout (lib/log.h, the man pages' EXIT STATUS);
#   - the configuration path the programs have compiled in is configure's
#     sysconfdir/sccrypt/..., and the installed man pages name that path
#     (with --sysconfdir=/etc: /etc/sccrypt/sccrypt.conf).
. "$top_srcdir/tests/lib.sh"
command -v make >/dev/null 2>&1 || t_skip "no make"

D=$T_TMP/dest
# a make of our own, not a sub-make of `make check` (its jobserver, -j)
unset MAKEFLAGS MFLAGS MAKELEVEL
eval "$(make -s --no-print-directory -C "$top_builddir" sc-print-dirs | grep '^bindir=')"
[ -n "$sysconfdir" ] && [ -n "$bindir" ] || t_fail "sc-print-dirs"
make -s -C "$top_builddir" install DESTDIR="$D" >"$T_TMP/install.log" 2>&1 ||
	{ tail -20 "$T_TMP/install.log" >&2; t_fail "make install DESTDIR"; }
version=$(sed -n "s/^PACKAGE_VERSION = //p" "$top_builddir/Makefile")

# ---- item 11: every installed program ---------------------------------------
n=0
for p in "$D$bindir"/* "$D$sbindir"/*; do
	[ -f "$p" ] && [ -x "$p" ] || continue
	name=$(basename "$p")
	for o in -h --help; do
		set +e; "$p" $o </dev/null >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?; set -e
		[ "$rc" = 0 ] || t_fail "$name $o: exit $rc"
		head -1 "$T_TMP/out" | grep -q "^usage: $name" || t_fail "$name $o: no usage on stdout"
		[ ! -s "$T_TMP/err" ] || { cat "$T_TMP/err" >&2; t_fail "$name $o: stderr"; }
	done
	for o in -V --version; do
		set +e; "$p" $o </dev/null >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?; set -e
		[ "$rc" = 0 ] || t_fail "$name $o: exit $rc"
		[ "$(head -1 "$T_TMP/out")" = "$name (sccrypt) $version" ] ||
			{ cat "$T_TMP/out" >&2; t_fail "$name $o: not '$name (sccrypt) $version'"; }
		[ ! -s "$T_TMP/err" ] || { cat "$T_TMP/err" >&2; t_fail "$name $o: stderr"; }
	done
	set +e; "$p" --no-such-option </dev/null >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?; set -e
	[ "$rc" = 64 ] || { cat "$T_TMP/err" >&2; t_fail "$name --no-such-option: exit $rc, want 64"; }
	[ -s "$T_TMP/err" ] && [ ! -s "$T_TMP/out" ] || t_fail "$name --no-such-option: not said on stderr only"
	# the man page says so
	page=$(ls "$D$mandir"/man[18]/"$name".[18] 2>/dev/null | head -1)
	[ -n "$page" ] || t_fail "$name: no man page installed"
	grep -q "a usage error exits 64" "$page" ||
		t_fail "$name: its man page does not document --version and exit 64"
	n=$((n + 1))
done
[ "$n" -ge 5 ] || t_fail "only $n programs installed?"
t_pass "$n installed programs: --help/-h and --version/-V exit 0 on stdout, a usage error exits 64"

# ---- item 10: the compiled-in configuration path and the man pages ----------
conf=$sysconfdir/sccrypt/sccrypt.conf
"$D$sbindir/sccrypt-consoled" --help | grep -qF "(default $conf)" ||
	t_fail "sccrypt-consoled's default configuration is not $conf"
env -u SSH_ORIGINAL_COMMAND "$D$bindir/sccrypt-console" --help | grep -qF "$conf" ||
	t_fail "sccrypt-console does not name $conf"
if [ -x "$D$sbindir/sccrypt-hvsim" ]; then
	"$D$sbindir/sccrypt-hvsim" --help | grep -qF "(default $sysconfdir/sccrypt/hvsim.conf)" ||
		t_fail "sccrypt-hvsim's default configuration"
fi
for page in man8/sccrypt-consoled.8 man8/sccrypt-console.8 man5/sccrypt.conf.5 man8/sccrypt-webgate.8; do
	grep -qF "$conf" "$D$mandir/$page" || t_fail "$page does not name $conf"
	# /etc/sccrypt/ other than inside $sysconfdir/sccrypt/
	if [ "$sysconfdir" != /etc ] &&
	    sed "s|$sysconfdir/sccrypt/||g" "$D$mandir/$page" | grep -q '/etc/sccrypt/'; then
		t_fail "$page still names /etc/sccrypt/ (sysconfdir is $sysconfdir)"
	fi
done
t_pass "configuration path: programs and installed man pages say $conf"
