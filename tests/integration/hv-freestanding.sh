#!/bin/sh
# hv/core must build with no libc: compile it and the protocol core it uses
# with -ffreestanding -nostdinc, link the objects into one relocatable object
# and check that it needs nothing but memcpy/memmove/memset (what Xen and any
# hosted libc provide).  Complements tests/freestanding-check, which checks
# each file on its own.
set -eu
: "${CC:?}" "${FREESTANDING_CFLAGS:?}" "${top_srcdir:?}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
srcs="hv/core/ring.c hv/core/hv.c hv/client/hvclient.c lib/core/err.c lib/core/buf.c lib/core/crypto.c
      lib/core/noise.c lib/core/record.c lib/core/blob.c lib/core/frame.c lib/core/ops.c"
for src in $srcs; do
	# shellcheck disable=SC2086
	$CC $FREESTANDING_CFLAGS -I"$top_srcdir/lib" -I"$top_srcdir" \
	    -c "$top_srcdir/$src" -o "$out/$(echo "$src" | tr / _).o"
	# shellcheck disable=SC2086
	if $CC $FREESTANDING_CFLAGS -I"$top_srcdir/lib" -I"$top_srcdir" -M \
	    "$top_srcdir/$src" | tr ' \\' '\n\n' | grep -E '^/usr/include'; then
		echo "hv-freestanding: $src includes a libc header" >&2
		exit 1
	fi
done
ld -r -o "$out/all.o" "$out"/*.o
undef=$(nm -u "$out/all.o" | awk '{print $2}' | sort -u |
    grep -vxE 'memcpy|memmove|memset|__stack_chk_fail|__stack_chk_guard' || true)
if [ -n "$undef" ]; then
	echo "hv-freestanding: hv/core + lib/core reference external symbols:" $undef >&2
	exit 1
fi
echo "ok: hv/core + lib/core compiled freestanding, no libc symbols"
