/*
 * ks_activate.c — EK-anchored AK enrollment (PROTOCOL.md §12.4.2), as
 * Keylime's registrar does it: the EK certificate must chain to the
 * configured manufacturer CA bundle; the server makes a TPM2 credential
 * for the AK's name under the certified EK; only the TPM that holds that
 * EK and has that AK loaded can recover the secret (ActivateCredential),
 * and until the secret comes back (once, before the challenge expires)
 * no quote from the AK is accepted.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "ks_core.h"
#include "ks_cred.h"
#include "secmem.h"

#define WHY(...)	snprintf(why, KS_WHY_MAX, __VA_ARGS__)

static int
store_fail(int r, char *why)
{
	WHY("%s", r == SC_ERR_AGAIN ? "database unavailable; retry later" :
	    "storage error");
	return r == SC_ERR_AGAIN ? KS_E_UNAVAILABLE : KS_E_INTERNAL;
}

int
ks_ek_challenge(struct ks_ctx *ctx, const struct ks_enroll_req *req,
    uint64_t now, struct ks_host *h, char why[KS_WHY_MAX])
{
	uint8_t spki[KS_SPKI_MAX], name[KS_AK_NAME_LEN];
	uint8_t secret[KS_ACT_SECRET_LEN];
	size_t spki_len = 0;
	int r;

	if (ctx->ek_bundle == NULL) {
		WHY("this key server has no EK CA bundle (--ek-ca-bundle)");
		return KS_E_EK_UNTRUSTED;
	}
	r = ks_ek_cert_check(req->ek_cert, req->ek_cert_len, ctx->ek_bundle,
	    ctx->ek_bundle_len, now, spki, sizeof(spki), &spki_len);
	if (r == SC_ERR_UNTRUSTED) {
		WHY("EK certificate does not chain to the EK CA bundle");
		return KS_E_EK_UNTRUSTED;
	}
	if (r < 0) {
		WHY("field 'ek_certificate' is not a usable X.509 certificate");
		return KS_E_EK_INVALID;
	}
	/* The credential is bound to the AK's TPM name: a TPM2B_PUBLIC. */
	if (!h->ak_restricted ||
	    ks_tpm_name(req->ak, req->ak_len, name) != 0) {
		WHY("with an EK certificate the AK must be a TPM2B_PUBLIC"
		    " (nameAlg SHA-256)");
		return KS_E_AK_INVALID;
	}
	randombytes_buf(secret, sizeof(secret));
	r = ks_make_credential(spki, spki_len, name, secret, sizeof(secret),
	    h->cred_blob, &h->cred_blob_len, h->cred_enc, &h->cred_enc_len);
	crypto_hash_sha256(h->act_digest, secret, sizeof(secret));
	sc_memzero(secret, sizeof(secret));
	if (r == SC_ERR_UNSUPPORTED || r == SC_ERR_BADKEY) {
		WHY("the EK must be RSA 2048 (TCG default template)");
		return KS_E_EK_INVALID;
	}
	if (r < 0) {
		WHY("cannot make the activation credential");
		return KS_E_INTERNAL;
	}
	h->ak_ek = 1;
	h->ak_activated = 0;
	h->act_expires = now + ctx->act_lifetime;
	return KS_OK;
}

int
ks_activation_get(struct ks_ctx *ctx, const char *host, uint64_t now,
    struct ks_host *h, char why[KS_WHY_MAX])
{
	int r;

	why[0] = '\0';
	r = ctx->store->host_get(ctx->store, host, h);
	if (r == SC_ERR_NOTFOUND) {
		WHY("host is not enrolled");
		return KS_E_UNKNOWN_HOST;
	}
	if (r < 0)
		return store_fail(r, why);
	if (h->revoked) {
		WHY("host has been revoked");
		return KS_E_REVOKED;
	}
	if (h->ak_activated || h->cred_blob_len == 0 || h->cred_enc_len == 0) {
		WHY("no activation challenge is pending for this host");
		return KS_E_NO_ACTIVATION;
	}
	if (h->act_expires <= now) {
		WHY("the activation challenge has expired; re-enroll the host");
		return KS_E_ACTIVATION_EXPIRED;
	}
	return KS_OK;
}

int
ks_activate(struct ks_ctx *ctx, const struct ks_activate_req *req,
    uint64_t now, char why[KS_WHY_MAX])
{
	uint8_t digest[KS_DIGEST_LEN];
	int r;

	why[0] = '\0';
	crypto_hash_sha256(digest, req->secret, sizeof(req->secret));
	r = ctx->store->host_activate(ctx->store, req->host, digest, now);
	switch (r) {
	case 0:
		return KS_OK;
	case SC_ERR_EXPIRED:
		WHY("the activation challenge has expired; re-enroll the host");
		return KS_E_ACTIVATION_EXPIRED;
	case SC_ERR_NOTFOUND:
	case SC_ERR_MISMATCH:
		/* One answer for both: no oracle on which hosts wait. */
		WHY("wrong secret, or no activation challenge pending (each"
		    " challenge takes one answer; re-enroll to get another)");
		return KS_E_ACTIVATION;
	default:
		return store_fail(r, why);
	}
}
