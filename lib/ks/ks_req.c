/*
 * ks_req.c — JSON request/response parsing for the key server API.
 *
 * Bodies are untrusted.  Order of defence: size (caller), nesting depth
 * (ks_json_depth, before jansson), jansson with duplicate keys rejected,
 * then every member checked for type, size and charset; unknown members are
 * refused so a typo never silently weakens a request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "encode.h"
#include "ks/ks_req.h"

#define WHY(...)	snprintf(why, KS_WHY_MAX, __VA_ARGS__)

int
ks_json_depth(const void *body, size_t len)
{
	const unsigned char *p = body;
	int depth = 0, max = 0, in_str = 0, esc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			break;
		case '{':
		case '[':
			if (++depth > max)
				max = depth;
			break;
		case '}':
		case ']':
			if (--depth < 0)
				return -1;
			break;
		default:
			break;
		}
	}
	return (depth != 0 || in_str) ? -1 : max;
}

static int
load(const void *body, size_t len, json_t **root, char *why)
{
	json_error_t err;
	int d;

	*root = NULL;
	if (body == NULL || len == 0) {
		WHY("empty body");
		return KS_E_BAD_JSON;
	}
	d = ks_json_depth(body, len);
	if (d < 0) {
		WHY("unbalanced JSON");
		return KS_E_BAD_JSON;
	}
	if (d > KS_JSON_DEPTH_MAX) {
		WHY("JSON nested deeper than %d", KS_JSON_DEPTH_MAX);
		return KS_E_BAD_JSON;
	}
	*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (*root == NULL) {
		/* err.text may quote input: report only the position. */
		WHY("malformed JSON at line %d column %d", err.line, err.column);
		return KS_E_BAD_JSON;
	}
	if (!json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		WHY("body is not a JSON object");
		return KS_E_BAD_JSON;
	}
	return KS_OK;
}

/* Refuse members not in allowed[] (NULL-terminated) and oversized objects. */
static int
check_members(json_t *obj, const char *const *allowed, const char *what,
    char *why)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_object_size(obj) > KS_JSON_KEYS_MAX) {
		WHY("%s has too many members", what);
		return KS_E_BAD_FIELD;
	}
	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			WHY("%s has an unknown member", what);
			return KS_E_BAD_FIELD;
		}
	}
	return KS_OK;
}

static int
get_string(json_t *obj, const char *name, int required, size_t maxlen,
    const char **s, size_t *slen, char *why)
{
	json_t *v = json_object_get(obj, name);

	*s = NULL;
	*slen = 0;
	if (v == NULL) {
		if (required) {
			WHY("missing field '%s'", name);
			return KS_E_BAD_FIELD;
		}
		return KS_OK;
	}
	if (!json_is_string(v)) {
		WHY("field '%s' must be a string", name);
		return KS_E_BAD_FIELD;
	}
	*s = json_string_value(v);
	*slen = json_string_length(v);
	if (*slen > maxlen) {
		WHY("field '%s' is longer than %zu characters", name, maxlen);
		return KS_E_BAD_FIELD;
	}
	return KS_OK;
}

static int
get_uint(json_t *obj, const char *name, int required, uint64_t max,
    uint64_t *out, int *present, char *why)
{
	json_t *v = json_object_get(obj, name);

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL) {
		if (required) {
			WHY("missing field '%s'", name);
			return KS_E_BAD_FIELD;
		}
		return KS_OK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		WHY("field '%s' must be an integer 0..%llu", name,
		    (unsigned long long)max);
		return KS_E_BAD_FIELD;
	}
	*out = (uint64_t)json_integer_value(v);
	return KS_OK;
}

static int
get_b64(json_t *obj, const char *name, uint8_t *out, size_t outsz,
    size_t *outlen, char *why)
{
	const char *s, *end;
	size_t slen;
	int r;

	if ((r = get_string(obj, name, 1, sodium_base64_ENCODED_LEN(outsz,
	    sodium_base64_VARIANT_ORIGINAL), &s, &slen, why)) != KS_OK)
		return r;
	if (sodium_base642bin(out, outsz, s, slen, NULL, outlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + slen ||
	    *outlen == 0) {
		WHY("field '%s' is not valid base64 of at most %zu bytes", name,
		    outsz);
		return KS_E_BAD_FIELD;
	}
	return KS_OK;
}

static int
hex_exact(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
	size_t got;
	const char *end;

	if (slen != 2 * outlen)
		return -1;
	if (sodium_hex2bin(out, outlen, s, slen, NULL, &got, &end) != 0 ||
	    got != outlen || end != s + slen)
		return -1;
	return 0;
}

static int
get_hex(json_t *obj, const char *name, uint8_t *out, size_t outlen, char *why)
{
	const char *s;
	size_t slen;
	int r;

	if ((r = get_string(obj, name, 1, 2 * outlen, &s, &slen, why)) != KS_OK)
		return r;
	if (hex_exact(s, slen, out, outlen) != 0) {
		WHY("field '%s' must be %zu hex digits", name, 2 * outlen);
		return KS_E_BAD_FIELD;
	}
	return KS_OK;
}

static int
get_host(json_t *obj, const char *name, char out[KS_HOST_MAX + 1], char *why)
{
	const char *s;
	size_t slen;
	int r;

	if ((r = get_string(obj, name, 1, KS_HOST_MAX, &s, &slen, why)) != KS_OK)
		return r;
	if (slen != strlen(s) || !ks_host_valid(s)) {
		WHY("field '%s' is not a valid host name", name);
		return KS_E_BAD_FIELD;
	}
	memcpy(out, s, slen + 1);
	return KS_OK;
}

/* Decimal PCR index "0".."23", no sign, no leading zero. */
static int
pcr_index(const char *s, unsigned int *idx)
{
	unsigned int v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 2 || (n == 2 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v >= KS_PCR_COUNT)
		return -1;
	*idx = v;
	return 0;
}

/* {"0": "64 hex", ...} into mask/values. */
static int
get_pcr_map(json_t *obj, const char *name, uint32_t *mask,
    uint8_t values[KS_PCR_COUNT][KS_DIGEST_LEN], char *why)
{
	json_t *m = json_object_get(obj, name), *v;
	const char *key;
	unsigned int idx;

	*mask = 0;
	if (m == NULL || !json_is_object(m)) {
		WHY("field '%s' must be an object of PCR index to hex value", name);
		return KS_E_BAD_FIELD;
	}
	if (json_object_size(m) > KS_PCR_COUNT) {
		WHY("field '%s' has more than %d PCRs", name, KS_PCR_COUNT);
		return KS_E_BAD_FIELD;
	}
	json_object_foreach(m, key, v) {
		if (pcr_index(key, &idx) != 0) {
			WHY("field '%s': PCR index must be 0..%d", name,
			    KS_PCR_COUNT - 1);
			return KS_E_BAD_FIELD;
		}
		if (!json_is_string(v) || hex_exact(json_string_value(v),
		    json_string_length(v), values[idx], KS_DIGEST_LEN) != 0) {
			WHY("field '%s': PCR %u must be %d hex digits", name, idx,
			    2 * KS_DIGEST_LEN);
			return KS_E_BAD_FIELD;
		}
		*mask |= 1u << idx;
	}
	if (*mask == 0) {
		WHY("field '%s' is empty", name);
		return KS_E_BAD_FIELD;
	}
	return KS_OK;
}

static int
check_bank(json_t *obj, char *why)
{
	const char *s;
	size_t slen;
	int r;

	if ((r = get_string(obj, "bank", 0, 16, &s, &slen, why)) != KS_OK)
		return r;
	if (s != NULL && strcmp(s, "sha256") != 0) {
		WHY("field 'bank': only \"sha256\" is supported");
		return KS_E_BAD_FIELD;
	}
	return KS_OK;
}

int
ks_policy_check(const struct ks_policy *p, char why[KS_WHY_MAX])
{
	uint32_t key = 1u << p->key_pcr;

	why[0] = '\0';
	if (p->key_pcr >= KS_PCR_COUNT) {
		WHY("policy: key_pcr must be 0..%d", KS_PCR_COUNT - 1);
		return KS_E_BAD_FIELD;
	}
	if (key & KS_PCR_RESETTABLE) {
		WHY("policy: key_pcr %u can be reset from any locality",
		    p->key_pcr);
		return KS_E_BAD_FIELD;
	}
	if ((key & KS_PCR_DRTM) &&
	    !(p->pcr_mask & (1u << KS_PCR_DRTM_LAUNCH))) {
		WHY("policy: key_pcr %u is reset by a dynamic launch; use it only"
		    " with PCR %d in the policy", p->key_pcr, KS_PCR_DRTM_LAUNCH);
		return KS_E_BAD_FIELD;
	}
	if (p->pcr_mask & key) {
		WHY("policy: key_pcr must not also be a policy PCR");
		return KS_E_BAD_FIELD;
	}
	if (p->pcr_mask & KS_PCR_RESETTABLE) {
		WHY("policy: PCRs 16 and 23 can be reset from any locality");
		return KS_E_BAD_FIELD;
	}
	if (!(p->pcr_mask & KS_PCR_STATIC)) {
		WHY("policy: pcrs must pin the boot chain (at least one of PCRs"
		    " 0..15)");
		return KS_E_BAD_FIELD;
	}
	return KS_OK;
}

int
ks_parse_enroll(const void *body, size_t len, struct ks_enroll_req *req,
    char why[KS_WHY_MAX])
{
	static const char *const top[] = { "name", "ak_public", "policy",
	    "ek_certificate", "insecure_ak", NULL };
	static const char *const pol[] = { "bank", "pcrs", "key_pcr", NULL };
	static const char pem_tag[] = "-----BEGIN ";
	json_t *root = NULL, *policy, *insecure;
	const char *s;
	size_t slen;
	uint64_t key_pcr;
	int r;

	memset(req, 0, sizeof(*req));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "request", why)) != KS_OK ||
	    (r = get_host(root, "name", req->name, why)) != KS_OK)
		goto out;

	if ((r = get_string(root, "ak_public", 1, KS_AKPEM_MAX - 1, &s, &slen,
	    why)) != KS_OK)
		goto out;
	if (slen >= sizeof(pem_tag) - 1 &&
	    memcmp(s, pem_tag, sizeof(pem_tag) - 1) == 0) {
		if (slen != strlen(s)) {
			WHY("field 'ak_public' contains NUL");
			r = KS_E_BAD_FIELD;
			goto out;
		}
		memcpy(req->ak, s, slen);
		req->ak_len = slen;
	} else if ((r = get_b64(root, "ak_public", req->ak, KS_AKPUB_MAX,
	    &req->ak_len, why)) != KS_OK)
		goto out;

	policy = json_object_get(root, "policy");
	if (policy == NULL || !json_is_object(policy)) {
		WHY("field 'policy' must be an object");
		r = KS_E_BAD_FIELD;
		goto out;
	}
	if ((r = check_members(policy, pol, "policy", why)) != KS_OK ||
	    (r = check_bank(policy, why)) != KS_OK ||
	    (r = get_pcr_map(policy, "pcrs", &req->policy.pcr_mask,
	    req->policy.pcrs, why)) != KS_OK ||
	    (r = get_uint(policy, "key_pcr", 1, KS_PCR_COUNT - 1, &key_pcr, NULL,
	    why)) != KS_OK)
		goto out;
	req->policy.key_pcr = (unsigned int)key_pcr;
	if ((r = ks_policy_check(&req->policy, why)) != KS_OK)
		goto out;

	/* The AK's provenance: an EK certificate, or an explicit opt-out. */
	insecure = json_object_get(root, "insecure_ak");
	if (insecure != NULL && !json_is_true(insecure)) {
		WHY("field 'insecure_ak' can only be true");
		r = KS_E_BAD_FIELD;
		goto out;
	}
	req->insecure_ak = insecure != NULL;
	if (json_object_get(root, "ek_certificate") != NULL) {
		if (req->insecure_ak) {
			WHY("fields 'ek_certificate' and 'insecure_ak' exclude"
			    " each other");
			r = KS_E_BAD_FIELD;
			goto out;
		}
		r = get_b64(root, "ek_certificate", req->ek_cert,
		    sizeof(req->ek_cert), &req->ek_cert_len, why);
	} else if (!req->insecure_ak) {
		WHY("missing field 'ek_certificate' (a bare AK needs"
		    " \"insecure_ak\": true)");
		r = KS_E_BAD_FIELD;
	}
 out:
	json_decref(root);
	return r;
}

int
ks_parse_activate(const void *body, size_t len, struct ks_activate_req *req,
    char why[KS_WHY_MAX])
{
	static const char *const top[] = { "host", "secret", NULL };
	json_t *root = NULL;
	size_t n;
	int r;

	memset(req, 0, sizeof(*req));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "request", why)) != KS_OK ||
	    (r = get_host(root, "host", req->host, why)) != KS_OK ||
	    (r = get_b64(root, "secret", req->secret, sizeof(req->secret), &n,
	    why)) != KS_OK)
		goto out;
	if (n != sizeof(req->secret)) {
		WHY("field 'secret' must be %d bytes", KS_ACT_SECRET_LEN);
		r = KS_E_BAD_FIELD;
	}
 out:
	json_decref(root);
	return r;
}

int
ks_parse_activation_resp(const void *body, size_t len,
    struct ks_activation_resp *resp, char why[KS_WHY_MAX])
{
	static const char *const top[] = { "host", "credential_blob",
	    "encrypted_secret", "expires", NULL };
	json_t *root = NULL;
	int r;

	memset(resp, 0, sizeof(*resp));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "response", why)) != KS_OK ||
	    (r = get_b64(root, "credential_blob", resp->blob,
	    sizeof(resp->blob), &resp->blob_len, why)) != KS_OK ||
	    (r = get_b64(root, "encrypted_secret", resp->enc,
	    sizeof(resp->enc), &resp->enc_len, why)) != KS_OK ||
	    (r = get_uint(root, "expires", 1, INT64_MAX, &resp->expires, NULL,
	    why)) != KS_OK)
		goto out;
 out:
	json_decref(root);
	return r;
}

int
ks_parse_attest(const void *body, size_t len, struct ks_attest_req *req,
    char why[KS_WHY_MAX])
{
	static const char *const top[] = { "host", "quote", "signature", "bank",
	    "pcrs", "hv_pubkey", NULL };
	json_t *root = NULL;
	int r;

	memset(req, 0, sizeof(*req));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "request", why)) != KS_OK ||
	    (r = get_host(root, "host", req->host, why)) != KS_OK ||
	    (r = get_b64(root, "quote", req->quote, sizeof(req->quote),
	    &req->quote_len, why)) != KS_OK ||
	    (r = get_b64(root, "signature", req->sig, sizeof(req->sig),
	    &req->sig_len, why)) != KS_OK ||
	    (r = check_bank(root, why)) != KS_OK ||
	    (r = get_pcr_map(root, "pcrs", &req->pcr_mask, req->pcrs,
	    why)) != KS_OK ||
	    (r = get_hex(root, "hv_pubkey", req->hv_pubkey, KS_HV_PUBKEY_LEN,
	    why)) != KS_OK)
		goto out;
	r = KS_OK;
 out:
	json_decref(root);
	return r;
}

static int
get_pcr_array(json_t *obj, const char *name, uint32_t *mask, char *why)
{
	json_t *a = json_object_get(obj, name), *v;
	size_t i;

	*mask = 0;
	if (!json_is_array(a) || json_array_size(a) > KS_PCR_COUNT) {
		WHY("field '%s' must be an array of PCR indices", name);
		return KS_E_BAD_FIELD;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= KS_PCR_COUNT) {
			WHY("field '%s' must be an array of PCR indices", name);
			return KS_E_BAD_FIELD;
		}
		*mask |= 1u << json_integer_value(v);
	}
	return KS_OK;
}

int
ks_parse_nonce_resp(const void *body, size_t len, struct ks_nonce_resp *resp,
    char why[KS_WHY_MAX])
{
	json_t *root = NULL;
	uint64_t v;
	int r, present;

	memset(resp, 0, sizeof(*resp));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = get_hex(root, "nonce", resp->nonce, KS_NONCE_LEN, why)) != KS_OK ||
	    (r = get_uint(root, "expires", 1, INT64_MAX, &resp->expires, NULL,
	    why)) != KS_OK ||
	    (r = get_uint(root, "key_pcr", 0, KS_PCR_COUNT - 1, &v, &present,
	    why)) != KS_OK)
		goto out;
	if (present) {
		resp->key_pcr = (unsigned int)v;
		if ((r = get_pcr_array(root, "pcrs", &resp->pcr_mask, why)) != KS_OK)
			goto out;
		resp->have_policy = 1;
	}
	r = KS_OK;
 out:
	json_decref(root);
	return r;
}

int
ks_parse_cert_resp(const void *body, size_t len, struct ks_cert_resp *resp,
    char why[KS_WHY_MAX])
{
	json_t *root = NULL;
	int r;

	memset(resp, 0, sizeof(*resp));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = get_b64(root, "certificate", resp->cert, sizeof(resp->cert),
	    &resp->cert_len, why)) != KS_OK ||
	    (r = get_uint(root, "expires", 1, INT64_MAX, &resp->expires, NULL,
	    why)) != KS_OK)
		goto out;
	r = KS_OK;
 out:
	json_decref(root);
	return r;
}

/* Copy printable ASCII only; anything else becomes '?'. */
static void
copy_printable(char *dst, size_t dstsz, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

int
ks_parse_error_resp(const void *body, size_t len, struct ks_error_resp *resp)
{
	char why[KS_WHY_MAX];
	json_t *root = NULL;
	const char *s;
	size_t slen;
	int r;

	memset(resp, 0, sizeof(*resp));
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = get_string(root, "error", 1, sizeof(resp->code) - 1, &s, &slen,
	    why)) != KS_OK)
		goto out;
	copy_printable(resp->code, sizeof(resp->code), s);
	if (get_string(root, "message", 0, 4096, &s, &slen, why) == KS_OK &&
	    s != NULL)
		copy_printable(resp->message, sizeof(resp->message), s);
	r = KS_OK;
 out:
	json_decref(root);
	return r;
}

int
ks_pcr_list_parse(const char *s, uint32_t *mask)
{
	unsigned long v;
	char *end;

	*mask = 0;
	if (*s == '\0')
		return -1;
	for (;;) {
		if (*s < '0' || *s > '9')
			return -1;
		v = strtoul(s, &end, 10);
		if (v >= KS_PCR_COUNT)
			return -1;
		*mask |= 1u << v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

void
ks_pcr_list_format(uint32_t mask, char *out, size_t outsz)
{
	size_t off = 0;
	unsigned int i;
	int n;

	if (outsz == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < KS_PCR_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		n = snprintf(out + off, outsz - off, "%s%u", off ? "," : "", i);
		if (n < 0 || (size_t)n >= outsz - off)
			return;
		off += (size_t)n;
	}
}

/* ---- ownership tokens (PROTOCOL.md §12.10) ---- */

#define UUID_TEXT_LEN	36

static int
get_uuid(json_t *obj, const char *name, uint8_t out[KS_UUID_LEN], char *why)
{
	const char *s;
	size_t slen;
	int r;

	if ((r = get_string(obj, name, 1, UUID_TEXT_LEN, &s, &slen, why)) != KS_OK)
		return r;
	if (slen != UUID_TEXT_LEN || strlen(s) != slen ||
	    sc_uuid_parse(s, out) != 0) {
		WHY("field '%s' must be a UUID (8-4-4-4-12 hex digits)", name);
		return KS_E_BAD_FIELD;
	}
	return KS_OK;
}

static int
get_bool(json_t *obj, const char *name, int *out, char *why)
{
	json_t *v = json_object_get(obj, name);

	*out = 0;
	if (v == NULL)
		return KS_OK;
	if (!json_is_boolean(v)) {
		WHY("field '%s' must be true or false", name);
		return KS_E_BAD_FIELD;
	}
	*out = json_is_true(v);
	return KS_OK;
}

int
ks_parse_owner_reg(const void *body, size_t len, struct ks_owner_reg_req *req,
    char why[KS_WHY_MAX])
{
	static const char *const top[] = { "uuid", "owner_key", "replace", NULL };
	json_t *root = NULL;
	int r;

	memset(req, 0, sizeof(*req));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "request", why)) == KS_OK &&
	    (r = get_uuid(root, "uuid", req->uuid, why)) == KS_OK &&
	    (r = get_hex(root, "owner_key", req->owner_key, KS_X25519_LEN,
	    why)) == KS_OK)
		r = get_bool(root, "replace", &req->replace, why);
	json_decref(root);
	return r;
}

static int
get_acl(json_t *root, struct ks_owner_token_req *req, char *why)
{
	static const char *const entry[] = { "key", "owner", NULL };
	json_t *a = json_object_get(root, "acl"), *e;
	unsigned int i, j, owners = 0;
	size_t n;
	int r, owner;

	if (a == NULL || !json_is_array(a) || (n = json_array_size(a)) == 0 ||
	    n > KS_OWNER_ACL_MAX) {
		WHY("field 'acl' must be an array of 1..%d entries",
		    KS_OWNER_ACL_MAX);
		return KS_E_BAD_FIELD;
	}
	for (i = 0; i < n; i++) {
		e = json_array_get(a, i);
		if (!json_is_object(e)) {
			WHY("an 'acl' entry must be an object");
			return KS_E_BAD_FIELD;
		}
		if ((r = check_members(e, entry, "acl entry", why)) != KS_OK ||
		    (r = get_hex(e, "key", req->acl[i].key, KS_X25519_LEN,
		    why)) != KS_OK || (r = get_bool(e, "owner", &owner, why)) !=
		    KS_OK)
			return r;
		req->acl[i].flags = owner ? 1 : 0;
		owners += owner != 0;
		for (j = 0; j < i; j++)
			if (memcmp(req->acl[j].key, req->acl[i].key,
			    KS_X25519_LEN) == 0) {
				WHY("a key appears twice in 'acl'");
				return KS_E_BAD_FIELD;
			}
	}
	if (owners == 0) {
		WHY("'acl' has no owner entry");
		return KS_E_BAD_FIELD;
	}
	req->acl_count = (unsigned int)n;
	return KS_OK;
}

int
ks_parse_owner_token(const void *body, size_t len,
    struct ks_owner_token_req *req, char why[KS_WHY_MAX])
{
	static const char *const top[] = { "uuid", "nonce", "acl", "proof",
	    NULL };
	json_t *root = NULL;
	int r;

	memset(req, 0, sizeof(*req));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "request", why)) != KS_OK ||
	    (r = get_uuid(root, "uuid", req->uuid, why)) != KS_OK)
		goto out;
	req->answer = json_object_size(root) > 1;
	if (!req->answer)
		goto out;
	if ((r = get_hex(root, "nonce", req->nonce, KS_NONCE_LEN, why)) != KS_OK ||
	    (r = get_hex(root, "proof", req->proof, KS_OWNER_PROOF_LEN, why)) !=
	    KS_OK)
		goto out;
	r = get_acl(root, req, why);
 out:
	json_decref(root);
	if (r != KS_OK)
		sodium_memzero(req, sizeof(*req));
	return r;
}

int
ks_parse_owner_challenge_resp(const void *body, size_t len,
    struct ks_owner_challenge_resp *resp, char why[KS_WHY_MAX])
{
	static const char *const top[] = { "uuid", "nonce", "server_key",
	    "expires", NULL };
	json_t *root = NULL;
	int r;

	memset(resp, 0, sizeof(*resp));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "response", why)) == KS_OK &&
	    (r = get_uuid(root, "uuid", resp->uuid, why)) == KS_OK &&
	    (r = get_hex(root, "nonce", resp->nonce, KS_NONCE_LEN, why)) ==
	    KS_OK && (r = get_hex(root, "server_key", resp->server_key,
	    KS_X25519_LEN, why)) == KS_OK)
		r = get_uint(root, "expires", 1, INT64_MAX, &resp->expires, NULL,
		    why);
	json_decref(root);
	return r;
}

int
ks_parse_owner_token_resp(const void *body, size_t len,
    struct ks_owner_token_resp *resp, char why[KS_WHY_MAX])
{
	static const char *const top[] = { "uuid", "token", NULL };
	json_t *root = NULL;
	int r;

	memset(resp, 0, sizeof(*resp));
	why[0] = '\0';
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	if ((r = check_members(root, top, "response", why)) == KS_OK &&
	    (r = get_uuid(root, "uuid", resp->uuid, why)) == KS_OK)
		r = get_hex(root, "token", resp->token, KS_OWNER_TOKEN_LEN, why);
	json_decref(root);
	return r;
}
