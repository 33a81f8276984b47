/*
 * auth.h — the WebSocket-facing input of sccrypt-webgate that is ours to
 * parse (libwebsockets does the RFC 6455 framing): the browser's first
 * message, the tokens file, the Origin allow list and consoled's reply line.
 * Pure functions, no I/O; fuzzed by tests/fuzz/fuzz_webgate.c.
 *
 * First message (one text message, at most WG_AUTH_MAX bytes):
 *     "SCCRYPT-WEB/1" SP token SP vm [SP enc]
 * token: WG_TOKEN_MIN..WG_TOKEN_MAX of [A-Za-z0-9_-]; vm: sc_vmname_valid;
 * enc: "B" (binary, the default) or "A" (armored), the encoding the gateway
 * asks consoled for, as `sccrypt-console [--armor]` does.
 * Tokens file: lines "USER SHA256-HEX" (the hash of the token, never the
 * token), '#' comments and blank lines ignored; USER 1..32 of
 * [a-z0-9_.-] (a local account name or a decimal uid).
 */
#ifndef SC_WEBGATE_AUTH_H
#define SC_WEBGATE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_AUTH_PREFIX		"SCCRYPT-WEB/1"
#define WG_AUTH_MAX		256
#define WG_TOKEN_MIN		32
#define WG_TOKEN_MAX		128
#define WG_USER_MAX		32
#define WG_HASH_LEN		32
#define WG_TOKENS_MAX		1024
#define WG_ORIGIN_MAX		256
#define WG_ORIGINS_MAX		16
#define WG_REPLY_MAX		160	/* consoled's reply line, LF included */

struct wg_auth {
	char	token[WG_TOKEN_MAX + 1];
	char	vm[65];
	char	enc;		/* 'B' or 'A' */
};

struct wg_token_entry {
	char	user[WG_USER_MAX + 1];
	uint8_t	hash[WG_HASH_LEN];
};

struct wg_tokens {
	size_t			n;
	struct wg_token_entry	e[WG_TOKENS_MAX];
};

/* Parse the first message; 0 or SC_ERR_FORMAT / SC_ERR_TOOLONG. */
int	wg_auth_parse(const uint8_t *msg, size_t len, struct wg_auth *a)
	    __attribute__((warn_unused_result));
/* Parse a tokens file's text; 0, or SC_ERR_FORMAT with *bad_line set. */
int	wg_tokens_parse(const char *text, size_t len, struct wg_tokens *t,
	    size_t *bad_line) __attribute__((warn_unused_result));
/*
 * The entry whose hash equals hash, or NULL.  Every entry is compared (in
 * constant time each), so the time does not say which one matched.
 */
const struct wg_token_entry *wg_tokens_find(const struct wg_tokens *t,
	    const uint8_t hash[WG_HASH_LEN]);
/*
 * Origin allow list: each pattern is an exact origin, or ends in ":*" to
 * allow any port ("http://127.0.0.1:*"); "null" is the origin of a page
 * opened from a file.  A missing Origin (non-browser client) is allowed
 * only if allow_missing.
 */
bool	wg_origin_allowed(const char *origin, const char *const *patterns,
	    size_t n, bool allow_missing);
/*
 * consoled's reply line (PROTOCOL.md §9.2), without its LF: 1 for
 * "OK framed", 0 for "ERR code text" (code and text copied, sanitised),
 * SC_ERR_FORMAT for anything else (including "OK raw": never plaintext).
 */
int	wg_reply_parse(const char *line, size_t len, char *code, size_t codesz,
	    char *text, size_t textsz) __attribute__((warn_unused_result));

#endif
