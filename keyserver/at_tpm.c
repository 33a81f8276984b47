/*
 * at_tpm.c — TPM operations of sccrypt-attest over tpm2-tss ESAPI.
 *
 * The attestation key is a primary key of the endorsement hierarchy with
 * the attributes every TPM attestation key has (restricted, sign,
 * fixedTPM, fixedParent, sensitiveDataOrigin): a restricted key signs only
 * digests the TPM itself produced, so it cannot be made to sign a forged
 * TPMS_ATTEST.  It is persisted so every run uses the enrolled key.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "core/err.h"
#include "at_tpm.h"
#include "secmem.h"

struct at_tpm {
	TSS2_TCTI_CONTEXT	*tcti;
	ESYS_CONTEXT		*esys;
	TSS2_RC			 last;
	const char		*what;
};

static int
fail(struct at_tpm *t, const char *what, TSS2_RC rc)
{
	t->last = rc;
	t->what = what;
	return SC_ERR_SYSTEM;
}

const char *
at_tpm_error(const struct at_tpm *t)
{
	static __thread char buf[256];

	if (t == NULL || t->what == NULL)
		return "no error";
	snprintf(buf, sizeof(buf), "%s: %s", t->what,
	    t->last ? Tss2_RC_Decode(t->last) : "failed");
	return buf;
}

int
at_tpm_open(const char *tcti, struct at_tpm **out)
{
	struct at_tpm *t;
	TSS2_RC rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SC_ERR_ALLOC;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		free(t);
		return SC_ERR_NOTFOUND;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		free(t);
		return SC_ERR_SYSTEM;
	}
	*out = t;
	return 0;
}

void
at_tpm_close(struct at_tpm *t)
{
	if (t == NULL)
		return;
	if (t->esys != NULL)
		Esys_Finalize(&t->esys);
	if (t->tcti != NULL)
		Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

static void
selection(uint32_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = (uint8_t)(mask & 0xff);
	sel->pcrSelections[0].pcrSelect[1] = (uint8_t)((mask >> 8) & 0xff);
	sel->pcrSelections[0].pcrSelect[2] = (uint8_t)((mask >> 16) & 0xff);
}

static void
ak_template(int alg, TPM2B_PUBLIC *tmpl)
{
	TPMT_PUBLIC *p = &tmpl->publicArea;

	memset(tmpl, 0, sizeof(*tmpl));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
	    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
	if (alg == AT_AK_ECC) {
		p->type = TPM2_ALG_ECC;
		p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		p->parameters.eccDetail.scheme.details.ecdsa.hashAlg =
		    TPM2_ALG_SHA256;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		p->type = TPM2_ALG_RSA;
		p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->parameters.rsaDetail.scheme.scheme = alg == AT_AK_RSAPSS ?
		    TPM2_ALG_RSAPSS : TPM2_ALG_RSASSA;
		p->parameters.rsaDetail.scheme.details.rsassa.hashAlg =
		    TPM2_ALG_SHA256;
		p->parameters.rsaDetail.keyBits = 2048;
		p->parameters.rsaDetail.exponent = 0;
	}
}

static int
marshal_public(struct at_tpm *t, const TPM2B_PUBLIC *pub, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	size_t off = 0;
	TSS2_RC rc;

	rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out, outsz, &off);
	if (rc != TSS2_RC_SUCCESS)
		return fail(t, "marshal TPM2B_PUBLIC", rc);
	*outlen = off;
	return 0;
}

int
at_tpm_read_public(struct at_tpm *t, uint32_t handle, uint8_t *pub,
    size_t pubsz, size_t *publen)
{
	ESYS_TR obj = ESYS_TR_NONE;
	TPM2B_PUBLIC *out = NULL;
	TSS2_RC rc;
	int r;

	rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &obj);
	if (rc != TSS2_RC_SUCCESS) {
		(void)fail(t, "no key at the AK handle", rc);
		return SC_ERR_NOTFOUND;
	}
	rc = Esys_ReadPublic(t->esys, obj, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &out, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "ReadPublic", rc);
		goto done;
	}
	r = marshal_public(t, out, pub, pubsz, publen);
 done:
	Esys_Free(out);
	Esys_TR_Close(t->esys, &obj);
	return r;
}

int
at_tpm_create_ak(struct at_tpm *t, uint32_t handle, int alg, int force,
    uint8_t *pub, size_t pubsz, size_t *publen)
{
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_PUBLIC tmpl, *outpub = NULL;
	TPM2B_DATA outside;
	TPML_PCR_SELECTION creation_pcr;
	ESYS_TR key = ESYS_TR_NONE, old = ESYS_TR_NONE, persist = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	if (Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &old) == TSS2_RC_SUCCESS) {
		if (!force) {
			Esys_TR_Close(t->esys, &old);
			t->what = "the AK handle is already in use";
			t->last = 0;
			return SC_ERR_BUSY;
		}
		rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, old,
		    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, handle,
		    &persist);
		if (rc != TSS2_RC_SUCCESS) {
			Esys_TR_Close(t->esys, &old);
			return fail(t, "EvictControl (remove old AK)", rc);
		}
		/* EvictControl on a persistent object flushes old's ESYS_TR. */
		persist = ESYS_TR_NONE;
	}

	memset(&sens, 0, sizeof(sens));
	memset(&outside, 0, sizeof(outside));
	memset(&creation_pcr, 0, sizeof(creation_pcr));
	ak_template(alg, &tmpl);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr,
	    &key, &outpub, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return fail(t, "CreatePrimary (endorsement hierarchy)", rc);
	rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, key, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, handle, &persist);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "EvictControl (persist AK)", rc);
		goto out;
	}
	r = marshal_public(t, outpub, pub, pubsz, publen);
 out:
	if (persist != ESYS_TR_NONE)
		Esys_TR_Close(t->esys, &persist);
	Esys_FlushContext(t->esys, key);
	Esys_Free(outpub);
	return r;
}

int
at_tpm_pcr_read(struct at_tpm *t, uint32_t mask,
    uint8_t values[KS_PCR_COUNT][KS_DIGEST_LEN])
{
	TPML_PCR_SELECTION want, *got = NULL;
	TPML_DIGEST *digests = NULL;
	uint32_t left = mask, done_mask, counter;
	unsigned int i, k;
	TSS2_RC rc;

	/* A TPM returns at most 8 digests per read: repeat until done. */
	while (left != 0) {
		selection(left, &want);
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
		    ESYS_TR_NONE, &want, &counter, &got, &digests);
		if (rc != TSS2_RC_SUCCESS)
			return fail(t, "PCR_Read", rc);
		done_mask = 0;
		if (got->count == 1 && got->pcrSelections[0].hash == TPM2_ALG_SHA256)
			for (i = 0; i < KS_PCR_COUNT &&
			    i / 8 < got->pcrSelections[0].sizeofSelect; i++)
				if (got->pcrSelections[0].pcrSelect[i / 8] &
				    (1u << (i % 8)))
					done_mask |= 1u << i;
		k = 0;
		for (i = 0; i < KS_PCR_COUNT; i++) {
			if (!(done_mask & (1u << i)))
				continue;
			if (k >= digests->count ||
			    digests->digests[k].size != KS_DIGEST_LEN) {
				Esys_Free(got);
				Esys_Free(digests);
				t->what = "PCR_Read: unexpected answer";
				t->last = 0;
				return SC_ERR_FORMAT;
			}
			memcpy(values[i], digests->digests[k].buffer,
			    KS_DIGEST_LEN);
			k++;
		}
		Esys_Free(got);
		Esys_Free(digests);
		got = NULL;
		digests = NULL;
		if ((done_mask & left) == 0) {
			t->what = "PCR_Read: SHA-256 bank not allocated";
			t->last = 0;
			return SC_ERR_UNSUPPORTED;
		}
		left &= ~done_mask;
	}
	return 0;
}

int
at_tpm_quote(struct at_tpm *t, uint32_t handle, const uint8_t *nonce,
    size_t noncelen, uint32_t mask, uint8_t *quote, size_t quotesz,
    size_t *quotelen, uint8_t *sig, size_t sigsz, size_t *siglen)
{
	TPM2B_DATA qd;
	TPMT_SIG_SCHEME scheme;
	TPML_PCR_SELECTION sel;
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *signature = NULL;
	ESYS_TR ak = ESYS_TR_NONE;
	size_t off;
	TSS2_RC rc;
	int r;

	if (noncelen > sizeof(qd.buffer))
		return SC_ERR_TOOLONG;
	rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &ak);
	if (rc != TSS2_RC_SUCCESS) {
		(void)fail(t, "no AK at the AK handle (run --create-ak)", rc);
		return SC_ERR_NOTFOUND;
	}
	memset(&qd, 0, sizeof(qd));
	qd.size = (UINT16)noncelen;
	memcpy(qd.buffer, nonce, noncelen);
	memset(&scheme, 0, sizeof(scheme));
	scheme.scheme = TPM2_ALG_NULL;		/* the AK's own scheme */
	selection(mask, &sel);
	rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
	    &qd, &scheme, &sel, &quoted, &signature);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "Quote", rc);
		goto out;
	}
	off = 0;
	rc = Tss2_MU_TPM2B_ATTEST_Marshal(quoted, quote, quotesz, &off);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "marshal TPM2B_ATTEST", rc);
		goto out;
	}
	*quotelen = off;
	off = 0;
	rc = Tss2_MU_TPMT_SIGNATURE_Marshal(signature, sig, sigsz, &off);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "marshal TPMT_SIGNATURE", rc);
		goto out;
	}
	*siglen = off;
	r = 0;
 out:
	Esys_Free(quoted);
	Esys_Free(signature);
	Esys_TR_Close(t->esys, &ak);
	return r;
}

/* ---- EK: certificate and credential activation ---- */

#define NV_CHUNK	512	/* below every TPM's TPM_PT_NV_BUFFER_MAX */

int
at_tpm_ek_cert(struct at_tpm *t, uint8_t *cert, size_t certsz,
    size_t *certlen)
{
	ESYS_TR nv = ESYS_TR_NONE;
	TPM2B_NV_PUBLIC *pub = NULL;
	TPM2B_MAX_NV_BUFFER *data = NULL;
	uint16_t size, off = 0, n;
	TSS2_RC rc;
	int r;

	*certlen = 0;
	rc = Esys_TR_FromTPMPublic(t->esys, AT_EK_CERT_NV, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, &nv);
	if (rc != TSS2_RC_SUCCESS) {
		(void)fail(t, "no EK certificate in the TPM (NV 0x01c00002)", rc);
		return SC_ERR_NOTFOUND;
	}
	rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &pub, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "NV_ReadPublic (EK certificate)", rc);
		goto out;
	}
	size = pub->nvPublic.dataSize;
	if (size == 0 || size > certsz) {
		t->what = "EK certificate: empty or too large";
		t->last = 0;
		r = SC_ERR_NOSPACE;
		goto out;
	}
	while (off < size) {
		n = (uint16_t)(size - off < NV_CHUNK ? size - off : NV_CHUNK);
		/* The index authorises its own reads (TPMA_NV_AUTHREAD). */
		rc = Esys_NV_Read(t->esys, nv, nv, ESYS_TR_PASSWORD,
		    ESYS_TR_NONE, ESYS_TR_NONE, n, off, &data);
		if (rc != TSS2_RC_SUCCESS) {
			r = fail(t, "NV_Read (EK certificate)", rc);
			goto out;
		}
		if (data->size != n) {
			Esys_Free(data);
			t->what = "NV_Read: short read";
			t->last = 0;
			r = SC_ERR_FORMAT;
			goto out;
		}
		memcpy(cert + off, data->buffer, n);
		Esys_Free(data);
		off = (uint16_t)(off + n);
	}
	*certlen = size;
	r = 0;
 out:
	Esys_Free(pub);
	Esys_TR_Close(t->esys, &nv);
	return r;
}

/* TCG EK Credential Profile template L-1: RSA 2048, AES-128-CFB. */
static void
ek_template(TPM2B_PUBLIC *tmpl)
{
	/* PolicySecret(TPM_RH_ENDORSEMENT) */
	static const uint8_t policy[32] = {
		0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90,
		0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e,
		0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14,
		0x69, 0xaa,
	};
	TPMT_PUBLIC *p = &tmpl->publicArea;

	memset(tmpl, 0, sizeof(*tmpl));
	p->type = TPM2_ALG_RSA;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	p->authPolicy.size = sizeof(policy);
	memcpy(p->authPolicy.buffer, policy, sizeof(policy));
	p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
	p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
	p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	p->parameters.rsaDetail.keyBits = 2048;
	p->parameters.rsaDetail.exponent = 0;
	p->unique.rsa.size = 256;
}

int
at_tpm_activate(struct at_tpm *t, uint32_t handle, const uint8_t *blob,
    size_t blob_len, const uint8_t *enc, size_t enc_len, uint8_t *secret,
    size_t secretsz, size_t *secret_len)
{
	TPM2B_ID_OBJECT id;
	TPM2B_ENCRYPTED_SECRET es;
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_PUBLIC tmpl;
	TPM2B_DATA outside;
	TPML_PCR_SELECTION creation_pcr;
	TPMT_SYM_DEF sym;
	TPM2B_NONCE nonce_tpm, ref;
	TPM2B_DIGEST cphash, *got = NULL;
	ESYS_TR ak = ESYS_TR_NONE, ek = ESYS_TR_NONE, sess = ESYS_TR_NONE;
	size_t off;
	TSS2_RC rc;
	int r;

	*secret_len = 0;
	memset(&id, 0, sizeof(id));
	memset(&es, 0, sizeof(es));
	off = 0;
	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, &id) !=
	    TSS2_RC_SUCCESS || off != blob_len)
		return SC_ERR_FORMAT;
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc, enc_len, &off, &es) !=
	    TSS2_RC_SUCCESS || off != enc_len)
		return SC_ERR_FORMAT;

	rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &ak);
	if (rc != TSS2_RC_SUCCESS) {
		(void)fail(t, "no AK at the AK handle", rc);
		return SC_ERR_NOTFOUND;
	}
	memset(&sens, 0, sizeof(sens));
	memset(&outside, 0, sizeof(outside));
	memset(&creation_pcr, 0, sizeof(creation_pcr));
	ek_template(&tmpl);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr,
	    &ek, NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "CreatePrimary (EK)", rc);
		goto out;
	}
	memset(&sym, 0, sizeof(sym));
	sym.algorithm = TPM2_ALG_NULL;
	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym,
	    TPM2_ALG_SHA256, &sess);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "StartAuthSession (EK policy)", rc);
		goto out;
	}
	memset(&nonce_tpm, 0, sizeof(nonce_tpm));
	memset(&ref, 0, sizeof(ref));
	memset(&cphash, 0, sizeof(cphash));
	rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, sess,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce_tpm, &cphash,
	    &ref, 0, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "PolicySecret (endorsement)", rc);
		goto out;
	}
	rc = Esys_ActivateCredential(t->esys, ak, ek, ESYS_TR_PASSWORD, sess,
	    ESYS_TR_NONE, &id, &es, &got);
	if (rc != TSS2_RC_SUCCESS) {
		r = fail(t, "ActivateCredential", rc);
		goto out;
	}
	if (got->size == 0 || got->size > secretsz) {
		t->what = "ActivateCredential: unexpected secret size";
		t->last = 0;
		r = SC_ERR_NOSPACE;
		goto out;
	}
	memcpy(secret, got->buffer, got->size);
	*secret_len = got->size;
	r = 0;
 out:
	if (got != NULL) {
		sc_memzero(got, sizeof(*got));
		Esys_Free(got);
	}
	if (sess != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, sess);
	if (ek != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, ek);
	Esys_TR_Close(t->esys, &ak);
	return r;
}
