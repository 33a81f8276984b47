/*
 * ks_core.c — the key server's decisions: nonces, enrollment, the
 * attestation check and certificate issuance.
 *
 * The attestation check runs in a fixed order (PROTOCOL.md §12
 * §attestation); the first failing step decides the error, and no step
 * after a failure runs, so a certificate exists only if every check passed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "ks_core.h"

#define WHY(...)	snprintf(why, KS_WHY_MAX, __VA_ARGS__)

/* A storage failure: the database unreachable (503) or anything else. */
static int
store_fail(int r)
{
	return r == SC_ERR_AGAIN ? KS_E_UNAVAILABLE : KS_E_INTERNAL;
}

#define STORE_WHY(r)	WHY("%s", (r) == SC_ERR_AGAIN ? \
			    "database unavailable; retry later" : "storage error")

int
ks_nonce_issue(struct ks_ctx *ctx, const char *peer, uint64_t now,
    uint8_t nonce[KS_NONCE_LEN], uint64_t *expires)
{
	int r;

	randombytes_buf(nonce, KS_NONCE_LEN);
	*expires = now + ctx->nonce_lifetime;
	r = ctx->store->nonce_put(ctx->store, nonce, peer, *expires, now,
	    ctx->max_nonces, ctx->max_nonces_per_peer);
	if (r == SC_ERR_LIMIT)
		return KS_E_QUOTA;
	if (r == SC_ERR_ALLOC || r == SC_ERR_BUSY)
		return KS_E_BUSY;
	return r < 0 ? store_fail(r) : KS_OK;
}

int
ks_enroll(struct ks_ctx *ctx, const struct ks_enroll_req *req, uint64_t now,
    struct ks_host *h, char why[KS_WHY_MAX])
{
	int r;

	why[0] = '\0';
	memset(h, 0, sizeof(*h));
	if ((r = ks_policy_check(&req->policy, why)) != KS_OK)
		return r;
	memcpy(h->name, req->name, sizeof(h->name));
	r = ks_ak_import(req->ak, req->ak_len, h->ak_spki, sizeof(h->ak_spki),
	    &h->ak_spki_len, &h->ak_restricted, h->ak_desc, sizeof(h->ak_desc));
	switch (r) {
	case 0:
		break;
	case SC_ERR_UNSUPPORTED:
		WHY("AK must be ECC NIST P-256 (ECDSA/SHA-256) or RSA 2048..4096"
		    " (RSASSA/RSAPSS, SHA-256)");
		return KS_E_AK_INVALID;
	case SC_ERR_BADKEY:
		WHY("AK is not a valid restricted signing key");
		return KS_E_AK_INVALID;
	default:
		WHY("AK is not a TPM2B_PUBLIC, DER or PEM public key");
		return KS_E_AK_INVALID;
	}
	h->policy = req->policy;
	h->enrolled = now;
	if (req->ek_cert_len > 0) {
		if ((r = ks_ek_challenge(ctx, req, now, h, why)) != KS_OK)
			return r;
	} else if (req->insecure_ak) {
		h->ak_activated = 1;	/* the operator vouches for it */
	} else {
		WHY("an AK needs an EK certificate or \"insecure_ak\": true");
		return KS_E_BAD_FIELD;
	}
	r = ctx->store->host_add(ctx->store, h);
	if (r == SC_ERR_BUSY) {
		WHY("host is already enrolled (delete it first)");
		return KS_E_HOST_EXISTS;
	}
	if (r < 0)
		STORE_WHY(r);
	return r < 0 ? store_fail(r) : KS_OK;
}

int
ks_evidence_check(const struct ks_host *h, const struct ks_attest_req *req,
    const struct ks_quote *q, int *bad_pcr, char why[KS_WHY_MAX])
{
	uint8_t digest[KS_DIGEST_LEN], keyval[KS_DIGEST_LEN];
	char list[3 * KS_PCR_COUNT];
	uint32_t want;
	unsigned int i;
	int r;

	/* 0. The enrolled policy can protect a key (older enrollments). */
	if (ks_policy_check(&h->policy, why) != KS_OK)
		return KS_E_PCR_POLICY;

	/* 1. The AK signed exactly these quote bytes. */
	r = ks_sig_verify(h->ak_spki, h->ak_spki_len, req->sig, req->sig_len,
	    q->signed_data, q->signed_len);
	switch (r) {
	case 0:
		break;
	case SC_ERR_FORMAT:
		WHY("signature is not a well-formed TPMT_SIGNATURE");
		return KS_E_SIG_MALFORMED;
	case SC_ERR_UNSUPPORTED:
		WHY("signature must be ECDSA, RSASSA or RSAPSS with SHA-256");
		return KS_E_SIG_UNSUPPORTED;
	case SC_ERR_MISMATCH:
		WHY("signature algorithm does not match the enrolled AK");
		return KS_E_SIG_INVALID;
	case SC_ERR_SIGNATURE:
		WHY("quote signature does not verify with the enrolled AK");
		return KS_E_SIG_INVALID;
	default:
		WHY("enrolled AK is unusable");
		return KS_E_INTERNAL;
	}

	/* 2. The quote covers exactly the policy PCRs plus the key PCR. */
	/* (Said only now: the AK, so the enrolled host, signed the quote.) */
	want = h->policy.pcr_mask | (1u << h->policy.key_pcr);
	if (q->pcr_mask != want) {
		ks_pcr_list_format(h->policy.pcr_mask, list, sizeof(list));
		WHY("quote must select exactly the policy PCRs %s and key PCR %u",
		    list, h->policy.key_pcr);
		return KS_E_PCR_SELECTION;
	}
	if (req->pcr_mask != want) {
		WHY("posted PCR values must be exactly those of the quote");
		return KS_E_PCR_SELECTION;
	}

	/* 3. The posted values are the ones the TPM quoted. */
	ks_pcr_composite(req->pcrs, want, digest);
	if (sodium_memcmp(digest, q->pcr_digest, KS_DIGEST_LEN) != 0) {
		WHY("posted PCR values do not match the quote's PCR digest");
		return KS_E_PCR_DIGEST;
	}

	/* 4. The boot chain is the golden one. */
	for (i = 0; i < KS_PCR_COUNT; i++) {
		if (!(h->policy.pcr_mask & (1u << i)))
			continue;
		if (sodium_memcmp(req->pcrs[i], h->policy.pcrs[i],
		    KS_DIGEST_LEN) != 0) {
			*bad_pcr = (int)i;
			WHY("PCR %u differs from the host's golden policy", i);
			return KS_E_PCR_POLICY;
		}
	}

	/* 5. The key PCR holds exactly one extend with H(posted hv key). */
	ks_key_pcr_value(req->hv_pubkey, keyval);
	if (sodium_memcmp(req->pcrs[h->policy.key_pcr], keyval,
	    KS_DIGEST_LEN) != 0) {
		WHY("key PCR %u is not the extend of the posted hv public key",
		    h->policy.key_pcr);
		return KS_E_KEY_PCR;
	}
	return KS_OK;
}

int
ks_attest(struct ks_ctx *ctx, const struct ks_attest_req *req, uint64_t now,
    uint8_t *cert, size_t certsz, size_t *certlen,
    struct ks_attest_info *info, char why[KS_WHY_MAX])
{
	struct ks_host *h = NULL;
	struct sc_cert c;
	int r, hr;

	why[0] = '\0';
	*certlen = 0;
	memset(info, 0, sizeof(*info));
	info->bad_pcr = -1;

	/*
	 * Look the host up first so the caller knows whether this attempt
	 * concerns an enrolled host (audit rows exist only for those); the
	 * answer still follows the fixed order below.
	 */
	if ((h = malloc(sizeof(*h))) == NULL) {
		WHY("out of memory");
		return KS_E_INTERNAL;
	}
	hr = ctx->store->host_get(ctx->store, req->host, h);
	info->enrolled = hr == 0;

	switch (ks_quote_parse(req->quote, req->quote_len, &info->quote)) {
	case 0:
		break;
	case SC_ERR_MAGIC:
		WHY("quote is not TPM-generated (bad magic)");
		r = KS_E_QUOTE_INVALID;
		goto out;
	case SC_ERR_TYPE:
		WHY("attestation structure is not a quote");
		r = KS_E_QUOTE_INVALID;
		goto out;
	case SC_ERR_UNSUPPORTED:
		WHY("quote must select PCRs 0..23 of the SHA-256 bank only");
		r = KS_E_PCR_SELECTION;
		goto out;
	default:
		WHY("quote is not a well-formed TPM2B_ATTEST or TPMS_ATTEST");
		r = KS_E_QUOTE_MALFORMED;
		goto out;
	}
	info->quote_parsed = 1;

	/* The nonce is spent by this attempt, whatever comes next. */
	r = ctx->store->nonce_take(ctx->store, info->quote.extra,
	    info->quote.extra_len, now);
	if (r == SC_ERR_EXPIRED) {
		WHY("nonce has expired; get a fresh one");
		r = KS_E_NONCE_EXPIRED;
		goto out;
	}
	if (r == SC_ERR_NOTFOUND) {
		WHY("quote's nonce was not issued by this server or was already"
		    " used");
		r = KS_E_NONCE;
		goto out;
	}
	if (r < 0) {
		STORE_WHY(r);
		r = store_fail(r);
		goto out;
	}

	r = hr;
	if (r == SC_ERR_NOTFOUND) {
		WHY("host is not enrolled");
		r = KS_E_UNKNOWN_HOST;
		goto out;
	}
	if (r < 0) {
		STORE_WHY(r);
		r = store_fail(r);
		goto out;
	}
	if (h->revoked) {
		WHY("host has been revoked");
		r = KS_E_REVOKED;
		goto out;
	}
	if (!h->ak_activated) {
		WHY("the AK has not answered its activation challenge");
		r = KS_E_AK_NOT_ACTIVATED;
		goto out;
	}
	if ((r = ks_evidence_check(h, req, &info->quote, &info->bad_pcr,
	    why)) != KS_OK)
		goto out;

	/* The signer checks the evidence again before it signs. */
	c.issued = now;
	c.expires = now + ctx->cert_lifetime;
	if ((r = ctx->signer->sign(ctx->signer, h, req, c.issued, c.expires,
	    cert, certsz, certlen)) < 0) {
		WHY("the signer refused (%s)", sc_err(r));
		*certlen = 0;
		r = KS_E_INTERNAL;
		goto out;
	}
	r = ctx->store->cert_put(ctx->store, h, cert, *certlen, c.issued,
	    c.expires);
	if (r == SC_ERR_NOTFOUND) {
		/* Revoked, deleted or re-enrolled since we looked it up. */
		*certlen = 0;
		WHY("host was revoked or re-enrolled during this attestation");
		r = KS_E_REVOKED;
		goto out;
	}
	if (r < 0) {
		*certlen = 0;
		STORE_WHY(r);
		r = store_fail(r);
		goto out;
	}
	info->issued = c.issued;
	info->expires = c.expires;
	r = KS_OK;
 out:
	free(h);
	return r;
}

int
ks_sign_check(const struct ks_host *h, const struct ks_attest_req *req,
    uint64_t issued, uint64_t expires, uint64_t now, uint64_t max_lifetime,
    struct sc_cert *c)
{
	struct ks_quote q;
	char why[KS_WHY_MAX];
	int bad_pcr = -1;

	memset(c, 0, sizeof(*c));
	if (issued + KS_SIGN_SKEW < now || issued > now + KS_SIGN_SKEW ||
	    expires <= issued || expires - issued > max_lifetime)
		return SC_ERR_INVAL;
	if (strcmp(h->name, req->host) != 0)
		return SC_ERR_MISMATCH;
	if (ks_quote_parse(req->quote, req->quote_len, &q) < 0 ||
	    ks_evidence_check(h, req, &q, &bad_pcr, why) != KS_OK)
		return SC_ERR_UNTRUSTED;
	snprintf(c->host, sizeof(c->host), "%s", h->name);
	memcpy(c->hv_pubkey, req->hv_pubkey, sizeof(c->hv_pubkey));
	memcpy(c->pcr_digest, q.pcr_digest, sizeof(c->pcr_digest));
	c->issued = issued;
	c->expires = expires;
	return 0;
}

int
ks_attest_record(struct ks_ctx *ctx, const struct ks_attest_req *req,
    int result, const struct ks_attest_info *info, uint64_t now)
{
	struct ks_attest_log lg;

	if (!info->enrolled)
		return 0;
	memset(&lg, 0, sizeof(lg));
	memcpy(lg.host, req->host, sizeof(lg.host));
	lg.time = now;
	lg.result = result;
	lg.reset_count = info->quote.reset_count;
	lg.restart_count = info->quote.restart_count;
	return ctx->store->log_attest(ctx->store, &lg, KS_AUDIT_PER_HOST);
}

int
ks_cert_fetch(struct ks_ctx *ctx, const char *host, uint64_t now,
    uint8_t *cert, size_t certsz, size_t *certlen, uint64_t *expires)
{
	struct ks_host *h;
	int r;

	*certlen = 0;
	if ((h = malloc(sizeof(*h))) == NULL)
		return KS_E_INTERNAL;
	r = ctx->store->host_get(ctx->store, host, h);
	if (r == SC_ERR_NOTFOUND) {
		r = KS_E_UNKNOWN_HOST;
		goto out;
	}
	if (r < 0) {
		r = store_fail(r);
		goto out;
	}
	if (h->revoked) {
		r = KS_E_REVOKED;
		goto out;
	}
	r = ctx->store->cert_get(ctx->store, host, cert, certsz, certlen,
	    expires);
	if (r == SC_ERR_NOTFOUND || (r == 0 && *expires <= now)) {
		*certlen = 0;
		r = KS_E_NO_CERT;
		goto out;
	}
	r = r < 0 ? store_fail(r) : KS_OK;
 out:
	free(h);
	return r;
}

int
ks_revoke(struct ks_ctx *ctx, const char *host, uint64_t now)
{
	int r = ctx->store->host_revoke(ctx->store, host, now);

	if (r == SC_ERR_NOTFOUND)
		return KS_E_UNKNOWN_HOST;
	return r < 0 ? store_fail(r) : KS_OK;
}

int
ks_delete(struct ks_ctx *ctx, const char *host)
{
	int r = ctx->store->host_delete(ctx->store, host);

	if (r == SC_ERR_NOTFOUND)
		return KS_E_UNKNOWN_HOST;
	return r < 0 ? store_fail(r) : KS_OK;
}
