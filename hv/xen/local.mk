# hv/xen: SCCrypt inside Xen 4.17 (included from the top Makefile.am).
#
# The hypervisor itself is not built by `make`: tests/xen-lab/build-xen.sh
# builds it from Debian's xen source package + hv/xen/patches, copying
# lib/core, hv/core, hv/xen/crypto and hv/xen/glue into the Xen tree.  The
# crypto provider's differential test is tests/xen-lab/crypto-diff.sh
# (`make xen-crypto-diff`).  Both fetch third-party sources into a cache
# outside the tree.  The Xen lab is tests/xen-lab/run.sh (not in make check).
#
# Built here: sccrypt-xenctl, the dom0 helper that attaches a domain's
# console to the hypervisor (needs libxencall + libxenstore).

if BUILD_XEN_BACKEND
sbin_PROGRAMS += hv/xen/tools/sccrypt-xenctl
endif
dist_man_MANS += hv/xen/tools/sccrypt-xenctl.8
hv_xen_tools_sccrypt_xenctl_SOURCES = hv/xen/tools/sccrypt-xenctl.c
hv_xen_tools_sccrypt_xenctl_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(XEN_CFLAGS)
hv_xen_tools_sccrypt_xenctl_LDADD = $(SC_LIBS) $(XEN_LIBS)

EXTRA_DIST += \
	hv/xen/crypto/sc_crypto_ref.h hv/xen/crypto/sc_crypto_ref.c \
	hv/xen/crypto/sodium_shim.c hv/xen/crypto/sodium-files \
	hv/xen/crypto/sodium_cf_check.h \
	hv/xen/crypto/shim/assert.h hv/xen/crypto/shim/limits.h \
	hv/xen/crypto/shim/stdio.h hv/xen/crypto/shim/stdlib.h \
	hv/xen/crypto/shim/string.h hv/xen/crypto/shim/sys/types.h \
	hv/xen/crypto/shim/sc_xen_prelude.h \
	hv/xen/glue/Makefile.xen hv/xen/glue/sccrypt.c \
	hv/xen/glue/sc_xen_core.c hv/xen/glue/sc_xen_core.h \
	hv/xen/glue/sccrypt_tpm.c hv/xen/glue/sccrypt_tpm.h \
	hv/xen/glue/sccrypt_hvm.c hv/xen/glue/sccrypt_hvm.h \
	hv/xen/glue/sccrypt_rng.c hv/xen/glue/sccrypt_rng.h \
	hv/xen/patches/0001-sccrypt-the-sccrypt_op-hypercall-43-VIRQ_SCCRYPT-14-.patch \
	hv/xen/patches/0002-xsm-sccrypt_op-hook.patch \
	hv/xen/patches/0003-evtchn-let-Xen-take-over-a-domain-s-unbound-port-loo.patch \
	hv/xen/patches/0004-gnttab-SCCrypt-protected-console-pages-are-neither-m.patch \
	hv/xen/patches/0005-x86-no-foreign-mapping-of-SCCrypt-protected-console-.patch \
	hv/xen/patches/0006-domain_kill-detach-the-domain-from-SCCrypt.patch \
	hv/xen/patches/0020-sccrypt-refuse-the-paths-that-expose-Xen-s-memory-wi.patch \
	hv/xen/patches/0021-xsm-per-target-check-of-SCCRYPT_OP_CALL-domain2-sccr.patch \
	hv/xen/patches/0022-evtchn-loopback-binding-XSM-check-give-gport-back-to.patch \
	hv/xen/patches/0030-x86-p2m-keep-the-SCCrypt-console-gfn-pinned.patch \
	hv/xen/patches/0040-flask-sccrypt_domU_t-protected-guests-memory-not-map.patch \
	hv/xen/patches/tools/0001-xenconsoled-release-a-console-whose-type-changes.patch \
	tests/xen-lab/common.sh tests/xen-lab/crypto-diff.c \
	tests/xen-lab/nv-provider.c tests/xen-lab/sccrypt-xen-probe.c \
	tests/xen-lab/sccrypt-hcall-probe.c tests/xen-lab/sccrypt-page-probe.c \
	tests/xen-lab/sccrypt-mem-probe.c tests/xen-lab/sccrypt-p2m-probe.c \
	tests/xen-lab/sccrypt-fpu-probe.c \
	tests/xen-lab/glue-test.c tests/xen-lab/glue-xen.c tests/xen-lab/glue-xen.h \
	tests/xen-lab/dom0-init.sh tests/xen-lab/tpm-lab.sh tests/xen-lab/lab-xl-create

dist_noinst_SCRIPTS += tests/xen-lab/fetch-src.sh tests/xen-lab/crypto-diff.sh \
	tests/xen-lab/build-xen.sh tests/xen-lab/build-xenconsoled.sh \
	tests/xen-lab/run.sh tests/xen-lab/bench tests/xen-lab/ibt-check.sh

xen-crypto-diff:
	CC='$(CC)' $(SHELL) $(top_srcdir)/tests/xen-lab/crypto-diff.sh

xen-build:
	$(SHELL) $(top_srcdir)/tests/xen-lab/build-xen.sh

.PHONY: xen-crypto-diff xen-build

# The sccrypt_op ABI for user space (lib/xen_abi.h) against the public header
# of hv/xen/patches/0001, field by field (issue 19 item 3).
noinst_HEADERS += lib/xen_abi.h
TESTS += tests/xen-abi-check.sh
dist_check_SCRIPTS += tests/xen-abi-check.sh
# Every file of the Xen port is in the tarball (the list above is by hand).
TESTS += tests/xen-dist-check.sh
dist_check_SCRIPTS += tests/xen-dist-check.sh
