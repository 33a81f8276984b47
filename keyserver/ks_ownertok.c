/*
 * ks_ownertok.c — the tenant's self-service ownership token (ks_core.h,
 * PROTOCOL.md §12.10): the operator registers VM uuid -> owner key; the
 * tenant proves possession of that key in a challenge (single-use nonce
 * and ephemeral X25519 key, kept in the store like the attestation
 * nonces) and gets the token the owner CA signs (in the signing process)
 * for exactly the ACL it proved.
 *
 * Every refusal after the nonce is consumed has one code and one message
 * (wrong key, VM not registered, registered key not an owner of the ACL,
 * answer for another VM than the challenge), and an unregistered VM is
 * checked against a random key in the same steps, so the answer says
 * nothing about which VMs are registered or to which key.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "core/owner.h"
#include "ks_core.h"

#define WHY(...)	snprintf(why, KS_WHY_MAX, __VA_ARGS__)
#define PROOF_WHY	"proof does not verify (wrong key, VM not registered" \
			" to it, or an answer for another VM or ACL)"

static int
store_fail(int r)
{
	return r == SC_ERR_AGAIN ? KS_E_UNAVAILABLE : KS_E_INTERNAL;
}

static int
enabled(struct ks_ctx *ctx, char why[KS_WHY_MAX])
{
	if (ctx->signer == NULL || !ctx->signer->have_owner_ca ||
	    ctx->signer->sign_owner == NULL) {
		WHY("ownership tokens are not enabled on this server");
		return 0;
	}
	return 1;
}

int
ks_owner_register(struct ks_ctx *ctx, const struct ks_owner_reg_req *req,
    uint64_t now, int *outcome, char why[KS_WHY_MAX])
{
	int r;

	why[0] = '\0';
	*outcome = -1;
	if (!enabled(ctx, why))
		return KS_E_NOT_FOUND;
	r = ctx->store->owner_put(ctx->store, req->uuid, req->owner_key,
	    req->replace, now);
	if (r == SC_ERR_BUSY) {
		WHY("the VM is registered to another key; \"replace\": true"
		    " moves it");
		return KS_E_OWNER_EXISTS;
	}
	if (r < 0) {
		WHY("%s", r == SC_ERR_AGAIN ? "database unavailable; retry later" :
		    "storage error");
		return store_fail(r);
	}
	*outcome = r;
	return KS_OK;
}

int
ks_owner_challenge(struct ks_ctx *ctx, const uint8_t uuid[KS_UUID_LEN],
    const char *peer, uint64_t now, struct ks_owner_challenge_resp *out,
    char why[KS_WHY_MAX])
{
	uint8_t *eph_sk;
	int r;

	why[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (!enabled(ctx, why))
		return KS_E_NOT_FOUND;
	if ((eph_sk = sodium_malloc(KS_X25519_LEN)) == NULL)
		return KS_E_INTERNAL;
	randombytes_buf(eph_sk, KS_X25519_LEN);
	randombytes_buf(out->nonce, KS_NONCE_LEN);
	memcpy(out->uuid, uuid, KS_UUID_LEN);
	out->expires = now + ctx->nonce_lifetime;
	if (crypto_scalarmult_curve25519_base(out->server_key, eph_sk) != 0) {
		sodium_free(eph_sk);
		return KS_E_INTERNAL;
	}
	/* Same table, quotas and eviction as the attestation nonces. */
	r = ctx->store->challenge_put(ctx->store, out->nonce, uuid, eph_sk, peer,
	    out->expires, now, ctx->max_nonces, ctx->max_nonces_per_peer);
	sodium_free(eph_sk);
	if (r == SC_ERR_LIMIT) {
		WHY("too many outstanding nonces for this address; use or let"
		    " them expire");
		return KS_E_QUOTA;
	}
	if (r == SC_ERR_ALLOC || r == SC_ERR_BUSY) {
		WHY("too many outstanding nonces; retry later");
		return KS_E_BUSY;
	}
	if (r < 0) {
		WHY("%s", r == SC_ERR_AGAIN ? "database unavailable; retry later" :
		    "storage error");
		return store_fail(r);
	}
	return KS_OK;
}

/* Scratch with secrets, in guarded memory. */
struct answer_tmp {
	uint8_t			eph_sk[KS_X25519_LEN];
	uint8_t			eph_pk[KS_X25519_LEN];
	uint8_t			owner[KS_X25519_LEN];
	uint8_t			uuid[KS_UUID_LEN];
	uint8_t			want[KS_OWNER_PROOF_LEN];
	struct sc_acl_entry	acl[KS_OWNER_ACL_MAX];
};

int
ks_owner_answer(struct ks_ctx *ctx, const struct ks_owner_token_req *req,
    uint64_t now, uint8_t token[KS_OWNER_TOKEN_LEN], char why[KS_WHY_MAX])
{
	struct answer_tmp *t;
	unsigned int i;
	int r, bad = 0, in_acl = 0;

	why[0] = '\0';
	if (!enabled(ctx, why))
		return KS_E_NOT_FOUND;
	if (!req->answer || req->acl_count == 0 ||
	    req->acl_count > KS_OWNER_ACL_MAX) {
		WHY("not an answer");
		return KS_E_BAD_FIELD;
	}
	if ((t = sodium_malloc(sizeof(*t))) == NULL)
		return KS_E_INTERNAL;
	memset(t, 0, sizeof(*t));
	/* Consumed now, whatever the outcome: one answer per challenge. */
	r = ctx->store->challenge_take(ctx->store, req->nonce, now, t->uuid,
	    t->eph_sk);
	if (r == SC_ERR_NOTFOUND) {
		WHY("nonce not issued by this server, or already used");
		r = KS_E_OWNER_PROOF;
		goto out;
	}
	if (r == SC_ERR_EXPIRED) {
		WHY("nonce expired");
		r = KS_E_NONCE_EXPIRED;
		goto out;
	}
	if (r < 0) {
		WHY("%s", r == SC_ERR_AGAIN ? "database unavailable; retry later" :
		    "storage error");
		r = store_fail(r);
		goto out;
	}
	r = ctx->store->owner_get(ctx->store, req->uuid, t->owner);
	if (r == SC_ERR_NOTFOUND) {
		/* Same work with a key nobody holds: no registration oracle. */
		randombytes_buf(t->owner, sizeof(t->owner));
		bad = 1;
	} else if (r < 0) {
		WHY("%s", r == SC_ERR_AGAIN ? "database unavailable; retry later" :
		    "storage error");
		r = store_fail(r);
		goto out;
	}
	bad |= sodium_memcmp(t->uuid, req->uuid, KS_UUID_LEN) != 0;
	for (i = 0; i < req->acl_count; i++) {
		memcpy(t->acl[i].pubkey, req->acl[i].key, KS_X25519_LEN);
		t->acl[i].flags = req->acl[i].flags;
		in_acl |= (req->acl[i].flags & SC_ACL_F_OWNER) &&
		    sodium_memcmp(req->acl[i].key, t->owner, KS_X25519_LEN) == 0;
	}
	bad |= !in_acl;
	if (crypto_scalarmult_curve25519_base(t->eph_pk, t->eph_sk) != 0 ||
	    sc_owner_proof(sc_crypto_sodium(), t->eph_sk, t->owner, t->eph_pk,
	    t->owner, req->nonce, req->uuid, t->acl, req->acl_count,
	    t->want) != 0)
		bad = 1;	/* e.g. a low-order registered key: nobody proves it */
	bad |= sodium_memcmp(t->want, req->proof, KS_OWNER_PROOF_LEN) != 0;
	if (bad) {
		WHY(PROOF_WHY);
		r = KS_E_OWNER_PROOF;
		goto out;
	}
	r = ctx->signer->sign_owner(ctx->signer, req->uuid, t->acl,
	    req->acl_count, token);
	if (r < 0) {
		WHY("the signer refused the ownership token");
		r = KS_E_INTERNAL;
		goto out;
	}
	r = KS_OK;
 out:
	sodium_free(t);		/* wipes: eph_sk, expected proof */
	return r;
}
