# The web console (included from the top Makefile.am).  web/package.json and
# web/package-lock.json pin every JavaScript dependency; `npm ci` installs
# them into the build tree (never the source tree, so VPATH builds and
# distcheck work), then web/build.mjs bundles the page into one
# self-contained HTML file (sccrypt-web.html, installed in $(pkgdatadir))
# and the Node test programs (web/web-*.mjs).

WEB_SRCS = web/build.mjs web/src/errors.js web/src/bytes.js web/src/noise.js \
	web/src/record.js web/src/frame.js web/src/keys.js web/src/main.js \
	web/src/client.js web/src/gateway.js web/test/e2e.js web/test/xrecord.js web/test/browser.js web/test/bench.js \
	web/src/page.html web/src/page.css \
	web/test/vectors.js web/test/record-checks.js
EXTRA_DIST += web/package.json web/package-lock.json web/local.mk $(WEB_SRCS)

if BUILD_WEB
pkgdata_DATA = web/sccrypt-web.html
CLEANFILES += web-console.png web/sccrypt-web.html web/sccrypt-web.html.sha256 web/web-*.mjs web/.npm-stamp

# npm ci in the build tree's web/ (a copy of the manifest and lock file).
web/.npm-stamp: $(srcdir)/web/package.json $(srcdir)/web/package-lock.json
	@$(MKDIR_P) web
	@if test ! web/package.json -ef $(srcdir)/web/package.json; then \
	  cp -f $(srcdir)/web/package.json $(srcdir)/web/package-lock.json web/ && \
	  chmod u+w web/package.json web/package-lock.json; fi
	cd web && $(NPM) ci --no-audit --no-fund --prefer-offline --loglevel=error
	@touch $@

web/sccrypt-web.html: web/.npm-stamp $(WEB_SRCS)
	$(NODE) $(srcdir)/web/build.mjs $(srcdir)/web web/node_modules web

web/web-vectors.mjs: web/sccrypt-web.html
	@test -f $@

web-all: web/sccrypt-web.html
web-clean:
	@if test ! web/package.json -ef $(srcdir)/web/package.json; then \
	  rm -f web/package.json web/package-lock.json; fi
	rm -rf web/node_modules
else
web-all:
web-clean:
endif
all-local: web-all
clean-local: web-clean

TESTS += tests/web/js-vectors.sh tests/web/xrecord.sh tests/web/web-e2e.sh tests/web/web-chromium.sh \
	tests/web/webgate-conf.sh \
	tests/web/lab-web.sh
dist_check_SCRIPTS += tests/web/js-vectors.sh tests/web/xrecord.sh tests/web/web-e2e.sh \
	tests/web/webgate-conf.sh \
	tests/web/web-chromium.sh tests/web/lab-web.sh
check_PROGRAMS += tests/web/xrecord-peer
tests_web_xrecord_peer_SOURCES = tests/web/xrecord-peer.c
tests_web_xrecord_peer_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_web_xrecord_peer_LDADD = $(SC_LIBS)
EXTRA_DIST += tests/web/lib.sh
AM_TESTS_ENVIRONMENT += NODE='$(NODE)'; export NODE;
EXTRA_DIST += tests/bench/web-rtt
