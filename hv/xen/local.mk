# hv/xen: SCCrypt inside Xen 4.17 (included from the top Makefile.am).
#
# Nothing here is built by `make`: the hypervisor is built by
# tests/xen-lab/build-xen.sh from Debian's xen source package plus
# hv/xen/patches, and the crypto provider's differential test by
# tests/xen-lab/crypto-diff.sh (both fetch third-party sources into a cache
# outside the tree).  `make xen-crypto-diff` runs the latter.

EXTRA_DIST += \
	hv/xen/crypto/sc_crypto_ref.h hv/xen/crypto/sc_crypto_ref.c \
	hv/xen/crypto/sodium_shim.c hv/xen/crypto/sodium-files \
	hv/xen/crypto/shim/assert.h hv/xen/crypto/shim/limits.h \
	hv/xen/crypto/shim/stdio.h hv/xen/crypto/shim/stdlib.h \
	hv/xen/crypto/shim/string.h hv/xen/crypto/shim/sys/types.h \
	tests/xen-lab/common.sh tests/xen-lab/crypto-diff.c \
	tests/xen-lab/nv-provider.c

dist_noinst_SCRIPTS += tests/xen-lab/fetch-src.sh tests/xen-lab/crypto-diff.sh

xen-crypto-diff:
	CC='$(CC)' $(SHELL) $(top_srcdir)/tests/xen-lab/crypto-diff.sh

.PHONY: xen-crypto-diff
