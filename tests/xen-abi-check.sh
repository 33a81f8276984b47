#!/bin/sh
# The sccrypt_op ABI has two copies: the public header hv/xen/patches/0001
# adds to Xen (xen/include/public/sccrypt.h and two lines of public/xen.h)
# and lib/xen_abi.h, which the dom0 tools use (issue 19 item 3).  This
# extracts the patch's header and compiles every constant, field offset,
# field size and struct size of one against the other: any drift fails.
# SC_XEN_ABI_PATCH and SC_XEN_ABI_HEADER override the two files (used to
# check that a drift is caught).
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
CC=${CC:-cc}
patch=${SC_XEN_ABI_PATCH:-$(ls "$top_srcdir"/hv/xen/patches/0001-*.patch)}
header=${SC_XEN_ABI_HEADER:-$top_srcdir/lib/xen_abi.h}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# The new file's lines, without their leading '+'.
awk '/^\+\+\+ b\/xen\/include\/public\/sccrypt\.h$/ { on = 1; next }
     on && /^diff --git / { exit }
     on && /^\+/ { print substr($0, 2) }' "$patch" >"$t/sccrypt.h"
grep -q 'struct xen_sccrypt_attach' "$t/sccrypt.h" || {
	echo "xen-abi-check: no public/sccrypt.h in $patch" >&2; exit 1; }
# public/xen.h's additions, on top of Xen's own types (domid_t uint16_t,
# evtchn_port_t uint32_t, as every Xen version has them).
{
	printf '#include <stdint.h>\ntypedef uint16_t domid_t;\n'
	grep -E '^\+#define (__HYPERVISOR_sccrypt_op|VIRQ_SCCRYPT)[[:space:]]' \
	    "$patch" | sed 's/^+//'
} >"$t/xen.h"
printf '#include <stdint.h>\ntypedef uint32_t evtchn_port_t;\n' >"$t/event_channel.h"
cp "$header" "$t/our_abi.h"

# Every SCCRYPT_OP_* of the patch must have its SC_XEN_OP_* twin.
ops=$(sed -n 's/^#define SCCRYPT_OP_\([A-Z0-9_]*\).*/\1/p' "$t/sccrypt.h")
[ -n "$ops" ] || { echo "xen-abi-check: no SCCRYPT_OP_* in the patch" >&2; exit 1; }
{
	cat <<'EOC'
#include <stddef.h>
#include "sccrypt.h"
#include "our_abi.h"
#define SAME(a, b)	_Static_assert((a) == (b), #a " differs from " #b)
#define FIELD(f, n) \
	SAME(offsetof(struct sc_xen_attach, f), offsetof(struct xen_sccrypt_attach, f)); \
	SAME(sizeof(((struct sc_xen_attach *)0)->f), sizeof(((struct xen_sccrypt_attach *)0)->f)); \
	SAME(offsetof(struct sc_xen_attach, f), n);
SAME(SC_XEN_HYPERCALL, __HYPERVISOR_sccrypt_op);
SAME(SC_XEN_VIRQ, VIRQ_SCCRYPT);
FIELD(domid, 0) FIELD(pad0, 2) FIELD(port, 4) FIELD(gfn, 8)
FIELD(history, 16) FIELD(flags, 20) FIELD(uuid, 24) FIELD(name, 40)
SAME(sizeof(struct sc_xen_attach), sizeof(struct xen_sccrypt_attach));
SAME(offsetof(struct sc_xen_detach, domid), offsetof(struct xen_sccrypt_detach, domid));
SAME(offsetof(struct sc_xen_detach, pad0), offsetof(struct xen_sccrypt_detach, pad0));
SAME(sizeof(struct sc_xen_detach), sizeof(struct xen_sccrypt_detach));
EOC
	for op in $ops; do
		echo "SAME(SC_XEN_OP_$op, SCCRYPT_OP_$op);"
	done
} >"$t/check.c"

if ! $CC -std=c11 -fsyntax-only -I"$t" "$t/check.c" 2>"$t/err"; then
	sed 's/^/  /' "$t/err" >&2
	echo "xen-abi-check: FAIL: $header and the public header of $(basename "$patch") differ" >&2
	exit 1
fi
echo "xen-abi-check: ok: $(echo $ops | wc -w) commands, hypercall, VIRQ and both structs agree"
