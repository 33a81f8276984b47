/*
 * platform.c — TPM PCR extend (tpm2-tss ESAPI) and LUKS2 volume-key checks
 * (libcryptsetup) for sccrypt-hvsim.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libcryptsetup.h>
#include <sodium.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "core/err.h"
#include "log.h"
#include "platform.h"

int
hvsim_pcr_extend(const char *tcti, unsigned pcr, const uint8_t pk[32],
    uint8_t value_out[32], char *err, size_t errsz)
{
	TSS2_TCTI_CONTEXT *tctx = NULL;
	ESYS_CONTEXT *ectx = NULL;
	TPML_DIGEST_VALUES dv;
	TPML_PCR_SELECTION sel, *sel_out = NULL;
	TPML_DIGEST *values = NULL;
	UINT32 counter;
	TSS2_RC rc;
	int r = SC_ERR_SYSTEM;

	if (pcr > 23) {
		snprintf(err, errsz, "PCR %u out of range", pcr);
		return SC_ERR_INVAL;
	}
	if ((rc = Tss2_TctiLdr_Initialize(tcti, &tctx)) != TSS2_RC_SUCCESS) {
		snprintf(err, errsz, "TCTI '%s': %s", tcti ? tcti : "(default)",
		    Tss2_RC_Decode(rc));
		goto out;
	}
	if ((rc = Esys_Initialize(&ectx, tctx, NULL)) != TSS2_RC_SUCCESS) {
		snprintf(err, errsz, "Esys_Initialize: %s", Tss2_RC_Decode(rc));
		goto out;
	}
	memset(&dv, 0, sizeof(dv));
	dv.count = 1;
	dv.digests[0].hashAlg = TPM2_ALG_SHA256;
	crypto_hash_sha256(dv.digests[0].digest.sha256, pk, 32);
	if ((rc = Esys_PCR_Extend(ectx, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &dv)) != TSS2_RC_SUCCESS) {
		snprintf(err, errsz, "PCR_Extend(%u): %s", pcr, Tss2_RC_Decode(rc));
		goto out;
	}
	if (value_out != NULL) {
		memset(&sel, 0, sizeof(sel));
		sel.count = 1;
		sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
		sel.pcrSelections[0].sizeofSelect = 3;
		sel.pcrSelections[0].pcrSelect[pcr / 8] = (BYTE)(1u << (pcr % 8));
		if ((rc = Esys_PCR_Read(ectx, ESYS_TR_NONE, ESYS_TR_NONE,
		    ESYS_TR_NONE, &sel, &counter, &sel_out, &values)) != TSS2_RC_SUCCESS ||
		    values->count != 1 || values->digests[0].size != 32) {
			snprintf(err, errsz, "PCR_Read(%u): %s", pcr,
			    rc != TSS2_RC_SUCCESS ? Tss2_RC_Decode(rc) : "unexpected answer");
			goto out;
		}
		memcpy(value_out, values->digests[0].buffer, 32);
	}
	r = 0;
out:
	Esys_Free(sel_out);
	Esys_Free(values);
	if (ectx != NULL)
		Esys_Finalize(&ectx);
	if (tctx != NULL)
		Tss2_TctiLdr_Finalize(&tctx);
	return r;
}

static void
cs_log(int level, const char *msg, void *usr)
{
	char line[256];
	size_t n;

	(void)usr;
	/* libcryptsetup's own messages: keep them, at debug level, on one line. */
	snprintf(line, sizeof(line), "%s", msg);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	sc_debug("libcryptsetup(%d): %s", level, line);
}

int
hvsim_disk_check(const char *path, const uint8_t *key, size_t len)
{
	struct crypt_device *cd = NULL;
	int r, rc;

	crypt_set_log_callback(NULL, cs_log, NULL);
	if ((rc = crypt_init(&cd, path)) < 0) {
		sc_warn("disk %s: crypt_init: %s", path, strerror(-rc));
		return SC_ERR_SYSTEM;
	}
	crypt_set_log_callback(cd, cs_log, NULL);
	if ((rc = crypt_load(cd, CRYPT_LUKS2, NULL)) < 0) {
		sc_warn("disk %s: not a readable LUKS2 image: %s", path, strerror(-rc));
		r = SC_ERR_SYSTEM;
		goto out;
	}
	if ((int)len != crypt_get_volume_key_size(cd)) {
		r = SC_ERR_DISKKEY;
		goto out;
	}
	rc = crypt_volume_key_verify(cd, (const char *)key, len);
	if (rc == 0)
		r = 0;
	else if (rc == -EPERM)
		r = SC_ERR_DISKKEY;
	else {
		sc_warn("disk %s: volume key check failed: %s", path, strerror(-rc));
		r = SC_ERR_SYSTEM;
	}
out:
	crypt_free(cd);
	return r;
}
