# Man pages: each component adds its pages to dist_man_MANS in its fragment.
#
# The pages name our configuration files as /etc/sccrypt/...: what
# --sysconfdir=/etc gives.  Installed, they name the configured directory,
# the one the programs have compiled in (SC_DEFAULT_CONF,
# SC_HVSIM_DEFAULT_CONF): make install rewrites the installed copies.
# tests/integration/install.sh checks that both agree.
install-data-hook: sc-man-sysconfdir
sc-man-sysconfdir:
	@for p in $(dist_man_MANS); do \
	    b=$$(basename "$$p"); f='$(DESTDIR)$(mandir)'/man$${b##*.}/"$$b"; \
	    [ -f "$$f" ] || continue; \
	    sed -e 's|/etc/sccrypt/|$(sysconfdir)/sccrypt/|g' "$$f" >"$$f.tmp" && \
	    mv "$$f.tmp" "$$f" && chmod 644 "$$f" || exit 1; \
	done
.PHONY: sc-man-sysconfdir

# For tests/integration/install.sh: the configured directories, expanded.
sc-print-dirs:
	@echo "bindir='$(bindir)' sbindir='$(sbindir)' sysconfdir='$(sysconfdir)' mandir='$(mandir)'"
.PHONY: sc-print-dirs

TESTS += tests/integration/install.sh
dist_check_SCRIPTS += tests/integration/install.sh
