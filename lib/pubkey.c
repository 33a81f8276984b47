/*
 * pubkey.c — the one-line public key text form,
 * "sccrypt-x25519 BASE64 comment" (or sccrypt-ed25519 for a key server).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "encode.h"
#include "io.h"
#include "keyfile.h"
#include "pubkey.h"

#define PUBKEY_LEN		32
#define PUBKEY_B64_LEN		44	/* padded base64 of 32 bytes */
#define PUBFILE_MAX		4096

static int
sc_prefix_ok(const char *prefix)
{
	return prefix != NULL && (strcmp(prefix, SC_PUBKEY_PREFIX) == 0 ||
	    strcmp(prefix, SC_KSKEY_PREFIX) == 0);
}

int
sc_pubkey_format(const char *prefix, const uint8_t pk[32], const char *comment,
    char *out, size_t outsz)
{
	char b64[PUBKEY_B64_LEN + 1];
	int n;

	if (!sc_prefix_ok(prefix) || pk == NULL || out == NULL)
		return SC_ERR_INVAL;
	if (comment == NULL)
		comment = "";
	if (!sc_comment_ok(comment, strlen(comment), SC_KEYFILE_COMMENT_MAX))
		return SC_ERR_INVAL;
	if (sc_base64_encode(pk, PUBKEY_LEN, b64, sizeof(b64)) < 0)
		return SC_ERR_INTERNAL;
	n = snprintf(out, outsz, "%s %s%s%s", prefix, b64,
	    comment[0] != '\0' ? " " : "", comment);
	if (n < 0 || (size_t)n >= outsz)
		return SC_ERR_NOSPACE;
	return 0;
}

/*
 * Parse "PREFIX BASE64 [comment]" with an optional final "\n" or "\r\n".
 * Fields are separated by spaces/tabs.  SC_ERR_TYPE if the line holds the
 * other known kind of key, SC_ERR_FORMAT otherwise.
 */
int
sc_pubkey_parse(const char *prefix, const char *line, uint8_t pk[32])
{
	char b64[PUBKEY_B64_LEN + 1];
	const char *p, *tok;
	size_t len, toklen, i;

	if (!sc_prefix_ok(prefix) || line == NULL || pk == NULL)
		return SC_ERR_INVAL;
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return SC_ERR_FORMAT;
	}
	p = line;
	while (p < line + len && (*p == ' ' || *p == '\t'))
		p++;
	tok = p;
	while (p < line + len && *p != ' ' && *p != '\t')
		p++;
	toklen = (size_t)(p - tok);
	if (toklen != strlen(prefix) || memcmp(tok, prefix, toklen) != 0) {
		if ((toklen == strlen(SC_PUBKEY_PREFIX) &&
		    memcmp(tok, SC_PUBKEY_PREFIX, toklen) == 0) ||
		    (toklen == strlen(SC_KSKEY_PREFIX) &&
		    memcmp(tok, SC_KSKEY_PREFIX, toklen) == 0))
			return SC_ERR_TYPE;
		return SC_ERR_FORMAT;
	}
	if (p == line + len)
		return SC_ERR_FORMAT;
	while (p < line + len && (*p == ' ' || *p == '\t'))
		p++;
	tok = p;
	while (p < line + len && *p != ' ' && *p != '\t')
		p++;
	toklen = (size_t)(p - tok);
	if (toklen != PUBKEY_B64_LEN)
		return SC_ERR_FORMAT;
	memcpy(b64, tok, toklen);
	b64[toklen] = '\0';
	if (sc_base64_decode(b64, pk, PUBKEY_LEN) < 0)
		return SC_ERR_FORMAT;
	/* The rest (if any) is a free-form comment, already checked above. */
	return 0;
}

int
sc_pubkey_read_file(const char *prefix, const char *path, uint8_t pk[32])
{
	unsigned char *data = NULL;
	size_t len = 0;
	char *line, *nl, *save = NULL;
	int r;

	if (!sc_prefix_ok(prefix) || path == NULL || pk == NULL)
		return SC_ERR_INVAL;
	if ((r = sc_read_file(path, PUBFILE_MAX, &data, &len)) < 0)
		return r;
	if (memchr(data, '\0', len) != NULL) {
		free(data);
		return SC_ERR_FORMAT;
	}
	/* First line that is neither blank nor a '#' comment. */
	r = SC_ERR_FORMAT;
	for (line = (char *)data; line != NULL && *line != '\0'; line = save) {
		if ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			save = nl + 1;
		} else
			save = NULL;
		{
			const char *q = line;

			while (*q == ' ' || *q == '\t' || *q == '\r')
				q++;
			if (*q == '\0' || *q == '#')
				continue;
		}
		r = sc_pubkey_parse(prefix, line, pk);
		break;
	}
	free(data);
	return r;
}

int
sc_pubkey_write_file(const char *prefix, const char *path, const uint8_t pk[32],
    const char *comment)
{
	char line[PUBFILE_MAX];
	size_t n;
	int r;

	if (path == NULL)
		return SC_ERR_INVAL;
	if ((r = sc_pubkey_format(prefix, pk, comment, line, sizeof(line) - 1)) < 0)
		return r;
	n = strlen(line);
	line[n++] = '\n';
	return sc_write_file_atomic(path, line, n, 0644);
}
