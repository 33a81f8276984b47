/*
 * fuzz_ks_cred.c — libFuzzer harness for what an enrollment with an EK
 * brings from outside: the EK certificate (DER, checked against a fixed
 * one-certificate bundle) and the AK's TPM2B_PUBLIC (its TPM name).
 *
 * Input: selector:u8, then the bytes.  Selector bit 0: EK certificate,
 * else TPM2B_PUBLIC.  Invariants: nothing but the bundle's CA itself is
 * accepted (its private key was thrown away, so any other accepted input
 * would be a forgery); a name is computed only for a fully consumed
 * SHA-256 TPM2B_PUBLIC and is deterministic.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "ks_cred.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/* A real CA whose private key was thrown away: nothing may verify to it. */
static const char bundle[] =
"-----BEGIN CERTIFICATE-----\n"
"MIIBfTCCASOgAwIBAgIUedbV0v+vbbswb+i2mXdwno5p+/gwCgYIKoZIzj0EAwIw\n"
"FDESMBAGA1UEAwwJZnV6ei1ub2NhMB4XDTI2MTIwNzEwMjgwMloXDTM2MTIwNDEw\n"
"MjgwMlowFDESMBAGA1UEAwwJZnV6ei1ub2NhMFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
"AQcDQgAE7b5XXYR6fSdNdTzxcdBy9j9qEC46i0aLOYQDjkhGDiHWG557VP1ds3Lm\n"
"nbch2lrOPhAjQukca9h/EDj2talrJKNTMFEwHQYDVR0OBBYEFEU2QISfeZk2EPnF\n"
"8m6CyZ5uXA0RMB8GA1UdIwQYMBaAFEU2QISfeZk2EPnF8m6CyZ5uXA0RMA8GA1Ud\n"
"EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAMYCOx8THJNCQo8F53LS0zT2\n"
"1eJuO8e6b6vXDZKMbJb3AiA7jhf/orIkP5q+BM/pjMX37+I6XW26io+rBXYbooNr\n"
"9w==\n"
"-----END CERTIFICATE-----\n";

static uint8_t ca_spki[256];
static size_t ca_spki_len;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----\n";
	const char *b64 = bundle + sizeof(begin) - 1;
	uint8_t der[1024];
	size_t len;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 ||
	    sodium_base642bin(der, sizeof(der), b64, strcspn(b64, "-"), "\n",
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    ks_ek_cert_check(der, len, bundle, sizeof(bundle) - 1, 0, ca_spki,
	    sizeof(ca_spki), &ca_spki_len) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t spki[1024], n1[KS_AK_NAME_LEN], n2[KS_AK_NAME_LEN];
	size_t len;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (ks_ek_cert_check(data + 1, size - 1, bundle, sizeof(bundle) - 1,
		    0, spki, sizeof(spki), &len) == 0 &&
		    (len != ca_spki_len || memcmp(spki, ca_spki, len) != 0))
			abort();
		return 0;
	}
	if (ks_tpm_name(data + 1, size - 1, n1) == 0) {
		if (ks_tpm_name(data + 1, size - 1, n2) != 0 ||
		    memcmp(n1, n2, sizeof(n1)) != 0 || n1[0] != 0 || n1[1] != 0x0b)
			abort();
	}
	return 0;
}
