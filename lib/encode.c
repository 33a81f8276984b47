/*
 * encode.c — the text encodings every program shares: hex, base64, UUIDs,
 * key fingerprints, and the checks on comments and whitespace-free tokens.
 * All conversions go through libsodium's constant-time codecs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "encode.h"

#define FP_PREFIX		SC_FINGERPRINT_PREFIX
#define FP_HASH_LEN		32
#define SC_UUID_TEXT_LEN	36
_Static_assert(sizeof(FP_PREFIX) - 1 + SC_FINGERPRINT_B64_LEN < SC_FINGERPRINT_LEN,
    "fingerprint buffer");

int
sc_comment_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len > max)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int
sc_token_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int
sc_base64_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	if (out == NULL || (in == NULL && len > 0))
		return SC_ERR_INVAL;
	if (len > (SIZE_MAX / 4) - 4 ||
	    outsz < sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL))
		return SC_ERR_NOSPACE;
	sodium_bin2base64(out, outsz, in, len, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int
sc_base64_decode(const char *b64, uint8_t *out, size_t outlen)
{
	size_t n = 0;
	const char *end = NULL;

	if (b64 == NULL || out == NULL)
		return SC_ERR_INVAL;
	if (sodium_base642bin(out, outlen, b64, strlen(b64), NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != outlen || *end != '\0')
		return SC_ERR_FORMAT;
	return 0;
}

int
sc_hex_decode(const char *hex, uint8_t *out, size_t outlen)
{
	size_t n = 0;
	const char *end = NULL;

	if (hex == NULL || out == NULL)
		return SC_ERR_INVAL;
	if (strlen(hex) != outlen * 2)
		return SC_ERR_FORMAT;
	if (sodium_hex2bin(out, outlen, hex, outlen * 2, NULL, &n, &end) != 0 ||
	    n != outlen || *end != '\0')
		return SC_ERR_FORMAT;
	return 0;
}

/* Lowercase hex; output cut at a whole byte if out is short; NUL-terminated. */
void
sc_hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	if (out == NULL || outsz == 0)
		return;
	if (len > (outsz - 1) / 2)
		len = (outsz - 1) / 2;
	sodium_bin2hex(out, len * 2 + 1, in, len);
}

int
sc_uuid_parse(const char *s, uint8_t uuid[16])
{
	static const int groups[5] = { 8, 4, 4, 4, 12 };
	char hex[33];
	size_t i, o = 0, p = 0;
	int g, r;

	if (s == NULL || uuid == NULL)
		return SC_ERR_INVAL;
	if (strlen(s) != 36)
		return SC_ERR_FORMAT;
	for (g = 0; g < 5; g++) {
		if (g > 0 && s[p++] != '-')
			return SC_ERR_FORMAT;
		for (i = 0; i < (size_t)groups[g]; i++, p++) {
			unsigned char c = (unsigned char)s[p];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			    (c >= 'A' && c <= 'F')))
				return SC_ERR_FORMAT;
			hex[o++] = (char)c;
		}
	}
	hex[o] = '\0';
	r = sc_hex_decode(hex, uuid, 16);
	return r;
}

int
sc_uuid_parse_tail(const char *s, size_t len, uint8_t uuid[16])
{
	char tail[SC_UUID_TEXT_LEN + 1];

	if (s == NULL || uuid == NULL)
		return SC_ERR_INVAL;
	if (len < SC_UUID_TEXT_LEN)
		return SC_ERR_FORMAT;
	memcpy(tail, s + len - SC_UUID_TEXT_LEN, SC_UUID_TEXT_LEN);
	tail[SC_UUID_TEXT_LEN] = '\0';
	return sc_uuid_parse(tail, uuid);
}

void
sc_uuid_format(const uint8_t uuid[16], char out[37])
{
	char hex[33];

	sodium_bin2hex(hex, sizeof(hex), uuid, 16);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s",
	    hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* "SC256:" + unpadded base64 (standard alphabet) of BLAKE2b-256(key). */
void
sc_fingerprint(const uint8_t *key, size_t len, char out[SC_FINGERPRINT_LEN])
{
	uint8_t h[FP_HASH_LEN];

	crypto_generichash(h, sizeof(h), key, len, NULL, 0);
	memcpy(out, FP_PREFIX, sizeof(FP_PREFIX));
	sodium_bin2base64(out + sizeof(FP_PREFIX) - 1,
	    SC_FINGERPRINT_LEN - (sizeof(FP_PREFIX) - 1), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

char *
sc_base64_strdup(const uint8_t *in, size_t len)
{
	size_t n;
	char *s;

	if (len > (SIZE_MAX / 4) - 4)
		return NULL;
	n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	if ((s = malloc(n)) != NULL)
		sodium_bin2base64(s, n, in, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

char *
sc_hex_strdup(const uint8_t *in, size_t len)
{
	char *s;

	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	if ((s = malloc(2 * len + 1)) != NULL)
		sodium_bin2hex(s, 2 * len + 1, in, len);
	return s;
}
