/*
 * test_ks_req.c — parsing of everything the key server and its agent read
 * from the network: JSON request/response bodies (ks_req.c), the agent's
 * HTTP response parser and URL parser (at_http.c), the hv GET_INFO payload
 * and what at_hv_get_info() makes of a fake hv's answers (at_hv.c), host
 * names and the result table (ks_util.c).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ops.h"
#include "secmem.h"
#include "ks/ks.h"
#include "ks/ks_req.h"
#include "ks/at_http.h"
#include "at_hv.h"
#include "op_packet.h"

#define H64	"0000000000000000000000000000000000000000000000000000000000000000"
#define A64	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static char why[KS_WHY_MAX];

static int
attest_str(const char *s, struct ks_attest_req *r)
{
	return ks_parse_attest(s, strlen(s), r, why);
}

static int
enroll_str(const char *s, struct ks_enroll_req *r)
{
	return ks_parse_enroll(s, strlen(s), r, why);
}

/* The AK's provenance: an EK certificate or the explicit insecure_ak. */
static void
test_enroll_provenance(void **state)
{
	struct ks_enroll_req *r = malloc(sizeof(*r));
	struct ks_activate_req a;
	struct ks_activation_resp ar;
#define POL "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":15}"
#define S32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="	/* 0..31 */
#define ACT(body) ks_parse_activate(body, strlen(body), &a, why)

	(void)state;
	assert_non_null(r);
	/* Neither: refused, and the message says how to opt out. */
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    POL "}", r), KS_E_BAD_FIELD);
	assert_non_null(strstr(why, "insecure_ak"));
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"insecure_ak\":false," POL "}", r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"insecure_ak\":1," POL "}", r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"insecure_ak\":true," POL "}", r), KS_OK);
	assert_int_equal(r->insecure_ak, 1);
	assert_int_equal(r->ek_cert_len, 0);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"ek_certificate\":\"MIIB\"," POL "}", r), KS_OK);
	assert_int_equal(r->insecure_ak, 0);
	assert_int_equal(r->ek_cert_len, 3);
	/* Both, or a certificate that is not base64 / empty / oversized. */
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"ek_certificate\":\"MIIB\",\"insecure_ak\":true," POL "}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"ek_certificate\":\"M!IB\"," POL "}", r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"ek_certificate\":\"\"," POL "}", r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\","
	    "\"ek_certificate\":5," POL "}", r), KS_E_BAD_FIELD);
	{
		size_t n = sodium_base64_ENCODED_LEN(KS_EKCERT_MAX + 3,
		    sodium_base64_VARIANT_ORIGINAL) + 256;
		char *big = malloc(n), *p;

		assert_non_null(big);
		p = big + snprintf(big, n, "{\"name\":\"h\",\"ak_public\":"
		    "\"AAEC\",\"ek_certificate\":\"");
		memset(p, 'A', 4 * ((KS_EKCERT_MAX + 3) / 3));
		p += 4 * ((KS_EKCERT_MAX + 3) / 3);
		snprintf(p, n - (size_t)(p - big), "\"," POL "}");
		assert_int_equal(enroll_str(big, r), KS_E_BAD_FIELD);
		free(big);
	}

	/* POST /v1/activate */
	assert_int_equal(ACT("{\"host\":\"h\",\"secret\":\"" S32 "\"}"), KS_OK);
	assert_string_equal(a.host, "h");
	assert_int_equal(a.secret[31], 31);
	assert_int_equal(ACT("{\"host\":\"h\",\"secret\":\"AAEC\"}"),
	    KS_E_BAD_FIELD);	/* 3 bytes */
	assert_int_equal(ACT("{\"host\":\"h\"}"), KS_E_BAD_FIELD);
	assert_int_equal(ACT("{\"secret\":\"" S32 "\"}"), KS_E_BAD_FIELD);
	assert_int_equal(ACT("{\"host\":\"h/..\",\"secret\":\"" S32 "\"}"),
	    KS_E_BAD_FIELD);
	assert_int_equal(ACT("{\"host\":\"h\",\"secret\":\"" S32 "\",\"x\":1}"),
	    KS_E_BAD_FIELD);
	assert_int_equal(ACT("[1]"), KS_E_BAD_JSON);

	/* The agent's view of GET /v1/hosts/NAME/activation. */
#define AR(body) ks_parse_activation_resp(body, strlen(body), &ar, why)
	assert_int_equal(AR("{\"host\":\"h\",\"credential_blob\":\"AAEC\","
	    "\"encrypted_secret\":\"" S32 "\",\"expires\":7}"), KS_OK);
	assert_int_equal(ar.blob_len, 3);
	assert_int_equal(ar.enc_len, 32);
	assert_int_equal(ar.expires, 7);
	assert_int_equal(AR("{\"host\":\"h\",\"credential_blob\":\"AAEC\","
	    "\"expires\":7}"), KS_E_BAD_FIELD);
	assert_int_equal(AR("{\"host\":\"h\",\"credential_blob\":\"AAEC\","
	    "\"encrypted_secret\":\"" S32 "\",\"expires\":-7}"),
	    KS_E_BAD_FIELD);
#undef AR
#undef ACT
#undef S32
#undef POL
	free(r);
}

static void
test_json_depth(void **state)
{
	(void)state;
	assert_int_equal(ks_json_depth("{}", 2), 1);
	assert_int_equal(ks_json_depth("{\"a\":[{}]}", 10), 3);
	assert_int_equal(ks_json_depth("{\"a\":\"[[[[{{{\"}", 15), 1);
	assert_int_equal(ks_json_depth("{\"a\":\"\\\"[[\"}", 12), 1);
	assert_int_equal(ks_json_depth("{", 1), -1);
	assert_int_equal(ks_json_depth("}", 1), -1);
	assert_int_equal(ks_json_depth("{\"a", 3), -1);
	assert_int_equal(ks_json_depth("", 0), 0);
}

static void
test_attest_ok(void **state)
{
	struct ks_attest_req *r = malloc(sizeof(*r));

	(void)state;
	assert_int_equal(attest_str("{\"host\":\"h-1.example_x\",\"quote\":\"AAEC\","
	    "\"signature\":\"/w==\",\"bank\":\"sha256\",\"pcrs\":{\"0\":\"" A64
	    "\",\"23\":\"" H64 "\"},\"hv_pubkey\":\"" A64 "\"}", r), KS_OK);
	assert_string_equal(r->host, "h-1.example_x");
	assert_int_equal(r->quote_len, 3);
	assert_int_equal(r->quote[2], 2);
	assert_int_equal(r->sig_len, 1);
	assert_int_equal(r->sig[0], 0xff);
	assert_int_equal(r->pcr_mask, (1u << 0) | (1u << 23));
	assert_int_equal(r->pcrs[0][31], 0xaa);
	assert_int_equal(r->hv_pubkey[0], 0xaa);
	free(r);
}

static void
test_attest_bad(void **state)
{
	static const struct {
		const char	*body;
		int		 want;
	} cases[] = {
		{ "", KS_E_BAD_JSON },
		{ "[]", KS_E_BAD_JSON },
		{ "\"x\"", KS_E_BAD_JSON },
		{ "{", KS_E_BAD_JSON },
		{ "{\"host\":\"a\",}", KS_E_BAD_JSON },
		{ "{\"host\":\"a\",\"host\":\"b\"}", KS_E_BAD_JSON },
		{ "{\"a\":[[[[[1]]]]]}", KS_E_BAD_JSON },
		{ "{\"host\":\"a\\u0000b\"}", KS_E_BAD_JSON },
		{ "{}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"zzz\":1}", KS_E_BAD_FIELD },
		{ "{\"host\":1}", KS_E_BAD_FIELD },
		{ "{\"host\":\"\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"../x\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\".x\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a b\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"!!\",\"signature\":\"AA==\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA=\",\"signature\":\"AA==\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"\",\"signature\":\"AA==\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\",\"bank\":\"sha1\","
		  "\"pcrs\":{\"0\":\"" H64 "\"},\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{},\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{\"24\":\"" H64 "\"},\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{\"07\":\"" H64 "\"},\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{\"-1\":\"" H64 "\"},\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{\"1\":\"00\"},\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{\"1\":\"" H64 "00\"},\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{\"1\":\"" H64 "\"},\"hv_pubkey\":\"zz" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":[1],\"hv_pubkey\":\"" H64 "\"}", KS_E_BAD_FIELD },
		{ "{\"host\":\"a\",\"quote\":\"AA==\",\"signature\":\"AA==\","
		  "\"pcrs\":{\"1\":\"" H64 "\"}}", KS_E_BAD_FIELD },
	};
	struct ks_attest_req *r = malloc(sizeof(*r));
	size_t i;

	(void)state;
	for (i = 0; i < SC_NELEM(cases); i++) {
		int got = attest_str(cases[i].body, r);

		if (got != cases[i].want)
			fail_msg("case %zu: got %d want %d (%s)", i, got,
			    cases[i].want, why);
		assert_true(why[0] != '\0');
	}
	free(r);
}

static void
test_attest_limits(void **state)
{
	struct ks_attest_req *r = malloc(sizeof(*r));
	size_t qlen, n;
	char *big, *b64;
	uint8_t *raw;
	int i;

	(void)state;
	/* Quote of exactly KS_QUOTE_MAX bytes passes, one more fails. */
	for (i = 0; i < 2; i++) {
		qlen = KS_QUOTE_MAX + (size_t)i;
		raw = calloc(1, qlen);
		n = sodium_base64_ENCODED_LEN(qlen, sodium_base64_VARIANT_ORIGINAL);
		b64 = malloc(n);
		sodium_bin2base64(b64, n, raw, qlen, sodium_base64_VARIANT_ORIGINAL);
		big = malloc(n + 512);
		snprintf(big, n + 512, "{\"host\":\"a\",\"quote\":\"%s\",\"signature\":"
		    "\"AA==\",\"pcrs\":{\"1\":\"" H64 "\"},\"hv_pubkey\":\"" H64
		    "\"}", b64);
		assert_int_equal(attest_str(big, r), i == 0 ? KS_OK : KS_E_BAD_FIELD);
		free(raw);
		free(b64);
		free(big);
	}
	/* Host of KS_HOST_MAX characters passes, one more fails. */
	big = malloc(KS_HOST_MAX + 64);
	for (i = 0; i < 2; i++) {
		n = (size_t)snprintf(big, KS_HOST_MAX + 64, "{\"host\":\"");
		memset(big + n, 'h', KS_HOST_MAX + (size_t)i);
		strcpy(big + n + KS_HOST_MAX + i, "\"}");
		assert_int_equal(attest_str(big, r), KS_E_BAD_FIELD);
		/* At the limit the host passes and the quote is missing. */
		assert_non_null(strstr(why, i == 0 ? "'quote'" : "'host'"));
	}
	free(big);
	free(r);
}

static void
test_enroll(void **state)
{
	struct ks_enroll_req *r = malloc(sizeof(*r));
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\\nMFkw\\n"
	    "-----END PUBLIC KEY-----\\n";

	(void)state;
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"bank\":\"sha256\",\"pcrs\":{\"0\":\"" A64 "\","
	    "\"7\":\"" H64 "\"},\"key_pcr\":15}}", r), KS_OK);
	assert_string_equal(r->name, "h");
	assert_int_equal(r->ak_len, 3);
	assert_int_equal(r->policy.pcr_mask, 0x81);
	assert_int_equal(r->policy.key_pcr, 15);
	assert_int_equal(r->policy.pcrs[0][0], 0xaa);
	/* An empty boot policy protects nothing (issue 12 item 6). */
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{},\"key_pcr\":0}}", r), KS_E_BAD_FIELD);
	/* PEM is passed through as text. */
	{
		char body[512];

		snprintf(body, sizeof(body), "{\"name\":\"h\",\"insecure_ak\":true,\"ak_public\":\"%s\","
		    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":15}}",
		    pem);
		assert_int_equal(enroll_str(body, r), KS_OK);
		assert_int_equal(r->ak_len, strlen("-----BEGIN PUBLIC KEY-----\nMFkw\n"
		    "-----END PUBLIC KEY-----\n"));
		assert_memory_equal(r->ak, "-----BEGIN PUBLIC KEY-----\n", 27);
	}
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{\"15\":\"" H64 "\"},\"key_pcr\":15}}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":24}}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":-1}}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":\"15\"}}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"}}}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":1,\"x\":1}}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":[]}", r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h\",\"ak_public\":5,"
	    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":1}}", r),
	    KS_E_BAD_FIELD);
	assert_int_equal(enroll_str("{\"name\":\"h/x\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{\"0\":\"" A64 "\"},\"key_pcr\":1}}", r),
	    KS_E_BAD_FIELD);
	free(r);
}

/* Enroll body with boot PCRs pcrs ("\"0\":\"..\"" list) and key_pcr. */
static int
enroll_policy(const char *pcrs, int key_pcr, struct ks_enroll_req *r)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"name\":\"h\",\"ak_public\":\"AAEC\",\"insecure_ak\":true,"
	    "\"policy\":{\"pcrs\":{%s},\"key_pcr\":%d}}", pcrs, key_pcr);
	return enroll_str(body, r);
}

#define P(n)	"\"" #n "\":\"" A64 "\""

static void
test_enroll_policy(void **state)
{
	struct ks_enroll_req *r = malloc(sizeof(*r));
	struct ks_policy p;
	char msg[KS_WHY_MAX];
	int k;

	(void)state;
	/* Resettable key PCRs are refused whatever the boot policy. */
	assert_int_equal(enroll_policy(P(0) "," P(7), 16, r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_policy(P(0) "," P(7), 23, r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_policy(P(0) "," P(7) "," P(17), 16, r),
	    KS_E_BAD_FIELD);
	/* 17..22 only in a DRTM policy (one that pins PCR 17). */
	for (k = 18; k <= 22; k++) {
		assert_int_equal(enroll_policy(P(0) "," P(7), k, r),
		    KS_E_BAD_FIELD);
		assert_int_equal(enroll_policy(P(0) "," P(17), k, r), KS_OK);
		assert_int_equal(r->policy.key_pcr, (unsigned int)k);
	}
	assert_int_equal(enroll_policy(P(0) "," P(7), 17, r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_policy(P(0) "," P(17), 17, r), KS_E_BAD_FIELD);
	/* The boot policy must pin a static PCR and no resettable one. */
	assert_int_equal(enroll_policy("", 15, r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_policy(P(16), 15, r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_policy(P(23), 15, r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_policy(P(0) "," P(16), 15, r), KS_E_BAD_FIELD);
	assert_int_equal(enroll_policy(P(17) "," P(18), 19, r), KS_E_BAD_FIELD);
	/* Every static key PCR with a static boot policy is fine. */
	for (k = 1; k < 16; k++)
		assert_int_equal(enroll_policy(P(0), k, r), KS_OK);
	assert_int_equal(enroll_policy(P(1), 0, r), KS_OK);

	/* The same check as a function (ks_enroll and ks_attest use it). */
	memset(&p, 0, sizeof(p));
	p.pcr_mask = 0x81;
	p.key_pcr = 15;
	assert_int_equal(ks_policy_check(&p, msg), KS_OK);
	p.key_pcr = 24;
	assert_int_equal(ks_policy_check(&p, msg), KS_E_BAD_FIELD);
	p.key_pcr = 16;
	assert_int_equal(ks_policy_check(&p, msg), KS_E_BAD_FIELD);
	assert_non_null(strstr(msg, "reset"));
	p.key_pcr = 15;
	p.pcr_mask = 0;
	assert_int_equal(ks_policy_check(&p, msg), KS_E_BAD_FIELD);
	free(r);
}

static void
test_responses(void **state)
{
	struct ks_nonce_resp nr;
	struct ks_cert_resp cr;
	struct ks_error_resp er;
	const char *s;

	(void)state;
	s = "{\"nonce\":\"" A64 "\",\"expires\":1700000000}";
	assert_int_equal(ks_parse_nonce_resp(s, strlen(s), &nr, why), KS_OK);
	assert_int_equal(nr.have_policy, 0);
	assert_int_equal(nr.expires, 1700000000);
	s = "{\"nonce\":\"" A64 "\",\"expires\":1,\"pcrs\":[0,7],\"key_pcr\":15}";
	assert_int_equal(ks_parse_nonce_resp(s, strlen(s), &nr, why), KS_OK);
	assert_int_equal(nr.have_policy, 1);
	assert_int_equal(nr.pcr_mask, 0x81);
	assert_int_equal(nr.key_pcr, 15);
	s = "{\"nonce\":\"" A64 "\",\"expires\":1,\"pcrs\":[0,24],\"key_pcr\":15}";
	assert_int_equal(ks_parse_nonce_resp(s, strlen(s), &nr, why), KS_E_BAD_FIELD);
	s = "{\"nonce\":\"abcd\",\"expires\":1}";
	assert_int_equal(ks_parse_nonce_resp(s, strlen(s), &nr, why), KS_E_BAD_FIELD);

	s = "{\"host\":\"h\",\"certificate\":\"U0NDMQ==\",\"expires\":5}";
	assert_int_equal(ks_parse_cert_resp(s, strlen(s), &cr, why), KS_OK);
	assert_int_equal(cr.cert_len, 4);
	assert_memory_equal(cr.cert, "SCC1", 4);
	s = "{\"certificate\":\"U0NDMQ==\"}";
	assert_int_equal(ks_parse_cert_resp(s, strlen(s), &cr, why), KS_E_BAD_FIELD);

	/* Error messages from the server are reduced to printable ASCII. */
	s = "{\"error\":\"nonce_invalid\",\"message\":\"bad\\u001b[2Jthing\"}";
	assert_int_equal(ks_parse_error_resp(s, strlen(s), &er), KS_OK);
	assert_string_equal(er.code, "nonce_invalid");
	assert_string_equal(er.message, "bad?[2Jthing");
	s = "{\"message\":\"x\"}";
	assert_int_not_equal(ks_parse_error_resp(s, strlen(s), &er), KS_OK);
}

static void
test_pcr_list_host_results(void **state)
{
	uint32_t m;
	char out[80];
	int i;

	(void)state;
	assert_int_equal(ks_pcr_list_parse("0,1,7,23", &m), 0);
	assert_int_equal(m, 0x800083);
	ks_pcr_list_format(m, out, sizeof(out));
	assert_string_equal(out, "0,1,7,23");
	assert_int_equal(ks_pcr_list_parse("24", &m), -1);
	assert_int_equal(ks_pcr_list_parse("1,", &m), -1);
	assert_int_equal(ks_pcr_list_parse("-1", &m), -1);
	assert_int_equal(ks_pcr_list_parse("", &m), -1);
	assert_int_equal(ks_pcr_list_parse("1;2", &m), -1);

	assert_true(ks_host_valid("a"));
	assert_true(ks_host_valid("dom0-1.rack_7.example"));
	assert_false(ks_host_valid(""));
	assert_false(ks_host_valid("."));
	assert_false(ks_host_valid(".."));
	assert_false(ks_host_valid("-x"));
	assert_false(ks_host_valid("a/b"));
	assert_false(ks_host_valid("a%2f"));
	assert_false(ks_host_valid("\xc3\xa9"));

	/* Every result has a status and a distinct code. */
	for (i = 0; i < KS_E__COUNT; i++) {
		int j;

		assert_true(ks_result_status(i) >= 200 && ks_result_status(i) < 600);
		for (j = 0; j < i; j++)
			assert_string_not_equal(ks_result_code(i), ks_result_code(j));
	}
	assert_int_equal(ks_result_status(KS_E_TOO_LARGE), 413);
	assert_int_equal(ks_result_status(-5), 500);
	assert_string_equal(ks_result_code(999), "internal");
}

static int
http(const char *s, int *status, const uint8_t **body, size_t *len)
{
	return at_http_parse_response((const uint8_t *)s, strlen(s), status,
	    body, len);
}

static void
test_http_response(void **state)
{
	const uint8_t *body;
	size_t len;
	int st;

	(void)state;
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Content-Type: application/json\r\n\r\n{}", &st, &body, &len), 0);
	assert_int_equal(st, 200);
	assert_int_equal(len, 2);
	assert_memory_equal(body, "{}", 2);
	/* No Content-Length: up to EOF. */
	assert_int_equal(http("HTTP/1.0 403 Forbidden\r\n\r\nabc", &st, &body,
	    &len), 0);
	assert_int_equal(st, 403);
	assert_int_equal(len, 3);
	/* Extra bytes after Content-Length are ignored; fewer are truncated. */
	assert_int_equal(http("HTTP/1.1 200 OK\r\ncontent-length:1\r\n\r\nxy",
	    &st, &body, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nxy",
	    &st, &body, &len), SC_ERR_TRUNCATED);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 5", &st, &body,
	    &len), SC_ERR_TRUNCATED);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    &st, &body, &len), SC_ERR_FORMAT);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Content-Length: 1\r\n\r\nx", &st, &body, &len), SC_ERR_FORMAT);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n"
	    "\r\n", &st, &body, &len), SC_ERR_FORMAT);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n0\r\n\r\n", &st, &body, &len), SC_ERR_UNSUPPORTED);
	assert_int_equal(http("HTTP/2 200 OK\r\n\r\n", &st, &body, &len),
	    SC_ERR_FORMAT);
	assert_int_equal(http("HTTP/1.1 2000 OK\r\n\r\n", &st, &body, &len),
	    SC_ERR_FORMAT);
	assert_int_equal(http("HTTP/1.1 099 OK\r\n\r\n", &st, &body, &len),
	    SC_ERR_FORMAT);
	assert_int_equal(http("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", &st, &body,
	    &len), SC_ERR_FORMAT);
	assert_int_equal(http("HTTP/1.1 200 OK\n\n", &st, &body, &len),
	    SC_ERR_TRUNCATED);
	assert_int_equal(http("", &st, &body, &len), SC_ERR_TRUNCATED);
}

static void
test_url(void **state)
{
	struct at_url u;

	(void)state;
	assert_int_equal(at_url_parse("http://127.0.0.1:8740", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "8740");
	assert_string_equal(u.prefix, "");
	assert_int_equal(at_url_parse("http://ks.example/api/", &u), 0);
	assert_string_equal(u.host, "ks.example");
	assert_string_equal(u.port, "80");
	assert_string_equal(u.prefix, "/api");
	assert_int_equal(at_url_parse("http://[::1]:99/", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "99");
	assert_int_equal(at_url_parse("https://x", &u), SC_ERR_UNSUPPORTED);
	assert_int_equal(at_url_parse("http://:80", &u), SC_ERR_FORMAT);
	assert_int_equal(at_url_parse("http://x:", &u), SC_ERR_FORMAT);
	assert_int_equal(at_url_parse("http://x:8a", &u), SC_ERR_FORMAT);
	assert_int_equal(at_url_parse("http://[::1", &u), SC_ERR_FORMAT);
	assert_int_equal(at_url_parse("http://x/a?b", &u), SC_ERR_FORMAT);
}

/* A GET_INFO payload (ABI 1): pk all `fill`, pcr_index pcr; 52 bytes. */
static void
info_payload(uint8_t pl[52], uint8_t fill, uint32_t pcr)
{
	struct sc_buf b;

	sc_buf_init(&b, pl, 52);
	memset(pl, fill, 32);
	b.len = 32;
	if (sc_buf_put_u32_le(&b, 1) != 0 ||
	    sc_buf_put_u32_le(&b, 0x3f) != 0 ||
	    sc_buf_put_u32_le(&b, 16) != 0 ||
	    sc_buf_put_u32_le(&b, 64) != 0 ||
	    sc_buf_put_u32_le(&b, pcr) != 0)
		abort();
}

static void
test_hv_info_payload(void **state)
{
	uint8_t pl[60], pk[32];
	uint32_t pcr = 0;

	(void)state;
	info_payload(pl, 0x42, 15);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(at_hv_info_payload(pl, 52, pk, &pcr), 0);
	assert_int_equal(pcr, 15);
	assert_memory_equal(pk, pl, 32);
	/* Later ABI versions may append fields. */
	memset(pl + 52, 0xee, 8);
	pcr = 0;
	assert_int_equal(at_hv_info_payload(pl, sizeof(pl), pk, &pcr), 0);
	assert_int_equal(pcr, 15);
	/* Anything shorter than ABI 1's 52 bytes is refused. */
	assert_int_equal(at_hv_info_payload(pl, 51, pk, &pcr), SC_ERR_FORMAT);
	assert_int_equal(at_hv_info_payload(pl, 0, pk, &pcr), SC_ERR_FORMAT);
}

/*
 * at_hv_get_info() against a fake hv: a child that accepts one connection
 * on a listening ops socket, checks the GET_INFO request and sends a
 * scripted answer.  The packet sorting itself (events, stray seqs,
 * malformed and oversized packets) is lib/opsock.c's, tested in
 * test_opsock and fuzz_opsock; here we check what at_hv.c makes of it.
 */
enum fake_hv {
	HV_OK,		/* event, stray answer, malformed packet, then the answer */
	HV_BUSY,	/* status SC_ERR_BUSY */
	HV_ODD_STATUS,	/* a negative status that is no sc_error */
	HV_SHORT,	/* a 40-byte payload */
	HV_HANGUP,	/* closes without answering */
};

#define FAKE_HV_ALARM_S	20
#define HV_CALL_MS	10000

static void
fake_hv_serve(int lfd, enum fake_hv how)
{
	static uint8_t in[SC_OP_MAX], out[SC_OP_MAX];
	struct sc_op_hdr req;
	struct sc_buf b;
	uint8_t pl[52];
	ssize_t n;
	size_t len;
	int fd;

	alarm(FAKE_HV_ALARM_S);
	if ((fd = accept(lfd, NULL, NULL)) < 0)
		_exit(2);
	if ((n = recv(fd, in, sizeof(in), 0)) <= 0)
		_exit(3);
	sc_buf_init_ro(&b, in, (size_t)n);
	if (sc_op_hdr_get(&b, &req) != 0 || req.op != SC_OP_GET_INFO ||
	    req.len != 0 || sc_buf_avail(&b) != 0 || req.seq == 0)
		_exit(4);
#define SEND(l) do { if (send(fd, out, (l), MSG_NOSIGNAL) != (ssize_t)(l)) \
		_exit(5); } while (0)
	switch (how) {
	case HV_OK:
		len = op_packet(out, sizeof(out), SC_OP_EVENT, 0, 0, 0, 0, 0, NULL, 0);
		SEND(len);
		/* Another request's answer, with another key: not ours. */
		info_payload(pl, 0x99, 7);
		len = op_packet(out, sizeof(out), SC_OP_GET_INFO, 0, 0, 0, 0,
		    req.seq + 1, pl, 52);
		SEND(len);
		SEND(10);	/* a cut header */
		info_payload(pl, 0x42, 15);
		len = op_packet(out, sizeof(out), SC_OP_GET_INFO, 0, 0, 0, 0,
		    req.seq, pl, 52);
		SEND(len);
		break;
	case HV_BUSY:
		len = op_packet(out, sizeof(out), SC_OP_GET_INFO, SC_ERR_BUSY,
		    0, 0, 0, req.seq, NULL, 0);
		SEND(len);
		break;
	case HV_ODD_STATUS:
		len = op_packet(out, sizeof(out), SC_OP_GET_INFO,
		    SC_ERR_MIN - 1000, 0, 0, 0, req.seq, NULL, 0);
		SEND(len);
		break;
	case HV_SHORT:
		info_payload(pl, 0x42, 15);
		len = op_packet(out, sizeof(out), SC_OP_GET_INFO, 0, 0, 0, 0,
		    req.seq, pl, 40);
		SEND(len);
		break;
	case HV_HANGUP:
		break;
	}
#undef SEND
	close(fd);
	_exit(0);
}

/* Run one at_hv_get_info() against a fake hv answering `how`. */
static int
hv_get_info_with(const char *path, enum fake_hv how, uint8_t pk[32],
    uint32_t *pcr)
{
	struct sockaddr_un sun;
	pid_t pid;
	int lfd, r, st;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	(void)unlink(path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fake_hv_serve(lfd, how);
	close(lfd);
	r = at_hv_get_info(path, HV_CALL_MS, pk, pcr);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	(void)unlink(path);
	return r;
}

static void
test_hv_get_info(void **state)
{
	char dir[] = "/tmp/test_ks_req.XXXXXX", path[64];
	uint8_t pk[32], want[32];
	uint32_t pcr = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ops.sock", dir);

	memset(pk, 0, sizeof(pk));
	memset(want, 0x42, sizeof(want));
	assert_int_equal(hv_get_info_with(path, HV_OK, pk, &pcr), 0);
	assert_memory_equal(pk, want, 32);
	assert_int_equal(pcr, 15);
	/* The hv's own error comes back as it is; an unknown one as FORMAT. */
	assert_int_equal(hv_get_info_with(path, HV_BUSY, pk, &pcr), SC_ERR_BUSY);
	assert_int_equal(hv_get_info_with(path, HV_ODD_STATUS, pk, &pcr),
	    SC_ERR_FORMAT);
	assert_int_equal(hv_get_info_with(path, HV_SHORT, pk, &pcr),
	    SC_ERR_FORMAT);
	assert_int_equal(hv_get_info_with(path, HV_HANGUP, pk, &pcr),
	    SC_ERR_CLOSED);
	/* Nobody there. */
	assert_int_equal(at_hv_get_info(path, HV_CALL_MS, pk, &pcr),
	    SC_ERR_NOTFOUND);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_enroll_provenance),
		cmocka_unit_test(test_attest_ok),
		cmocka_unit_test(test_attest_bad),
		cmocka_unit_test(test_attest_limits),
		cmocka_unit_test(test_enroll),
		cmocka_unit_test(test_enroll_policy),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_pcr_list_host_results),
		cmocka_unit_test(test_http_response),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_hv_info_payload),
		cmocka_unit_test(test_hv_get_info),
	};

	if (sc_lib_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
