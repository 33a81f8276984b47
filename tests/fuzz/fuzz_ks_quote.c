/*
 * fuzz_ks_quote.c — libFuzzer harness for the key server's TPM structure
 * parsing: TPM2B_ATTEST/TPMS_ATTEST quotes, TPMT_SIGNATURE checks and
 * attestation key import (TPM2B_PUBLIC, DER, PEM).
 *
 * Input: quote_len:u16be quote[quote_len] signature[rest].  The signature
 * is checked against a fixed P-256 key; the corpus holds real swtpm quotes
 * re-signed with that key, so mutations reach past the signature check.
 * The whole input is also tried as an AK public key.
 * Invariants: a parsed quote's signed bytes lie inside the input; a
 * selection never names PCRs above 23; a key that imports re-imports from
 * its own DER form to the same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "ks_tpm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/* SubjectPublicKeyInfo of the fixed fuzzing key (P-256). */
static const uint8_t fuzz_spki[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00, 0x04, 0xb7, 0xf3, 0xd0, 0x91, 0x3f, 0xbc, 0x0d, 0x49, 0xe2,
	0x3e, 0x2c, 0x8a, 0x75, 0xab, 0x50, 0x6b, 0x51, 0x71, 0x9b, 0xf9, 0x03,
	0x88, 0x77, 0xcd, 0xcc, 0x03, 0xf1, 0x29, 0x07, 0xa7, 0xfd, 0x34, 0xc6,
	0x32, 0x1b, 0x38, 0xf3, 0x51, 0x80, 0xec, 0x26, 0x20, 0xe4, 0x4c, 0xc7,
	0x4b, 0x9e, 0x14, 0xf7, 0x43, 0x4d, 0x3b, 0x35, 0xa3, 0xc3, 0xf5, 0xb5,
	0xee, 0x33, 0xe3, 0x39, 0x7d, 0xfd, 0xee
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ks_tss2_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_quote q;
	uint8_t spki[KS_SPKI_MAX], spki2[KS_SPKI_MAX];
	char desc[16];
	size_t qlen, sl, sl2;
	const uint8_t *sig;
	int r, restricted;

	if (size >= 2) {
		qlen = (size_t)data[0] << 8 | data[1];
		if (qlen > size - 2)
			qlen = size - 2;
		sig = data + 2 + qlen;
		r = ks_quote_parse(data + 2, qlen, &q);
		if (r == 0) {
			if (q.signed_data < data + 2 ||
			    q.signed_data + q.signed_len > data + 2 + qlen ||
			    (q.pcr_mask >> KS_PCR_COUNT) != 0 ||
			    q.extra_len > sizeof(q.extra))
				abort();
			(void)ks_sig_verify(fuzz_spki, sizeof(fuzz_spki), sig,
			    size - 2 - qlen, q.signed_data, q.signed_len);
		} else {
			(void)ks_sig_verify(fuzz_spki, sizeof(fuzz_spki), sig,
			    size - 2 - qlen, data + 2, qlen);
		}
	}
	if (ks_ak_import(data, size, spki, sizeof(spki), &sl, &restricted, desc,
	    sizeof(desc)) == 0) {
		if (ks_ak_import(spki, sl, spki2, sizeof(spki2), &sl2, &restricted,
		    desc, sizeof(desc)) != 0 || sl2 != sl ||
		    memcmp(spki, spki2, sl) != 0)
			abort();
	}
	return 0;
}
