#!/bin/sh
# tests/xen-dist-check.sh — every file of the Xen port (the patch series,
# the glue, the crypto provider, the lab) is in the release tarball.
#
# The tarball's list is written by hand in hv/xen/local.mk; it had fallen
# behind the tree: the issue 14 patches 0020-0022 were not in it, so a
# hypervisor built from a release would have lacked those fixes.  Run from
# a git checkout (the tree's own file list); skipped in a tarball.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
if [ ! -e .git ] || ! command -v git >/dev/null 2>&1; then
	echo "SKIP: not a git checkout"
	exit 77
fi
mk=$(cat hv/xen/local.mk)
missing=0
for f in $(git ls-files hv/xen/patches hv/xen/glue hv/xen/crypto hv/xen/tools \
    tests/xen-lab); do
	case $mk in
	*"$f"*) ;;
	*) echo "xen-dist-check: not in the tarball (hv/xen/local.mk): $f"
	   missing=$((missing + 1)) ;;
	esac
	# automake's default tar format (v7) drops, with a mere warning, a
	# path over 99 bytes: sccrypt-X.Y.Z/ + the file's path must fit.
	if [ $((${#f} + 16)) -gt 99 ]; then
		echo "xen-dist-check: path too long for the tarball (v7 tar, 99 bytes with sccrypt-X.Y.Z/): $f"
		missing=$((missing + 1))
	fi
done
[ "$missing" -eq 0 ] || exit 1
echo "xen-dist-check: ok: every file of the Xen port is distributed"
