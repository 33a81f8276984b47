/*
 * web.h — `sccrypt-term web [DEST] VM`: serve the web console page
 * (sccrypt-web.html) from the tenant's own machine, once, on 127.0.0.1.
 * See web.c and docs/web.md.
 */
#ifndef SCCRYPT_TERM_WEB_H
#define SCCRYPT_TERM_WEB_H

#include <stddef.h>

#include "app.h"

#define WEB_TOKEN_LEN	43	/* 32 random bytes, base64url without padding */
#define WEB_REQ_MAX	8192	/* request line and headers */

int	verb_web(struct app *a, int argc, char **argv);

/*
 * Check one HTTP request head (up to and including the blank line):
 * "GET /TOKEN HTTP/1.x", a Host header equal to host (no DNS rebinding),
 * no body.  0 when it asks for the page with the right token, -1 otherwise.
 * The token is compared in constant time.
 */
int	web_request_ok(const char *req, size_t len, const char *token,
	    const char *host);

#endif
