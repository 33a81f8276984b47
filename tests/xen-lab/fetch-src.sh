#!/bin/sh
# fetch-src.sh PACKAGE VERSION — download a Debian source package with
# `apt-get source` into the lab cache and extract it (Debian patches
# applied); print the extracted directory.
#
# Idempotent: a package already extracted in the cache is reused without any
# network access.  If apt has no deb-src entry that offers PACKAGE=VERSION,
# one is added (as root only) in /etc/apt/sources.list.d/sccrypt-deb-src.*
# from the machine's own `deb` entries (same mirrors, suites, components and
# keys), used for this download, and removed again afterwards.
#
# Exit status: 0 ok, 77 cannot fetch here (not root and no deb-src), 1 error.
set -eu
XL_PROG=fetch-src
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || { echo "usage: $0 PACKAGE VERSION" >&2; exit 2; }
pkg=$1
ver=$2
dl=$XL_CACHE/dl
dest=$XL_CACHE/src/$pkg-$ver
mkdir -p "$dl" "$XL_CACHE/src"

if [ -f "$dest/.sccrypt-extracted" ]; then
	echo "$dest"
	exit 0
fi

# The .dsc name drops the epoch.
dsc=$dl/${pkg}_${ver#*:}.dsc

added=
cleanup() {
	if [ -n "$added" ]; then
		rm -f "$added"
		apt-get update -qq >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

have_src() {
	apt-cache showsrc "$pkg" 2>/dev/null | grep -qx "Version: $ver"
}

add_deb_src() {
	[ "$(id -u)" -eq 0 ] || xl_skip "no deb-src entry offers $pkg=$ver and adding one needs root (or put the source package files in $dl)"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		# deb822 (Debian 12's default): the same stanzas as deb-src.
		out=/etc/apt/sources.list.d/sccrypt-deb-src.sources
		sed 's/^Types:.*/Types: deb-src/' \
		    /etc/apt/sources.list.d/debian.sources >"$out.tmp"
	else
		out=/etc/apt/sources.list.d/sccrypt-deb-src.list
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		    sed -n 's/^[ \t]*deb[ \t]/deb-src /p' >"$out.tmp"
	fi
	[ -s "$out.tmp" ] || { rm -f "$out.tmp"; xl_die "found no Debian 'deb' entries to derive a deb-src entry from"; }
	mv "$out.tmp" "$out"
	added=$out
	xl_log "added $out; apt-get update"
	apt-get update -qq >/dev/null || xl_die "apt-get update failed"
}

if [ ! -f "$dsc" ]; then
	if ! have_src; then
		add_deb_src
		have_src || xl_die "no source package $pkg=$ver on the configured mirrors"
	fi
	xl_log "apt-get source $pkg=$ver"
	(cd "$dl" && apt-get source -qq --download-only "$pkg=$ver" >/dev/null 2>&1) ||
	    (cd "$dl" && apt-get source --download-only "$pkg=$ver") ||
	    xl_die "apt-get source $pkg=$ver failed"
fi
[ -f "$dsc" ] || xl_die "$dsc missing after the download"

# dpkg-source checks every file against the checksums in the .dsc (apt
# checked the .dsc against the signed Sources index when downloading).
tmp=$dest.tmp.$$
rm -rf "$tmp"
dpkg-source -x "$dsc" "$tmp" >/dev/null 2>"$tmp.log" ||
    { cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; xl_die "dpkg-source -x $dsc failed"; }
rm -f "$tmp.log"
touch "$tmp/.sccrypt-extracted"
rm -rf "$dest"
mv "$tmp" "$dest"
echo "$dest"
