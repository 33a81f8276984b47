/*
 * ks_mkcred.c — test helper (not a test): ks_make_credential from files,
 * output in tpm2-tools' credential file format (what
 * `tpm2_activatecredential -i` reads), so tests/integration/ks-cred.sh
 * can have a real TPM (swtpm) activate what the key server made.
 *
 *   ks_mkcred EK.der AK.pub(TPM2B_PUBLIC) SECRET OUT
 *   ks_mkcred -c EKCERT.der CABUNDLE.pem EK.der
 *       check the EK certificate against the bundle (exit 3 if untrusted)
 *       and write the EK public key it certifies
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "ks_cred.h"

static size_t
slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	static const uint8_t hdr[8] = { 0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1 };
	uint8_t ek[2048], ak[1024], sec[64], name[KS_AK_NAME_LEN];
	uint8_t blob[KS_CRED_BLOB_MAX], enc[KS_CRED_ENC_MAX];
	size_t ekl, akl, sl, bl, el;
	FILE *f;
	int r;

	if (argc != 5 || sodium_init() < 0)
		return 2;
	if (strcmp(argv[1], "-c") == 0) {
		static uint8_t cert[8192], pem[65536];
		size_t cl = slurp(argv[2], cert, sizeof(cert));
		size_t pl = slurp(argv[3], pem, sizeof(pem));

		r = ks_ek_cert_check(cert, cl, (const char *)pem, pl, 0, ek,
		    sizeof(ek), &ekl);
		if (r < 0) {
			fprintf(stderr, "ks_mkcred: EK certificate: error %d\n", r);
			return r == SC_ERR_UNTRUSTED ? 3 : 1;
		}
		if ((f = fopen(argv[4], "wb")) == NULL ||
		    fwrite(ek, 1, ekl, f) != ekl || fclose(f) != 0)
			return 1;
		return 0;
	}
	ekl = slurp(argv[1], ek, sizeof(ek));
	akl = slurp(argv[2], ak, sizeof(ak));
	sl = slurp(argv[3], sec, sizeof(sec));
	if ((r = ks_tpm_name(ak, akl, name)) < 0 ||
	    (r = ks_make_credential(ek, ekl, name, sec, sl, blob, &bl, enc,
	    &el)) < 0) {
		fprintf(stderr, "ks_mkcred: error %d\n", r);
		return 1;
	}
	if ((f = fopen(argv[4], "wb")) == NULL ||
	    fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    fwrite(blob, 1, bl, f) != bl || fwrite(enc, 1, el, f) != el ||
	    fclose(f) != 0)
		return 1;
	return 0;
}
