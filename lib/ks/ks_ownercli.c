/*
 * ks_ownercli.c — the tenant's ownership-token client (ks_ownercli.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"
#include "core/crypto.h"
#include "core/owner.h"
#include "encode.h"
#include "ks/ks_ownercli.h"
#include "ks/ks_req.h"

#define OWNER_TOKENS_PATH	"/v1/owner-tokens"

static void
refusal(int status, const uint8_t *body, size_t len, char msg[KS_OWNER_MSG_MAX])
{
	struct ks_error_resp e;

	if (ks_parse_error_resp(body, len, &e) == KS_OK)
		snprintf(msg, KS_OWNER_MSG_MAX, "HTTP %d %s: %s", status, e.code,
		    e.message);
	else
		snprintf(msg, KS_OWNER_MSG_MAX, "HTTP %d", status);
}

/* POST body to the endpoint; *resp (free it) holds the 200 answer. */
static int
post(const struct at_url *u, const char *body, unsigned int tmo,
    uint8_t **resp, const uint8_t **rbody, size_t *rlen,
    char msg[KS_OWNER_MSG_MAX])
{
	int status, r;

	*resp = NULL;
	if ((r = at_http_request(u, "POST", OWNER_TOKENS_PATH, body, strlen(body),
	    tmo, resp, &status, rbody, rlen)) < 0) {
		snprintf(msg, KS_OWNER_MSG_MAX, "cannot reach the key server: %s",
		    sc_err(r));
		return r;
	}
	if (status != 200) {
		refusal(status, *rbody, *rlen, msg);
		free(*resp);
		*resp = NULL;
		return SC_ERR_UNTRUSTED;
	}
	return 0;
}

static char *
answer_body(const char *uuid, const uint8_t nonce[KS_NONCE_LEN],
    const uint8_t proof[KS_OWNER_PROOF_LEN], const struct sc_acl_entry *acl,
    unsigned n)
{
	char hex[2 * KS_X25519_LEN + 1], nhex[2 * KS_NONCE_LEN + 1];
	char phex[2 * KS_OWNER_PROOF_LEN + 1], *s = NULL;
	json_t *a = json_array(), *j = NULL;
	unsigned i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		sc_hex_encode(acl[i].pubkey, KS_X25519_LEN, hex, sizeof(hex));
		if (json_array_append_new(a, json_pack("{s:s, s:b}", "key", hex,
		    "owner", (acl[i].flags & SC_ACL_F_OWNER) != 0)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	sc_hex_encode(nonce, KS_NONCE_LEN, nhex, sizeof(nhex));
	sc_hex_encode(proof, KS_OWNER_PROOF_LEN, phex, sizeof(phex));
	j = json_pack("{s:s, s:s, s:s, s:o}", "uuid", uuid, "nonce", nhex,
	    "proof", phex, "acl", a);
	if (j != NULL)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

int
ks_owner_token_fetch(const struct at_url *u, const uint8_t owner_sk[32],
    const uint8_t uuid[KS_UUID_LEN], const struct sc_acl_entry *acl,
    unsigned n, unsigned int timeout_ms, uint8_t token[KS_OWNER_TOKEN_LEN],
    char msg[KS_OWNER_MSG_MAX])
{
	const struct sc_crypto *cp = sc_crypto_sodium();
	struct ks_owner_challenge_resp ch;
	struct ks_owner_token_resp tr;
	uint8_t owner_pk[32], proof[KS_OWNER_PROOF_LEN], *resp = NULL;
	char ustr[37], body[64], why[KS_WHY_MAX], *ans = NULL;
	const uint8_t *rbody;
	size_t rlen;
	int r;

	msg[0] = '\0';
	if (owner_sk == NULL || uuid == NULL || acl == NULL || token == NULL)
		return SC_ERR_INVAL;
	sc_uuid_format(uuid, ustr);
	if ((r = cp->x25519_base(owner_pk, owner_sk)) != 0)
		return r;
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\"}", ustr);
	if ((r = post(u, body, timeout_ms, &resp, &rbody, &rlen, msg)) < 0)
		return r;
	r = ks_parse_owner_challenge_resp(rbody, rlen, &ch, why);
	free(resp);
	resp = NULL;
	if (r != KS_OK || memcmp(ch.uuid, uuid, KS_UUID_LEN) != 0) {
		snprintf(msg, KS_OWNER_MSG_MAX, "malformed challenge from the key"
		    " server%s%s", r != KS_OK ? ": " : " (for another VM)",
		    r != KS_OK ? why : "");
		return SC_ERR_FORMAT;
	}
	if ((r = sc_owner_proof(cp, owner_sk, ch.server_key, ch.server_key,
	    owner_pk, ch.nonce, uuid, acl, n, proof)) < 0) {
		snprintf(msg, KS_OWNER_MSG_MAX, "cannot answer the key server's"
		    " challenge: %s", sc_err(r));
		return r;
	}
	if ((ans = answer_body(ustr, ch.nonce, proof, acl, n)) == NULL)
		return SC_ERR_ALLOC;
	r = post(u, ans, timeout_ms, &resp, &rbody, &rlen, msg);
	free(ans);
	if (r < 0)
		return r;
	r = ks_parse_owner_token_resp(rbody, rlen, &tr, why);
	free(resp);
	if (r != KS_OK || memcmp(tr.uuid, uuid, KS_UUID_LEN) != 0) {
		snprintf(msg, KS_OWNER_MSG_MAX, "malformed token from the key"
		    " server%s%s", r != KS_OK ? ": " : " (for another VM)",
		    r != KS_OK ? why : "");
		return SC_ERR_FORMAT;
	}
	memcpy(token, tr.token, KS_OWNER_TOKEN_LEN);
	return 0;
}
