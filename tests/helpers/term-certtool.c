/*
 * certtool.c — term-certtool, test scaffolding (never installed): re-issue
 * a real VMM certificate with changed fields, signed with a key server's
 * own signing key (its state directory's signing.key), through lib/cert.h.
 * The integration tests use it for what a key server would never issue on
 * request: a certificate that has already expired, or one for a hypervisor
 * key the TPM never measured.
 *
 *   term-certtool SIGNING-KEY IN OUT [--expired] [--host NAME] [--other-hv-key]
 *
 * --expired: issued two hours ago, expired one hour ago.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cert.h"
#include "core/err.h"
#include "core/wire.h"
#include "io.h"
#include "keyfile.h"
#include "secmem.h"

static int
usage(void)
{
	fprintf(stderr, "usage: term-certtool SIGNING-KEY IN OUT [--expired] "
	    "[--host NAME] [--other-hv-key]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	unsigned char *in = NULL;
	uint8_t *sk = NULL, out[SC_CERT_MAX];
	size_t inlen = 0, sklen = 0, outlen = 0;
	struct sc_cert c;
	uint64_t now = (uint64_t)time(NULL);
	int i, r, code = 1;

	if (argc < 4)
		return usage();
	if (sc_lib_init() < 0)
		return 1;
	if ((r = sc_read_file(argv[2], SC_CERT_MAX, &in, &inlen)) < 0 ||
	    (r = sc_cert_parse(in, inlen, &c)) < 0) {
		fprintf(stderr, "term-certtool: %s: %s\n", argv[2], sc_err(r));
		goto out;
	}
	for (i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--expired") == 0) {
			c.issued = now - 7200;
			c.expires = now - 3600;
		} else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
			snprintf(c.host, sizeof(c.host), "%s", argv[++i]);
		} else if (strcmp(argv[i], "--other-hv-key") == 0) {
			randombytes_buf(c.hv_pubkey, sizeof(c.hv_pubkey));
		} else {
			code = usage();
			goto out;
		}
	}
	if ((r = sc_keyfile_read(argv[1], SC_KEY_KIND_SIGNING, NULL, &sk,
	    &sklen)) < 0 || sklen != SC_ED25519_SK_LEN) {
		fprintf(stderr, "term-certtool: %s: %s\n", argv[1],
		    r < 0 ? sc_err(r) : "not an Ed25519 secret key");
		goto out;
	}
	crypto_sign_ed25519_sk_to_pk(c.signer, sk);
	if ((r = sc_cert_sign(&c, sk, out, sizeof(out), &outlen)) < 0 ||
	    (r = sc_write_file_atomic(argv[3], out, outlen, 0644)) < 0) {
		fprintf(stderr, "term-certtool: %s: %s\n", argv[3], sc_err(r));
		goto out;
	}
	code = 0;
out:
	sc_secure_free(sk);
	free(in);
	return code;
}
