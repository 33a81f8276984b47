# tests/xen-lab/common.sh — shared settings of the Xen lab scripts (sourced).
#
# Third-party sources (Debian's xen and libsodium source packages) are
# fetched at build time into a cache outside the tree; nothing from them is
# ever committed.  Override the cache with SCCRYPT_XEN_CACHE.

# shellcheck shell=sh

XL_TOP=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${SCCRYPT_XEN_CACHE:-}" ]; then
	XL_CACHE=$SCCRYPT_XEN_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	XL_CACHE=$XDG_CACHE_HOME/sccrypt-xen
else
	XL_CACHE=/var/tmp/sccrypt-xen
fi

# The Xen source the patch series applies to (see docs/xen.md: the security
# update 4.17.7+13 matching the hypervisor .deb is not downloadable as
# source from the mirrors, so the lab builds 4.17.5+72 from bookworm main).
XL_XEN_VERSION=4.17.5+72-g01140da4e8-1

# libsodium: the 1.0.18 Debian revision that is installed (so the
# differential test compares the same release), else the bookworm one.
xl_libsodium_version() {
	v=$(dpkg-query -W -f='${Version}' libsodium23 2>/dev/null || true)
	case $v in
	1.0.18-*) echo "$v" ;;
	*) echo 1.0.18-1+deb12u1 ;;
	esac
}

xl_log() {
	printf '%s: %s\n' "${XL_PROG:-xen-lab}" "$*" >&2
}

xl_die() {
	xl_log "error: $*"
	exit 1
}

# Exit 77 (automake's SKIP) with a reason.
xl_skip() {
	xl_log "SKIP: $*"
	exit 77
}
