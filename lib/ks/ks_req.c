/*
 * ks_req.c — JSON request/response parsing for the key server API.
 *
 * Bodies are untrusted.  Order of defence: size (caller), nesting depth
 * (ks_json_depth, before jansson), jansson with duplicate keys rejected,
 * then every member checked for type, size and charset; unknown members are
 * refused so a typo never silently weakens a request.
 *
 * Each body's members are one table (struct field, in the order they are
 * checked), read by one getter, get_field(); a parser adds only what a
 * table cannot say (exclusive or conditional members, ACL entries).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "encode.h"
#include "ks/ks_req.h"

#define WHY(...)	snprintf(why, KS_WHY_MAX, __VA_ARGS__)

#define UUID_TEXT_LEN	36
#define BANK_TEXT_MAX	16
#define MESSAGE_MAX	4096	/* longest "message" of an error body read */
#define B64_VARIANT	sodium_base64_VARIANT_ORIGINAL

/* Say why (constant text and field names only) and refuse the field. */
static int __attribute__((format(printf, 2, 3)))
bad(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, KS_WHY_MAX, fmt, ap);
	va_end(ap);
	return KS_E_BAD_FIELD;
}

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

/*
 * A member of a JSON object: its name, what it may hold and where it goes
 * in the parsed struct (out + off).  Text members are strings of a bounded
 * length first, then decoded; a refusal names the member.
 */
enum field_kind {
	F_HOST,		/* host name: char[size], at most size - 1 characters */
	F_B64,		/* base64 of 1..size bytes: uint8_t[size], length at aux */
	F_B64_EXACT,	/* base64 of exactly size bytes: uint8_t[size] */
	F_HEX,		/* exactly 2 * size hex digits: uint8_t[size] */
	F_UUID,		/* 8-4-4-4-12 hex digits: uint8_t[KS_UUID_LEN] */
	F_UINT,		/* integer 0..max: uint64_t or unsigned int (size) */
	F_BOOL,		/* optional true or false: int (absent: 0) */
	F_BANK,		/* optional, only "sha256": nothing stored */
	F_PCR_MAP,	/* {"index": hex value}: uint32_t mask, values at aux */
	F_OWN,		/* allowed; the parser reads it itself */
};

struct field {
	const char	*name;
	enum field_kind	 kind;
	size_t		 off;
	size_t		 aux;
	size_t		 size;
	uint64_t	 max;
};

#define MEMBER_SIZE(T, m)	sizeof(((T *)0)->m)
#define FIELD(k, n, T, m)	{ n, k, offsetof(T, m), 0, MEMBER_SIZE(T, m), 0 }
#define FIELD_B64(n, T, m, l)	{ n, F_B64, offsetof(T, m), offsetof(T, l), \
				  MEMBER_SIZE(T, m), 0 }
#define FIELD_UINT(n, T, m, mx)	{ n, F_UINT, offsetof(T, m), 0, \
				  MEMBER_SIZE(T, m), mx }
#define FIELD_PCRS(n, T, m, v)	{ n, F_PCR_MAP, offsetof(T, m), offsetof(T, v), \
				  0, 0 }
#define FIELD_BANK		{ "bank", F_BANK, 0, 0, 0, 0 }
#define FIELD_OWN(n)		{ n, F_OWN, 0, 0, 0, 0 }
#define NFIELDS(a)		(sizeof(a) / sizeof((a)[0]))

/* Refuse members not in f[] and oversized objects. */
static int
check_members(json_t *obj, const struct field *f, size_t n, const char *what,
    char *why)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_object_size(obj) > KS_JSON_KEYS_MAX)
		return bad(why, "%s has too many members", what);
	json_object_foreach(obj, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, f[i].name) == 0)
				break;
		if (i == n)
			return bad(why, "%s has an unknown member", what);
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
	if (v == NULL)
		return required ? bad(why, "missing field '%s'", name) : KS_OK;
	if (!json_is_string(v))
		return bad(why, "field '%s' must be a string", name);
	*s = json_string_value(v);
	*slen = json_string_length(v);
	if (*slen > maxlen)
		return bad(why, "field '%s' is longer than %zu characters", name,
		    maxlen);
	return KS_OK;
}

static int
get_uint(json_t *obj, const char *name, int required, uint64_t max,
    uint64_t *out, int *present, char *why)
{
	json_t *v = json_object_get(obj, name);

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return required ? bad(why, "missing field '%s'", name) : KS_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return bad(why, "field '%s' must be an integer 0..%llu", name,
		    (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
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
	if (m == NULL || !json_is_object(m))
		return bad(why, "field '%s' must be an object of PCR index to hex"
		    " value", name);
	if (json_object_size(m) > KS_PCR_COUNT)
		return bad(why, "field '%s' has more than %d PCRs", name,
		    KS_PCR_COUNT);
	json_object_foreach(m, key, v) {
		if (pcr_index(key, &idx) != 0)
			return bad(why, "field '%s': PCR index must be 0..%d",
			    name, KS_PCR_COUNT - 1);
		if (!json_is_string(v) || hex_exact(json_string_value(v),
		    json_string_length(v), values[idx], KS_DIGEST_LEN) != 0)
			return bad(why, "field '%s': PCR %u must be %d hex digits",
			    name, idx, 2 * KS_DIGEST_LEN);
		*mask |= 1u << idx;
	}
	if (*mask == 0)
		return bad(why, "field '%s' is empty", name);
	return KS_OK;
}

/* The longest text a string member of f's kind may be; 0: not a string. */
static size_t
text_max(const struct field *f)
{
	switch (f->kind) {
	case F_HOST:
		return f->size - 1;
	case F_B64:
	case F_B64_EXACT:
		return sodium_base64_ENCODED_LEN(f->size, B64_VARIANT);
	case F_HEX:
		return 2 * f->size;
	case F_UUID:
		return UUID_TEXT_LEN;
	case F_BANK:
		return BANK_TEXT_MAX;
	default:
		return 0;
	}
}

/* The one getter: member f of obj into out (the parsed struct). */
static int
get_field(json_t *obj, const struct field *f, void *out, char *why)
{
	uint8_t *p = (uint8_t *)out + f->off;
	const char *s = NULL, *end;
	size_t slen = 0, n, max = text_max(f);
	json_t *v;
	uint64_t u;
	unsigned int ui;
	int r;

	if (max != 0 && ((r = get_string(obj, f->name, f->kind != F_BANK, max,
	    &s, &slen, why)) != KS_OK || s == NULL))
		return r;
	switch (f->kind) {
	case F_HOST:
		if (slen != strlen(s) || !ks_host_valid(s))
			return bad(why, "field '%s' is not a valid host name",
			    f->name);
		memcpy(p, s, slen + 1);
		return KS_OK;
	case F_B64:
	case F_B64_EXACT:
		n = 0;
		r = sodium_base642bin(p, f->size, s, slen, NULL, &n, &end,
		    B64_VARIANT);
		if (f->kind == F_B64)
			memcpy((uint8_t *)out + f->aux, &n, sizeof(n));
		if (r != 0 || end != s + slen || n == 0)
			return bad(why, "field '%s' is not valid base64 of at most"
			    " %zu bytes", f->name, f->size);
		if (f->kind == F_B64_EXACT && n != f->size)
			return bad(why, "field '%s' must be %zu bytes", f->name,
			    f->size);
		return KS_OK;
	case F_HEX:
		if (hex_exact(s, slen, p, f->size) != 0)
			return bad(why, "field '%s' must be %zu hex digits",
			    f->name, 2 * f->size);
		return KS_OK;
	case F_UUID:
		if (slen != UUID_TEXT_LEN || strlen(s) != slen ||
		    sc_uuid_parse(s, p) != 0)
			return bad(why, "field '%s' must be a UUID (8-4-4-4-12 hex"
			    " digits)", f->name);
		return KS_OK;
	case F_BANK:
		if (strcmp(s, "sha256") != 0)
			return bad(why, "field '%s': only \"sha256\" is supported",
			    f->name);
		return KS_OK;
	case F_UINT:
		if ((r = get_uint(obj, f->name, 1, f->max, &u, NULL, why)) !=
		    KS_OK)
			return r;
		if (f->size == sizeof(u)) {
			memcpy(p, &u, sizeof(u));
		} else {
			ui = (unsigned int)u;	/* max fits: the table's */
			memcpy(p, &ui, sizeof(ui));
		}
		return KS_OK;
	case F_BOOL:
		v = json_object_get(obj, f->name);
		if (v != NULL && !json_is_boolean(v))
			return bad(why, "field '%s' must be true or false",
			    f->name);
		r = v != NULL && json_is_true(v);
		memcpy(p, &r, sizeof(r));
		return KS_OK;
	case F_PCR_MAP:
		return get_pcr_map(obj, f->name, (uint32_t *)(void *)p,
		    (uint8_t (*)[KS_DIGEST_LEN])((uint8_t *)out + f->aux), why);
	case F_OWN:
		return KS_OK;
	}
	return bad(why, "field '%s': unknown kind", f->name);
}

/*
 * The members f[0..n) of obj into out, in table order; with what (the
 * object's name in why[]), members not in f[] are refused first.
 */
static int
get_fields(json_t *obj, const struct field *f, size_t n, const char *what,
    void *out, char *why)
{
	size_t i;
	int r;

	if (what != NULL && (r = check_members(obj, f, n, what, why)) != KS_OK)
		return r;
	for (i = 0; i < n; i++)
		if ((r = get_field(obj, &f[i], out, why)) != KS_OK)
			return r;
	return KS_OK;
}

/*
 * Zero out (outsz bytes), load body and read f[] from its object (what as in
 * get_fields).  With rootp, a parser that reads on gets the object on KS_OK
 * (it json_decref()s it; NULL on error); without, the object is freed.
 */
static int
parse(const void *body, size_t len, const struct field *f, size_t n,
    const char *what, void *out, size_t outsz, json_t **rootp, char *why)
{
	json_t *root;
	int r;

	memset(out, 0, outsz);
	why[0] = '\0';
	if (rootp != NULL)
		*rootp = NULL;
	if ((r = load(body, len, &root, why)) != KS_OK)
		return r;
	r = get_fields(root, f, n, what, out, why);
	if (r == KS_OK && rootp != NULL)
		*rootp = root;
	else
		json_decref(root);
	return r;
}

int
ks_policy_check(const struct ks_policy *p, char why[KS_WHY_MAX])
{
	uint32_t key = 1u << p->key_pcr;

	why[0] = '\0';
	if (p->key_pcr >= KS_PCR_COUNT)
		return bad(why, "policy: key_pcr must be 0..%d", KS_PCR_COUNT - 1);
	if (key & KS_PCR_RESETTABLE)
		return bad(why, "policy: key_pcr %u can be reset from any"
		    " locality", p->key_pcr);
	if ((key & KS_PCR_DRTM) &&
	    !(p->pcr_mask & (1u << KS_PCR_DRTM_LAUNCH)))
		return bad(why, "policy: key_pcr %u is reset by a dynamic launch;"
		    " use it only with PCR %d in the policy", p->key_pcr,
		    KS_PCR_DRTM_LAUNCH);
	if (p->pcr_mask & key)
		return bad(why, "policy: key_pcr must not also be a policy PCR");
	if (p->pcr_mask & KS_PCR_RESETTABLE)
		return bad(why, "policy: PCRs 16 and 23 can be reset from any"
		    " locality");
	if (!(p->pcr_mask & KS_PCR_STATIC))
		return bad(why, "policy: pcrs must pin the boot chain (at least"
		    " one of PCRs 0..15)");
	return KS_OK;
}

/* "ak_public": PEM text as it is, or base64 of a TPM2B_PUBLIC. */
static int
get_ak(json_t *root, struct ks_enroll_req *req, char *why)
{
	static const char pem_tag[] = "-----BEGIN ";
	static const struct field b64 = { "ak_public", F_B64,
	    offsetof(struct ks_enroll_req, ak),
	    offsetof(struct ks_enroll_req, ak_len), KS_AKPUB_MAX, 0 };
	const char *s;
	size_t slen;
	int r;

	if ((r = get_string(root, "ak_public", 1, KS_AKPEM_MAX - 1, &s, &slen,
	    why)) != KS_OK)
		return r;
	if (slen < sizeof(pem_tag) - 1 ||
	    memcmp(s, pem_tag, sizeof(pem_tag) - 1) != 0)
		return get_field(root, &b64, req, why);
	if (slen != strlen(s))
		return bad(why, "field 'ak_public' contains NUL");
	memcpy(req->ak, s, slen);
	req->ak_len = slen;
	return KS_OK;
}

int
ks_parse_enroll(const void *body, size_t len, struct ks_enroll_req *req,
    char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_HOST, "name", struct ks_enroll_req, name),
		FIELD_OWN("ak_public"), FIELD_OWN("policy"),
		FIELD_OWN("ek_certificate"), FIELD_OWN("insecure_ak"),
	};
	static const struct field pol[] = {
		FIELD_BANK,
		FIELD_PCRS("pcrs", struct ks_policy, pcr_mask, pcrs),
		FIELD_UINT("key_pcr", struct ks_policy, key_pcr,
		    KS_PCR_COUNT - 1),
	};
	static const struct field ek = FIELD_B64("ek_certificate",
	    struct ks_enroll_req, ek_cert, ek_cert_len);
	json_t *root, *policy, *insecure;
	int r;

	if ((r = parse(body, len, top, NFIELDS(top), "request", req,
	    sizeof(*req), &root, why)) != KS_OK)
		return r;
	if ((r = get_ak(root, req, why)) != KS_OK)
		goto out;
	policy = json_object_get(root, "policy");
	if (policy == NULL || !json_is_object(policy)) {
		r = bad(why, "field 'policy' must be an object");
		goto out;
	}
	if ((r = get_fields(policy, pol, NFIELDS(pol), "policy", &req->policy,
	    why)) != KS_OK ||
	    (r = ks_policy_check(&req->policy, why)) != KS_OK)
		goto out;

	/* The AK's provenance: an EK certificate, or an explicit opt-out. */
	insecure = json_object_get(root, "insecure_ak");
	if (insecure != NULL && !json_is_true(insecure)) {
		r = bad(why, "field 'insecure_ak' can only be true");
		goto out;
	}
	req->insecure_ak = insecure != NULL;
	if (json_object_get(root, "ek_certificate") != NULL)
		r = req->insecure_ak ? bad(why, "fields 'ek_certificate' and"
		    " 'insecure_ak' exclude each other") :
		    get_field(root, &ek, req, why);
	else if (!req->insecure_ak)
		r = bad(why, "missing field 'ek_certificate' (a bare AK needs"
		    " \"insecure_ak\": true)");
 out:
	json_decref(root);
	return r;
}

int
ks_parse_activate(const void *body, size_t len, struct ks_activate_req *req,
    char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_HOST, "host", struct ks_activate_req, host),
		FIELD(F_B64_EXACT, "secret", struct ks_activate_req, secret),
	};

	return parse(body, len, top, NFIELDS(top), "request", req, sizeof(*req),
	    NULL, why);
}

int
ks_parse_activation_resp(const void *body, size_t len,
    struct ks_activation_resp *resp, char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD_OWN("host"),
		FIELD_B64("credential_blob", struct ks_activation_resp, blob,
		    blob_len),
		FIELD_B64("encrypted_secret", struct ks_activation_resp, enc,
		    enc_len),
		FIELD_UINT("expires", struct ks_activation_resp, expires,
		    INT64_MAX),
	};

	return parse(body, len, top, NFIELDS(top), "response", resp,
	    sizeof(*resp), NULL, why);
}

int
ks_parse_attest(const void *body, size_t len, struct ks_attest_req *req,
    char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_HOST, "host", struct ks_attest_req, host),
		FIELD_B64("quote", struct ks_attest_req, quote, quote_len),
		FIELD_B64("signature", struct ks_attest_req, sig, sig_len),
		FIELD_BANK,
		FIELD_PCRS("pcrs", struct ks_attest_req, pcr_mask, pcrs),
		FIELD(F_HEX, "hv_pubkey", struct ks_attest_req, hv_pubkey),
	};

	return parse(body, len, top, NFIELDS(top), "request", req, sizeof(*req),
	    NULL, why);
}

static int
get_pcr_array(json_t *obj, const char *name, uint32_t *mask, char *why)
{
	json_t *a = json_object_get(obj, name), *v;
	size_t i;

	*mask = 0;
	if (!json_is_array(a) || json_array_size(a) > KS_PCR_COUNT)
		return bad(why, "field '%s' must be an array of PCR indices", name);
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= KS_PCR_COUNT)
			return bad(why, "field '%s' must be an array of PCR"
			    " indices", name);
		*mask |= 1u << json_integer_value(v);
	}
	return KS_OK;
}

/* A response: members other than these are ignored. */
int
ks_parse_nonce_resp(const void *body, size_t len, struct ks_nonce_resp *resp,
    char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_HEX, "nonce", struct ks_nonce_resp, nonce),
		FIELD_UINT("expires", struct ks_nonce_resp, expires, INT64_MAX),
	};
	json_t *root;
	uint64_t v;
	int r, present;

	if ((r = parse(body, len, top, NFIELDS(top), NULL, resp, sizeof(*resp),
	    &root, why)) != KS_OK)
		return r;
	if ((r = get_uint(root, "key_pcr", 0, KS_PCR_COUNT - 1, &v, &present,
	    why)) == KS_OK && present) {
		resp->key_pcr = (unsigned int)v;
		if ((r = get_pcr_array(root, "pcrs", &resp->pcr_mask, why)) ==
		    KS_OK)
			resp->have_policy = 1;
	}
	json_decref(root);
	return r;
}

/* A response: members other than these are ignored. */
int
ks_parse_cert_resp(const void *body, size_t len, struct ks_cert_resp *resp,
    char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD_B64("certificate", struct ks_cert_resp, cert, cert_len),
		FIELD_UINT("expires", struct ks_cert_resp, expires, INT64_MAX),
	};

	return parse(body, len, top, NFIELDS(top), NULL, resp, sizeof(*resp),
	    NULL, why);
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
	if (get_string(root, "message", 0, MESSAGE_MAX, &s, &slen, why) ==
	    KS_OK && s != NULL)
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

int
ks_parse_owner_reg(const void *body, size_t len, struct ks_owner_reg_req *req,
    char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_UUID, "uuid", struct ks_owner_reg_req, uuid),
		FIELD(F_HEX, "owner_key", struct ks_owner_reg_req, owner_key),
		FIELD(F_BOOL, "replace", struct ks_owner_reg_req, replace),
	};

	return parse(body, len, top, NFIELDS(top), "request", req, sizeof(*req),
	    NULL, why);
}

/* One "acl" entry as read, before it becomes a struct ks_owner_acl_entry. */
struct acl_in {
	uint8_t		key[KS_X25519_LEN];
	int		owner;
};

static int
get_acl(json_t *root, struct ks_owner_token_req *req, char *why)
{
	static const struct field entry[] = {
		FIELD(F_HEX, "key", struct acl_in, key),
		FIELD(F_BOOL, "owner", struct acl_in, owner),
	};
	json_t *a = json_object_get(root, "acl"), *e;
	unsigned int i, j, owners = 0;
	struct acl_in in;
	size_t n;
	int r;

	if (a == NULL || !json_is_array(a) || (n = json_array_size(a)) == 0 ||
	    n > KS_OWNER_ACL_MAX)
		return bad(why, "field 'acl' must be an array of 1..%d entries",
		    KS_OWNER_ACL_MAX);
	for (i = 0; i < n; i++) {
		e = json_array_get(a, i);
		if (!json_is_object(e))
			return bad(why, "an 'acl' entry must be an object");
		memset(&in, 0, sizeof(in));
		if ((r = get_fields(e, entry, NFIELDS(entry), "acl entry", &in,
		    why)) != KS_OK)
			return r;
		memcpy(req->acl[i].key, in.key, KS_X25519_LEN);
		req->acl[i].flags = in.owner ? 1 : 0;
		owners += in.owner != 0;
		for (j = 0; j < i; j++)
			if (memcmp(req->acl[j].key, req->acl[i].key,
			    KS_X25519_LEN) == 0)
				return bad(why, "a key appears twice in 'acl'");
	}
	if (owners == 0)
		return bad(why, "'acl' has no owner entry");
	req->acl_count = (unsigned int)n;
	return KS_OK;
}

int
ks_parse_owner_token(const void *body, size_t len,
    struct ks_owner_token_req *req, char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_UUID, "uuid", struct ks_owner_token_req, uuid),
		FIELD_OWN("nonce"), FIELD_OWN("acl"), FIELD_OWN("proof"),
	};
	/* The answer step's members, read when more than "uuid" came. */
	static const struct field answer[] = {
		FIELD(F_HEX, "nonce", struct ks_owner_token_req, nonce),
		FIELD(F_HEX, "proof", struct ks_owner_token_req, proof),
	};
	json_t *root;
	int r;

	if ((r = parse(body, len, top, NFIELDS(top), "request", req,
	    sizeof(*req), &root, why)) != KS_OK)
		goto out;
	req->answer = json_object_size(root) > 1;
	if (req->answer &&
	    (r = get_fields(root, answer, NFIELDS(answer), NULL, req, why)) ==
	    KS_OK)
		r = get_acl(root, req, why);
	json_decref(root);
 out:
	if (r != KS_OK)
		sodium_memzero(req, sizeof(*req));
	return r;
}

int
ks_parse_owner_challenge_resp(const void *body, size_t len,
    struct ks_owner_challenge_resp *resp, char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_UUID, "uuid", struct ks_owner_challenge_resp, uuid),
		FIELD(F_HEX, "nonce", struct ks_owner_challenge_resp, nonce),
		FIELD(F_HEX, "server_key", struct ks_owner_challenge_resp,
		    server_key),
		FIELD_UINT("expires", struct ks_owner_challenge_resp, expires,
		    INT64_MAX),
	};

	return parse(body, len, top, NFIELDS(top), "response", resp,
	    sizeof(*resp), NULL, why);
}

int
ks_parse_owner_token_resp(const void *body, size_t len,
    struct ks_owner_token_resp *resp, char why[KS_WHY_MAX])
{
	static const struct field top[] = {
		FIELD(F_UUID, "uuid", struct ks_owner_token_resp, uuid),
		FIELD(F_HEX, "token", struct ks_owner_token_resp, token),
	};

	return parse(body, len, top, NFIELDS(top), "response", resp,
	    sizeof(*resp), NULL, why);
}
