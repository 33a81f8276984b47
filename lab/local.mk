# sccrypt-lab: the whole simulated cloud on one machine (see lab/sccrypt-lab.in,
# man/sccrypt-lab.1, docs/lab.md), its end-to-end tests and the demo.

bin_SCRIPTS += lab/sccrypt-lab
CLEANFILES += lab/sccrypt-lab
EXTRA_DIST += lab/sccrypt-lab.in build-aux/demo
dist_man_MANS += man/sccrypt-lab.1

lab/sccrypt-lab: $(top_srcdir)/lab/sccrypt-lab.in Makefile
	$(AM_V_GEN)$(MKDIR_P) lab && rm -f $@ $@.tmp && \
	sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(top_srcdir)/lab/sccrypt-lab.in >$@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

TESTS += tests/integration/lab-tmux.sh tests/integration/eavesdrop.sh \
	tests/integration/lab-dir.sh
dist_check_SCRIPTS += tests/integration/lab-tmux.sh tests/integration/eavesdrop.sh \
	tests/integration/lab-dir.sh
EXTRA_DIST += tests/integration/lab-lib.sh
