#!/bin/sh
# build-xen.sh — build the SCCrypt hypervisor: Debian's xen source package
# (XL_XEN_VERSION in common.sh) + hv/xen/patches/*.patch, with SCCrypt's
# own sources copied in unchanged at build time:
#   lib/core/*          -> xen/common/sccrypt/lib/core/
#   hv/core/*           -> xen/common/sccrypt/hv/core/
#   hv/xen/crypto/*     -> xen/common/sccrypt/crypto/
#   hv/xen/glue/*       -> xen/common/sccrypt/  (Makefile.xen -> Makefile)
#   libsodium 1.0.18 (Debian source package) src/libsodium
#                       -> xen/common/sccrypt/sodium/
# configured like Debian's hypervisor package (debian/xen-kconfig +
# olddefconfig, i.e. a non-debug build).  The result is cached under
# $XL_CACHE/xen-build/<hash of every input>/; the path of the bootable
# multiboot ELF (xen/xen) is printed on stdout.
#
# usage: tests/xen-lab/build-xen.sh [-f] [-k] [-c KCONFIG-OVERRIDE...]
#   -f  rebuild even if a cached build exists
#   -k  keep the build tree ($XL_CACHE/xen-build/<hash>/tree)
#   -c  extra "CONFIG_X=y" lines appended to .config (part of the hash),
#       e.g. -c CONFIG_XSM=y -c CONFIG_XSM_FLASK=y to build the FLASK hook
# env: JOBS (default nproc), SCCRYPT_XEN_CACHE.
# Needs: gcc, make, python3, bison, flex (+ apt-get source, see fetch-src.sh).
set -eu
XL_PROG=build-xen
. "$(dirname "$0")/common.sh"

force=0
keep=0
# CONFIG_SCCRYPT is experimental, off by default and visible only with
# CONFIG_UNSUPPORTED (patch 0001, like Argo): the lab turns both on.
extra_cfg='CONFIG_UNSUPPORTED=y
CONFIG_SCCRYPT=y
'
while getopts fkc: opt; do
	case $opt in
	f) force=1 ;;
	k) keep=1 ;;
	c) extra_cfg="$extra_cfg$OPTARG
" ;;
	*) echo "usage: $0 [-f] [-k] [-c CONFIG_X=y]..." >&2; exit 2 ;;
	esac
done

top=$XL_TOP
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
for t in gcc make python3 bison flex; do
	command -v "$t" >/dev/null || xl_die "$t is needed to build Xen"
done

rc=0
xensrc=$("$top/tests/xen-lab/fetch-src.sh" xen "$XL_XEN_VERSION") || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
sodsrc=$("$top/tests/xen-lab/fetch-src.sh" libsodium "$(xl_libsodium_version)") || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"

# Every input of the build, by content.
inputs() {
	echo "xen $XL_XEN_VERSION libsodium $(xl_libsodium_version)"
	gcc --version | head -n 1
	printf '%s' "$extra_cfg"
	# hv/xen/patches/tools/ patches xenconsoled, not the hypervisor
	# (build-xenconsoled.sh).
	(cd "$top" && find hv/xen/patches hv/xen/glue hv/xen/crypto lib/core hv/core \
	    -path hv/xen/patches/tools -prune -o \
	    -type f \( -name '*.c' -o -name '*.h' -o -name '*.patch' -o \
	    -name 'Makefile.xen' -o -name 'sodium-files' \) -print | LC_ALL=C sort |
	    xargs sha256sum)
	sha256sum "$top/tests/xen-lab/build-xen.sh" | cut -d' ' -f1
}
hash=$(inputs | sha256sum | cut -c1-16)
out=$XL_CACHE/xen-build/$hash
if [ "$force" -eq 0 ] && [ -f "$out/xen" ] && [ -f "$out/.ok" ]; then
	xl_log "cached build $out"
	echo "$out/xen"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
tree=$out/tree
cleanup() {
	if [ "$keep" -eq 0 ] && [ -d "$tree" ]; then
		rm -rf "$tree"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

xl_log "copying $xensrc"
cp -a "$xensrc" "$tree"
rm -f "$tree/.sccrypt-extracted"

n=0
for p in "$top"/hv/xen/patches/*.patch; do
	[ -f "$p" ] || continue
	patch -d "$tree" -p1 -F0 --no-backup-if-mismatch -s <"$p" ||
	    xl_die "patch $(basename "$p") does not apply to xen $XL_XEN_VERSION"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || xl_die "no patches in hv/xen/patches"
xl_log "applied $n patches"

d=$tree/xen/common/sccrypt
mkdir -p "$d/lib/core" "$d/hv/core" "$d/crypto/shim/sys" "$d/sodium"
cp "$top"/lib/core/*.c "$top"/lib/core/*.h "$d/lib/core/"
cp "$top"/hv/core/*.c "$top"/hv/core/*.h "$d/hv/core/"
cp "$top"/hv/xen/crypto/*.c "$top"/hv/xen/crypto/*.h "$top/hv/xen/crypto/sodium-files" "$d/crypto/"
cp "$top"/hv/xen/crypto/shim/*.h "$d/crypto/shim/"
cp "$top"/hv/xen/crypto/shim/sys/*.h "$d/crypto/shim/sys/"
cp "$top"/hv/xen/glue/*.c "$top"/hv/xen/glue/*.h "$d/"
cp "$top/hv/xen/glue/Makefile.xen" "$d/Makefile"
cp -a "$sodsrc/src/libsodium/." "$d/sodium/"

# The very same files: check that what went in is byte-identical.
for f in "$top"/lib/core/*.c "$top"/hv/core/*.c; do
	rel=${f#"$top"/}
	cmp -s "$f" "$d/$rel" || xl_die "$rel differs in the Xen tree"
done

cd "$tree"
cp debian/xen-kconfig xen/.config
printf '%s' "$extra_cfg" >>xen/.config
xl_log "olddefconfig"
make -C xen olddefconfig >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; xl_die "olddefconfig failed"; }
grep -qx 'CONFIG_SCCRYPT=y' xen/.config || xl_die "CONFIG_SCCRYPT is not enabled in the configuration"
xl_log "building the hypervisor (make -j$jobs; ~2-4 min)"
start=$(date +%s)
if ! make -C xen -j"$jobs" >>"$out/build.log" 2>&1; then
	grep -E 'error|Error' "$out/build.log" | head -n 40 >&2
	xl_die "hypervisor build failed; log: $out/build.log"
fi
xl_log "built in $(( $(date +%s) - start )) s"

cp xen/xen "$out/xen"
cp xen/xen.gz "$out/xen.gz"
cp xen/.config "$out/config"
cp xen/System.map "$out/System.map" 2>/dev/null || true
# Evidence that SCCrypt is in the image.
nm xen/xen-syms >"$out/xen-syms.nm"
for s in do_sccrypt_op sc_hv_dispatch sc_noise_pattern_lookup crypto_scalarmult_curve25519_ref10_implementation; do
	grep -q " $s\$" "$out/xen-syms.nm" || xl_die "symbol $s missing from xen-syms"
done
# CET-IBT: with CONFIG_XEN_IBT (-mmanual-endbr), every function of
# xen/common/sccrypt whose address is taken must be cf_check / SC_CF_CHECK
# (libsodium's: sodium_cf_check.h), and no other one (ibt-check.sh;
# crypto-diff.sh runs the same check on a build without Xen).
if grep -qx 'CONFIG_XEN_IBT=y' xen/.config; then
	# shellcheck disable=SC2046
	"$top/tests/xen-lab/ibt-check.sh" -m 26 \
	    $(find xen/common/sccrypt -name '*.o' ! -name built_in.o | LC_ALL=C sort) \
	    >"$out/ibt-check.log" 2>&1 ||
	    { grep -v '^ok' "$out/ibt-check.log" >&2; xl_die "CET-IBT check failed (ibt-check.sh)"; }
	xl_log "$(tail -n 1 "$out/ibt-check.log")"
else
	xl_log "CONFIG_XEN_IBT is off: CET-IBT marks not checked"
fi
touch "$out/.ok"
# Keep the four most recent builds.
ls -dt "$XL_CACHE"/xen-build/*/ 2>/dev/null | tail -n +5 | while read -r old; do
	rm -rf "$old"
done
xl_log "hypervisor: $out/xen ($(stat -c %s "$out/xen") bytes)"
echo "$out/xen"
