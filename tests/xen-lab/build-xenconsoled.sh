#!/bin/sh
# build-xenconsoled.sh — build xenconsoled from Debian's xen source package
# (XL_XEN_VERSION in common.sh) with hv/xen/patches/tools/*.patch applied,
# standalone: only tools/console/daemon/*.c (and Xen's tools/include/
# xen-tools/libs.h) from the source, compiled against the machine's
# libxen-dev headers and libraries, which must be the version the dom0 root
# file system runs (the lab's dom0 and this host are both Debian 12 with
# the same xen-utils/libxen-dev security version; libxenctrl's soname is
# versioned, so a mismatch fails at load time, not silently).  The two
# paths upstream's configure puts into config.h are Debian's:
# XEN_LOG_DIR=/var/log/xen, XEN_RUN_DIR=/var/run/xen.
#
# The result is cached under $XL_CACHE/xenconsoled/<hash of every input>/;
# the path of the binary is printed on stdout.
#
# usage: tests/xen-lab/build-xenconsoled.sh [-f]
#   -f  rebuild even if a cached build exists
# Needs: gcc, libxen-dev (+ apt-get source, see fetch-src.sh).
set -eu
XL_PROG=build-xenconsoled
. "$(dirname "$0")/common.sh"

force=0
while getopts f opt; do
	case $opt in
	f) force=1 ;;
	*) echo "usage: $0 [-f]" >&2; exit 2 ;;
	esac
done

top=$XL_TOP
command -v gcc >/dev/null || xl_die "gcc is needed"
for h in xenctrl.h xenstore.h xenevtchn.h xengnttab.h xenforeignmemory.h xen/io/console.h; do
	[ -f "/usr/include/$h" ] || xl_skip "/usr/include/$h missing (libxen-dev)"
done

rc=0
xensrc=$("$top/tests/xen-lab/fetch-src.sh" xen "$XL_XEN_VERSION") || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"

inputs() {
	echo "xen $XL_XEN_VERSION"
	dpkg-query -W -f='libxen-dev ${Version}\n' libxen-dev 2>/dev/null || echo "libxen-dev ?"
	gcc --version | head -n 1
	(cd "$top" && find hv/xen/patches/tools -type f -name '*.patch' | LC_ALL=C sort |
	    xargs -r sha256sum)
	sha256sum "$top/tests/xen-lab/build-xenconsoled.sh" | cut -d' ' -f1
}
hash=$(inputs | sha256sum | cut -c1-16)
out=$XL_CACHE/xenconsoled/$hash
if [ "$force" -eq 0 ] && [ -f "$out/xenconsoled" ] && [ -f "$out/.ok" ]; then
	xl_log "cached build $out"
	echo "$out/xenconsoled"
	exit 0
fi

rm -rf "$out"
tree=$out/tree
mkdir -p "$tree/tools/console/daemon" "$tree/inc/xen-tools"
cp "$xensrc"/tools/console/daemon/*.c "$xensrc"/tools/console/daemon/*.h \
    "$tree/tools/console/daemon/"
cp "$xensrc/tools/include/xen-tools/libs.h" "$tree/inc/xen-tools/"

n=0
for p in "$top"/hv/xen/patches/tools/*.patch; do
	[ -f "$p" ] || continue
	patch -d "$tree" -p1 -F0 --no-backup-if-mismatch -s <"$p" ||
	    xl_die "patch $(basename "$p") does not apply to xen $XL_XEN_VERSION"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || xl_die "no patches in hv/xen/patches/tools"
xl_log "applied $n patch(es) to tools/console/daemon"

printf '#define XEN_LOG_DIR "/var/log/xen"\n#define XEN_RUN_DIR "/var/run/xen"\n' \
    >"$tree/inc/config.h"
d=$tree/tools/console/daemon
# Upstream builds it with -Wall -Werror and __XEN_TOOLS__ (tools/Rules.mk);
# the hardening flags are Debian's defaults.
gcc -std=gnu99 -O2 -g -Wall -Werror -Wdeclaration-after-statement \
    -fstack-protector-strong -D_FORTIFY_SOURCE=2 -D__XEN_TOOLS__ \
    -include "$tree/inc/config.h" -I"$tree/inc" \
    "$d/main.c" "$d/io.c" "$d/utils.c" -o "$out/xenconsoled" \
    -Wl,-z,relro -Wl,-z,now \
    -lxenctrl -lxenstore -lxenevtchn -lxengnttab -lxenforeignmemory -lutil -lrt \
    >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; xl_die "xenconsoled build failed"; }
# Evidence that the patch is in the binary.
grep -q 'Released the console of domain' "$out/xenconsoled" ||
    xl_die "the release message is missing from the binary"
touch "$out/.ok"
# Keep the three most recent builds.
ls -dt "$XL_CACHE"/xenconsoled/*/ 2>/dev/null | tail -n +4 | while read -r old; do
	rm -rf "$old"
done
xl_log "xenconsoled: $out/xenconsoled"
echo "$out/xenconsoled"
