#!/bin/sh
# crypto-diff.sh — build the hypervisor's crypto provider (hv/xen/crypto:
# libsodium 1.0.18's reference code from Debian's source package, plus the
# SCCrypt glue) with freestanding flags, check that it needs nothing from a
# libc, and run
#   1. tests/xen-lab/crypto-diff: RFC 7748 / RFC 8439 / RFC 7693+BLAKE2 KAT
#      vectors, low-order point rejection, and a differential test against
#      user-space libsodium on random inputs;
#   2. tests/noise-vectors.c, compiled unchanged against this provider, on
#      the published Noise vectors (tests/vectors/);
#   3. tests/xen-lab/glue-test: the core side of the Xen glue
#      (hv/xen/glue/sc_xen_core.c) with hv/core on this provider, and the
#      attach of its Xen side (sccrypt.c, Xen stubbed by glue-xen.c);
#   4. tests/xen-lab/ibt-check.sh: with Xen's CET-IBT flags, every function
#      called through a pointer carries SC_CF_CHECK (starts with ENDBR64),
#      libsodium's included (sodium_cf_check.h), and no other function does.
# Prints a summary; exit 0 only if everything matched, 77 if the libsodium
# source cannot be fetched here (see fetch-src.sh), 1 on any difference.
#
# usage: tests/xen-lab/crypto-diff.sh [-n ITERATIONS]
# env:   CC (default cc), SCCRYPT_XEN_CACHE (download cache), KEEP=1 keeps
#        the build directory.
set -eu
XL_PROG=crypto-diff
. "$(dirname "$0")/common.sh"

iters=2000
while getopts n: opt; do
	case $opt in
	n) iters=$OPTARG ;;
	*) echo "usage: $0 [-n ITERATIONS]" >&2; exit 2 ;;
	esac
done

CC=${CC:-cc}
top=$XL_TOP
cdir=$top/hv/xen/crypto
command -v pkg-config >/dev/null || xl_die "pkg-config is needed"
pkg-config --exists libsodium || xl_skip "libsodium development files are not installed"

rc=0
srcdir=$("$top/tests/xen-lab/fetch-src.sh" libsodium "$(xl_libsodium_version)") || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
sodium=$srcdir/src/libsodium

work=$(mktemp -d "${TMPDIR:-/tmp}/crypto-diff.XXXXXX")
cleanup() { [ "${KEEP:-0}" = 1 ] && xl_log "kept $work" || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The defines from the header of sodium-files.
defs=$(sed -n 's/^# defs: //p' "$cdir/sodium-files")
arch_flags=
case $(uname -m) in
x86_64) arch_flags="-mno-red-zone -mno-sse -mno-mmx" ;;	# as in Xen
esac
# shellcheck disable=SC2086
FREE="-ffreestanding -fno-builtin -nostdinc -isystem $($CC -print-file-name=include) \
 -std=gnu11 -O2 -fno-strict-aliasing -fPIE $arch_flags $defs \
 -I$cdir/shim -I$sodium/include/sodium -I$top/lib -I$cdir"

# A libsodium file's flags as Makefile.xen gives them: its SC_SODIUM_<file>
# and the CET-IBT marks of sodium_cf_check.h (empty without SC_CF_CHECK).
sodium_flags() {
	echo "-DSC_SODIUM_$(basename "$1" .c | tr - _) -include $cdir/sodium_cf_check.h"
}

mkdir -p "$work/obj"
n=0
for f in $(grep -v '^#' "$cdir/sodium-files" | grep .); do
	[ -f "$sodium/$f" ] || xl_die "$sodium/$f missing from the source package"
	# Third-party code: its warnings are shown, not fatal.
	# shellcheck disable=SC2046,SC2086
	$CC $FREE $(sodium_flags "$f") -c "$sodium/$f" -o "$work/obj/sodium_$(basename "$f" .c).o" ||
	    xl_die "cannot compile $f freestanding"
	n=$((n + 1))
done
for f in sc_crypto_ref.c sodium_shim.c; do
	# shellcheck disable=SC2086
	$CC $FREE -Wall -Wextra -Werror -c "$cdir/$f" -o "$work/obj/$(basename "$f" .c).o" ||
	    xl_die "cannot compile $f freestanding"
done
# Nothing may come from a libc header.
for f in sc_crypto_ref.c sodium_shim.c; do
	# shellcheck disable=SC2086
	if $CC $FREE -M "$cdir/$f" | tr ' \\' '\n\n' | grep -E '^/usr/include'; then
		xl_die "$f includes a libc header"
	fi
done

# One relocatable object; only the provider's entry points stay global, so
# the libsodium names inside cannot collide with the real libsodium.
ld -r -o "$work/provider-all.o" "$work"/obj/*.o
objcopy --keep-global-symbol=sc_crypto_ref --keep-global-symbol=sc_ref_rng_init \
    --keep-global-symbol=sc_ref_rng_seeded "$work/provider-all.o" "$work/provider.o"
undef=$(nm -u "$work/provider.o" | awk '{print $2}' | sort -u |
    grep -vxE 'memcpy|memmove|memset|memcmp|sc_ref_fatal|_GLOBAL_OFFSET_TABLE_|__stack_chk_fail|__stack_chk_guard' || true)
[ -z "$undef" ] || xl_die "the provider references external symbols:" $undef
xl_log "provider: $n libsodium files + glue compiled freestanding ($CC); external symbols: $(nm -u "$work/provider.o" | awk '{print $2}' | sort -u | tr '\n' ' ')"

# shellcheck disable=SC2046
HOST="-std=gnu11 -O2 -Wall -Wextra -Werror -I$top/lib -I$cdir $(pkg-config --cflags libsodium)"
# shellcheck disable=SC2086
$CC $HOST -o "$work/crypto-diff" "$top/tests/xen-lab/crypto-diff.c" \
    "$top/lib/core/crypto.c" "$work/provider.o" $(pkg-config --libs libsodium)

fail=0
"$work/crypto-diff" -n "$iters" >"$work/diff.out" 2>&1 || fail=1
cat "$work/diff.out"
tail -n 1 "$work/diff.out" | grep -Eq '^crypto-diff: [0-9]+ checks, 0 differences$' || fail=1

# The Noise vectors through this provider.
nv=skipped
if pkg-config --exists jansson; then
	# shellcheck disable=SC2046,SC2086
	$CC $HOST $(pkg-config --cflags jansson) -Dsc_crypto_sodium=sc_xen_nv_provider \
	    -o "$work/noise-vectors-xen" "$top/tests/noise-vectors.c" \
	    "$top/tests/xen-lab/nv-provider.c" "$top/lib/core/noise.c" \
	    "$top/lib/core/noise_pattern.c" \
	    "$top/lib/core/buf.c" "$top/lib/core/crypto.c" "$top/lib/core/err.c" \
	    "$work/provider.o" $(pkg-config --libs jansson libsodium)
	if "$work/noise-vectors-xen" "$top/tests/vectors/cacophony-25519-chachapoly-blake2b.json" \
	    >"$work/nv.out" 2>&1 &&
	    tail -n 1 "$work/nv.out" | grep -Eqx '[1-9][0-9]* passed, 0 failed, [0-9]+ skipped' &&
	    grep -qx 'PASS Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b' "$work/nv.out"; then
		nv="ok ($(tail -n 1 "$work/nv.out"))"
	else
		grep -v '^PASS' "$work/nv.out" | tail -n 20
		nv="FAILED ($(tail -n 1 "$work/nv.out"))"
		fail=1
	fi
else
	xl_log "jansson not installed: Noise vectors not run"
fi

# The core side of the Xen glue on this provider, and its Xen side
# (sccrypt.c, through glue-xen.c's stubs): the Xen headers it includes are
# empty files here.
mkdir -p "$work/xen-inc"
for h in $(sed -n 's/^#include <\(.*\)>.*/\1/p' "$top"/hv/xen/glue/sccrypt.c \
    "$top"/hv/xen/glue/sccrypt_rng.c "$top"/hv/xen/glue/sccrypt_hvm.c | sort -u); do
	mkdir -p "$work/xen-inc/$(dirname "$h")"
	: >"$work/xen-inc/$h"
done
# shellcheck disable=SC2046,SC2086
$CC $HOST -DSC_NOISE_IKPSK2_ONLY -I"$top" -I"$top/hv/xen" -I"$work/xen-inc" \
    -o "$work/glue-test" \
    "$top/tests/xen-lab/glue-test.c" "$top/tests/xen-lab/glue-xen.c" \
    "$top/hv/xen/glue/sc_xen_core.c" "$top"/hv/core/ring.c "$top"/hv/core/hv*.c \
    "$top"/lib/core/err.c "$top"/lib/core/buf.c "$top"/lib/core/crypto.c \
    "$top"/lib/core/noise.c "$top"/lib/core/noise_pattern.c \
    "$top"/lib/core/record.c "$top"/lib/core/blob.c "$top"/lib/core/owner.c \
    "$top"/lib/core/frame.c "$top"/lib/core/ops.c "$top"/lib/core/handshake.c \
    "$work/provider.o" $(pkg-config --libs libsodium)
if "$work/glue-test" >"$work/glue.out" 2>&1 &&
    tail -n 1 "$work/glue.out" | grep -Eq '^glue-test: [0-9]+ checks, 0 failed$'; then
	glue="ok ($(tail -n 1 "$work/glue.out"))"
else
	cat "$work/glue.out"
	glue="FAILED ($(tail -n 1 "$work/glue.out"))"
	fail=1
fi

# CET-IBT (Xen's CONFIG_XEN_IBT): the core, the glue's core side, the
# provider and the libsodium files built as hv/xen/glue/Makefile.xen builds
# them inside Xen, all with -mmanual-endbr and SC_CF_CHECK as Xen's
# cf_check (the libsodium files marked by sodium_cf_check.h).  Every
# function whose address is taken must begin with ENDBR64, and no other
# one (tests/xen-lab/ibt-check.sh).
ibt=skipped
IBT="-fcf-protection=branch -mmanual-endbr -fno-jump-tables -ffunction-sections -fdata-sections"
CFC='-DSC_CF_CHECK=__attribute__((__cf_check__))'
# shellcheck disable=SC2086
if echo 'int __attribute__((__cf_check__)) f(void) { return 0; }' |
    $CC -x c -c -o /dev/null -Werror $IBT - 2>/dev/null; then
	mkdir -p "$work/ibt"
	for f in $(grep -v '^#' "$cdir/sodium-files" | grep .); do
		# shellcheck disable=SC2046,SC2086
		$CC $FREE $IBT "$CFC" $(sodium_flags "$f") -w -c "$sodium/$f" \
		    -o "$work/ibt/sodium_$(basename "$f" .c).o" || xl_die "ibt: cannot compile $f"
	done
	for f in "$top"/lib/core/*.c "$top"/hv/core/*.c "$top"/hv/xen/glue/sc_xen_core.c \
	    "$cdir"/sc_crypto_ref.c "$cdir"/sodium_shim.c; do
		# shellcheck disable=SC2086
		$CC $FREE $IBT "$CFC" -DSC_NOISE_IKPSK2_ONLY -I"$top" -I"$top/hv/xen" \
		    -Wall -Wextra -Werror -c "$f" -o "$work/ibt/sc_$(basename "$f" .c).o" ||
		    xl_die "ibt: cannot compile $f"
	done
	# The provider's 11 operations, sc_xen_core.c's 3 (or more) platform hooks and
	# the 12 functions of libsodium's implementation tables at least.
	if "$top/tests/xen-lab/ibt-check.sh" -m 26 "$work"/ibt/*.o \
	    >"$work/ibt.out" 2>&1; then
		ibt="ok ($(tail -n 1 "$work/ibt.out" | sed 's/^ibt-check: //'))"
	else
		grep -v '^ok' "$work/ibt.out"
		ibt="FAILED ($(tail -n 1 "$work/ibt.out"))"
		fail=1
	fi
else
	xl_log "$CC has no -mmanual-endbr/cf_check: CET-IBT marks not checked"
fi

echo "=== crypto-diff summary"
echo "provider:       $n libsodium $(xl_libsodium_version) reference files, freestanding ($CC)"
echo "KAT + diff:     $(tail -n 1 "$work/diff.out")"
echo "noise vectors:  $nv"
echo "xen glue core:  $glue"
echo "cet-ibt marks:  $ibt"
if [ "$fail" -ne 0 ]; then
	echo "crypto-diff: FAILED"
	exit 1
fi
echo "crypto-diff: all checks passed"
