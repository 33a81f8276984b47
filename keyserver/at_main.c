/*
 * sccrypt-attest — dom0 agent: TPM quote -> key server -> VMM certificate.
 *
 * Gets the hv public key (hv ops socket or a file), a nonce from the key
 * server, a quote over the host's policy PCRs and the key PCR, posts them
 * and stores the certificate atomically where sccrypt-consoled reads it.
 * dom0 is not trusted: nothing here can make the key server certify a key
 * the TPM did not see measured.  See sccrypt-attest(8).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cert.h"
#include "core/err.h"
#include "io.h"
#include "encode.h"
#include "pubkey.h"
#include "log.h"
#include "secmem.h"
#include "ks/ks.h"
#include "ks/ks_req.h"
#include "ks/at_http.h"
#include "at_hv.h"
#include "at_tpm.h"

#define DEFAULT_HV_SOCKET	"/run/sccrypt/hvsim.sock"
#define DEFAULT_POLICY_PCRS	0x000000ffu	/* PCRs 0..7 */
#define DEFAULT_KEY_PCR		15
#define HVKEY_FILE_MAX		4096
#define RETRY_MIN		10	/* seconds between failed periodic runs */

struct opts {
	const char	*keyserver;
	const char	*host;
	const char	*tcti;
	const char	*hv_socket;
	const char	*hv_pubkey_file;
	const char	*cert_out;
	const char	*ks_pubkey_file;
	const char	*request_out;
	const char	*verify_cert;
	const char	*nonce_hex;
	uint32_t	 ak_handle;
	uint32_t	 pcr_mask;
	int		 have_pcrs;
	int		 key_pcr;	/* -1: ask the server / the hv */
	unsigned long	 interval;
	unsigned long	 timeout;
	int		 create_ak;
	int		 print_enroll;
	int		 insecure_ak;
	int		 activate;
	int		 ak_alg;
	int		 force;
	int		 verbose;
	int		 quiet;
	int		 syslog;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: sccrypt-attest [options] -k URL -o CERTFILE    attest once (or --interval)\n"
"       sccrypt-attest [options] --create-ak            provision the AK, print enrollment\n"
"       sccrypt-attest [options] --print-enrollment     print enrollment for the existing AK\n"
"       sccrypt-attest [options] -k URL --activate      answer the key server's AK challenge\n"
"       sccrypt-attest --verify-cert FILE -K KSPUB [-n HOST] [--hv-pubkey-file F]\n"
"  -k, --keyserver URL         http://HOST:PORT of sccrypt-keyserver\n"
"  -n, --host NAME             this host's enrolled name (default: hostname)\n"
"  -o, --cert-out PATH         where to store the certificate (consoled reads it)\n"
"  -K, --keyserver-pubkey F    pinned key server key: verify before storing\n"
"  -T, --tcti CONF             TCTI (default $TPM2TOOLS_TCTI, $TSS2_TCTI)\n"
"      --ak-handle HANDLE      persistent AK handle (default 0x%08x)\n"
"      --ak-alg ecc|rsa|rsapss AK algorithm for --create-ak (default ecc)\n"
"      --force                 --create-ak: replace a key at the handle\n"
"      --insecure-ak           enrollment without the TPM's EK certificate: the\n"
"                              key server trusts the AK on the operator's word\n"
"  -s, --hv-socket PATH        hypervisor ops socket (default " DEFAULT_HV_SOCKET ")\n"
"      --hv-pubkey-file F      hv public key from a file instead\n"
"      --pcrs LIST             policy PCRs (default: what the key server asks)\n"
"      --key-pcr N             key PCR (default: key server, else hv, else %d)\n"
"  -i, --interval SEC          re-attest every SEC seconds (default: once)\n"
"      --timeout SEC           network timeout (default 10)\n"
"      --request-out FILE      write the attestation request, do not post it\n"
"      --nonce HEX             use this nonce instead of asking (testing)\n"
"      --syslog                log to syslog\n"
"  -v, --verbose / -q, --quiet\n"
"  -h, --help / -V, --version\n",
	    AT_AK_HANDLE_DEFAULT, DEFAULT_KEY_PCR);
	exit(status);
}

static unsigned long
num(const char *s, const char *what, unsigned long min, unsigned long max)
{
	unsigned long v;

	if (sc_parse_ulong(s, 0, min, max, &v) != 0)
		sc_die(SC_EXIT_USAGE, "%s must be a number %lu..%lu", what, min, max);
	return v;
}

/* hv key file: 32 raw bytes, 64 hex digits, or "sccrypt-x25519 BASE64". */
static int
read_hv_pubkey(const char *path, uint8_t pk[32])
{
	unsigned char *data = NULL;
	char text[HVKEY_FILE_MAX + 1];
	size_t len = 0;
	int r;

	if ((r = sc_read_file(path, HVKEY_FILE_MAX, &data, &len)) < 0)
		return r;
	if (len == 32) {
		memcpy(pk, data, 32);
		free(data);
		return 0;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	free(data);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' '))
		text[--len] = '\0';
	if (len == 64)
		return sc_hex_decode(text, pk, 32) < 0 ? SC_ERR_FORMAT : 0;
	return sc_pubkey_parse(SC_PUBKEY_PREFIX, text, pk) < 0 ?
	    SC_ERR_FORMAT : 0;
}

static int
get_hv_key(const struct opts *o, uint8_t pk[32], int *hv_pcr)
{
	uint32_t idx = 0;
	int r;

	*hv_pcr = -1;
	if (o->hv_pubkey_file != NULL) {
		if ((r = read_hv_pubkey(o->hv_pubkey_file, pk)) < 0)
			sc_error_r(r, "hv public key file %s", o->hv_pubkey_file);
		return r;
	}
	r = at_hv_get_info(o->hv_socket, (unsigned int)o->timeout * 1000, pk,
	    &idx);
	if (r < 0) {
		sc_error_r(r, "cannot get the hv public key from %s", o->hv_socket);
		return r;
	}
	if (idx < KS_PCR_COUNT)
		*hv_pcr = (int)idx;
	return 0;
}

static json_t *
pcr_object(uint32_t mask, const uint8_t values[KS_PCR_COUNT][KS_DIGEST_LEN])
{
	json_t *o = json_object();
	char key[4], hex[2 * KS_DIGEST_LEN + 1];
	unsigned int i;

	for (i = 0; o != NULL && i < KS_PCR_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		snprintf(key, sizeof(key), "%u", i);
		sodium_bin2hex(hex, sizeof(hex), values[i], KS_DIGEST_LEN);
		json_object_set_new(o, key, json_string(hex));
	}
	return o;
}

/* Report a non-2xx answer of the key server. */
static void
report_refusal(const char *what, int status, const uint8_t *body, size_t len)
{
	struct ks_error_resp e;

	if (ks_parse_error_resp(body, len, &e) == KS_OK)
		sc_error("%s refused by the key server (HTTP %d %s): %s", what,
		    status, e.code, e.message);
	else
		sc_error("%s: key server answered HTTP %d", what, status);
}

static int
open_tpm(const struct opts *o, struct at_tpm **t)
{
	int r = at_tpm_open(o->tcti, t);

	if (r < 0)
		sc_error_r(r, "cannot open the TPM (TCTI %s)",
		    o->tcti ? o->tcti : "default");
	return r;
}

/* --create-ak / --print-enrollment: JSON body for POST /v1/hosts. */
static int
enrollment(const struct opts *o)
{
	uint8_t pub[AT_AKPUB_MAX], values[KS_PCR_COUNT][KS_DIGEST_LEN];
	struct at_tpm *t = NULL;
	uint32_t mask = o->have_pcrs ? o->pcr_mask : DEFAULT_POLICY_PCRS;
	int key_pcr = o->key_pcr >= 0 ? o->key_pcr : DEFAULT_KEY_PCR;
	size_t publen = 0;
	uint8_t *ek = NULL;
	size_t eklen = 0;
	char *pub64 = NULL, *ek64 = NULL, *s;
	json_t *j;
	int r;

	mask &= ~(1u << key_pcr);
	if ((r = open_tpm(o, &t)) < 0)
		return r;
	/* The EK certificate first: without one, no AK is created either. */
	if (!o->insecure_ak) {
		if ((ek = malloc(AT_EK_CERT_MAX)) == NULL) {
			r = SC_ERR_ALLOC;
			goto out;
		}
		if ((r = at_tpm_ek_cert(t, ek, AT_EK_CERT_MAX, &eklen)) < 0) {
			sc_error("%s; --insecure-ak enrolls the AK without it",
			    at_tpm_error(t));
			goto out;
		}
	}
	if (o->create_ak) {
		r = at_tpm_create_ak(t, o->ak_handle, o->ak_alg, o->force, pub,
		    sizeof(pub), &publen);
		if (r == 0)
			sc_info("created the attestation key at handle 0x%08x",
			    o->ak_handle);
	} else {
		r = at_tpm_read_public(t, o->ak_handle, pub, sizeof(pub), &publen);
	}
	if (r < 0) {
		sc_error("%s", at_tpm_error(t));
		goto out;
	}
	memset(values, 0, sizeof(values));
	if ((r = at_tpm_pcr_read(t, mask, values)) < 0) {
		sc_error("%s", at_tpm_error(t));
		goto out;
	}
	if ((pub64 = sc_base64_strdup(pub, publen)) == NULL ||
	    (ek != NULL && (ek64 = sc_base64_strdup(ek, eklen)) == NULL)) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	/* The current PCR values become the golden policy: review them. */
	j = json_pack("{s:s, s:s, s:{s:s, s:o, s:i}}", "name", o->host,
	    "ak_public", pub64, "policy", "bank", "sha256",
	    "pcrs", pcr_object(mask, values), "key_pcr", key_pcr);
	if (j != NULL && ek64 != NULL)
		json_object_set_new(j, "ek_certificate", json_string(ek64));
	else if (j != NULL) {
		sc_warn("--insecure-ak: the key server will trust this AK"
		    " without proof that it lives in a genuine TPM");
		json_object_set_new(j, "insecure_ak", json_true());
	}
	if (j == NULL || (s = json_dumps(j, JSON_INDENT(2))) == NULL) {
		json_decref(j);
		r = SC_ERR_ALLOC;
		goto out;
	}
	json_decref(j);
	printf("%s\n", s);
	free(s);
	r = 0;
 out:
	free(pub64);
	free(ek64);
	free(ek);
	at_tpm_close(t);
	return r;
}

/*
 * --activate: fetch the key server's credential for this host's AK, let
 * the TPM recover the secret (only the TPM with the certified EK holding
 * this AK can) and send it back; then the key server accepts the AK.
 */
static int
activate(const struct opts *o, const struct at_url *url)
{
	struct ks_activation_resp ar;
	struct at_tpm *t = NULL;
	uint8_t secret[KS_ACT_SECRET_LEN], *resp = NULL;
	char path[64 + KS_HOST_MAX], why[KS_WHY_MAX];
	char s64[sodium_base64_ENCODED_LEN(KS_ACT_SECRET_LEN,
	    sodium_base64_VARIANT_ORIGINAL)];
	char *body = NULL;
	const uint8_t *rbody;
	size_t rlen, slen = 0;
	unsigned int tmo = (unsigned int)o->timeout * 1000;
	int status, r;
	json_t *j;

	snprintf(path, sizeof(path), "/v1/hosts/%s/activation", o->host);
	if ((r = at_http_request(url, "GET", path, NULL, 0, tmo, &resp,
	    &status, &rbody, &rlen)) < 0) {
		sc_error_r(r, "cannot reach the key server");
		return r;
	}
	if (status != 200) {
		report_refusal("activation challenge", status, rbody, rlen);
		r = SC_ERR_UNTRUSTED;
		goto out;
	}
	if ((r = ks_parse_activation_resp(rbody, rlen, &ar, why)) != KS_OK) {
		sc_error("bad activation challenge from the key server: %s", why);
		r = SC_ERR_FORMAT;
		goto out;
	}
	free(resp);
	resp = NULL;
	if ((r = open_tpm(o, &t)) < 0)
		goto out;
	if ((r = at_tpm_activate(t, o->ak_handle, ar.blob, ar.blob_len, ar.enc,
	    ar.enc_len, secret, sizeof(secret), &slen)) < 0) {
		sc_error("the TPM cannot activate the credential: %s",
		    r == SC_ERR_FORMAT ? "malformed challenge" : at_tpm_error(t));
		goto out;
	}
	if (slen != sizeof(secret)) {
		sc_error("the activated secret has %zu bytes, not %d", slen,
		    KS_ACT_SECRET_LEN);
		r = SC_ERR_FORMAT;
		goto out;
	}
	sodium_bin2base64(s64, sizeof(s64), secret, slen,
	    sodium_base64_VARIANT_ORIGINAL);
	j = json_pack("{s:s, s:s}", "host", o->host, "secret", s64);
	sc_memzero(s64, sizeof(s64));
	if (j == NULL || (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		r = SC_ERR_ALLOC;
		goto out;
	}
	json_decref(j);
	r = at_http_request(url, "POST", "/v1/activate", body, strlen(body),
	    tmo, &resp, &status, &rbody, &rlen);
	if (r < 0) {
		sc_error_r(r, "cannot reach the key server");
		goto out;
	}
	if (status != 200) {
		report_refusal("activation", status, rbody, rlen);
		r = SC_ERR_UNTRUSTED;
		goto out;
	}
	sc_info("the key server accepted the AK of %s: activated", o->host);
	r = 0;
 out:
	sc_memzero(secret, sizeof(secret));
	if (body != NULL) {
		sc_memzero(body, strlen(body));
		free(body);
	}
	at_tpm_close(t);
	free(resp);
	return r;
}

static int
load_ks_pubkey(const char *path, uint8_t pk[32])
{
	int r = sc_pubkey_read_file(SC_KSKEY_PREFIX, path, pk);

	if (r < 0)
		sc_error_r(r, "key server public key %s", path);
	return r;
}

static int
verify_and_store(const struct opts *o, const uint8_t *cert, size_t len,
    const uint8_t hv_pk[32])
{
	uint8_t kspk[32];
	struct sc_cert c;
	int r;

	if (o->ks_pubkey_file != NULL) {
		if ((r = load_ks_pubkey(o->ks_pubkey_file, kspk)) < 0)
			return r;
		r = sc_cert_verify(cert, len, kspk, o->host, hv_pk,
		    (uint64_t)time(NULL), &c);
		if (r < 0) {
			sc_error("certificate from the key server does not verify:"
			    " %s; not stored", sc_err(r));
			return r;
		}
	} else if ((r = sc_cert_parse(cert, len, &c)) < 0) {
		sc_error_r(r, "certificate from the key server is malformed");
		return r;
	}
	if ((r = sc_write_file_atomic(o->cert_out, cert, len, 0644)) < 0) {
		sc_error_r(r, "cannot write %s", o->cert_out);
		return r;
	}
	sc_info("certificate for %s stored in %s, valid until %llu (%lld s)",
	    c.host, o->cert_out, (unsigned long long)c.expires,
	    (long long)c.expires - (long long)time(NULL));
	return 0;
}

static int
attest_once(const struct opts *o, const struct at_url *url)
{
	uint8_t hv_pk[32], quote[KS_QUOTE_MAX], sig[KS_SIG_MAX];
	uint8_t values[KS_PCR_COUNT][KS_DIGEST_LEN];
	struct ks_nonce_resp nr;
	struct ks_cert_resp cr;
	struct at_tpm *t = NULL;
	char path[64 + KS_HOST_MAX], why[KS_WHY_MAX], hvhex[65];
	char *q64 = NULL, *s64 = NULL, *body = NULL;
	uint8_t *resp = NULL;
	const uint8_t *rbody;
	size_t rlen, qlen = 0, slen = 0;
	uint32_t mask;
	int status, r, hv_pcr, key_pcr;
	unsigned int tmo = (unsigned int)o->timeout * 1000;
	json_t *j;

	if ((r = get_hv_key(o, hv_pk, &hv_pcr)) < 0)
		return r;

	/*
	 * Nonce.  Servers before issue 13 also said which PCRs they expect;
	 * current ones do not (that would tell anyone), so the PCRs come from
	 * the options, then the hv, then the defaults.
	 */
	memset(&nr, 0, sizeof(nr));
	if (o->nonce_hex != NULL) {
		if (sc_hex_decode(o->nonce_hex, nr.nonce, sizeof(nr.nonce)) < 0)
			sc_die(SC_EXIT_USAGE, "--nonce must be %d hex digits", 2 * KS_NONCE_LEN);
	} else {
		snprintf(path, sizeof(path), "/v1/nonce");
		r = at_http_request(url, "GET", path, NULL, 0, tmo, &resp, &status,
		    &rbody, &rlen);
		if (r < 0) {
			sc_error_r(r, "cannot reach the key server");
			return r;
		}
		if (status != 200) {
			report_refusal("nonce request", status, rbody, rlen);
			r = SC_ERR_UNTRUSTED;
			goto out;
		}
		if ((r = ks_parse_nonce_resp(rbody, rlen, &nr, why)) != KS_OK) {
			sc_error("bad nonce answer from the key server: %s", why);
			r = SC_ERR_FORMAT;
			goto out;
		}
		free(resp);
		resp = NULL;
	}
	key_pcr = o->key_pcr >= 0 ? o->key_pcr : nr.have_policy ?
	    (int)nr.key_pcr : hv_pcr >= 0 ? hv_pcr : DEFAULT_KEY_PCR;
	if (hv_pcr >= 0 && hv_pcr != key_pcr)
		sc_warn("the hv measured its key into PCR %d but PCR %d is"
		    " quoted as the key PCR", hv_pcr, key_pcr);
	mask = o->have_pcrs ? o->pcr_mask : nr.have_policy ? nr.pcr_mask :
	    DEFAULT_POLICY_PCRS;
	mask |= 1u << key_pcr;

	if ((r = open_tpm(o, &t)) < 0)
		goto out;
	if ((r = at_tpm_quote(t, o->ak_handle, nr.nonce, sizeof(nr.nonce), mask,
	    quote, sizeof(quote), &qlen, sig, sizeof(sig), &slen)) < 0 ||
	    (r = at_tpm_pcr_read(t, mask, values)) < 0) {
		sc_error("%s", at_tpm_error(t));
		goto out;
	}

	sodium_bin2hex(hvhex, sizeof(hvhex), hv_pk, sizeof(hv_pk));
	if ((q64 = sc_base64_strdup(quote, qlen)) == NULL ||
	    (s64 = sc_base64_strdup(sig, slen)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "host", o->host,
	    "quote", q64, "signature", s64, "bank", "sha256",
	    "pcrs", pcr_object(mask, values), "hv_pubkey", hvhex);
	if (j == NULL || (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		r = SC_ERR_ALLOC;
		goto out;
	}
	json_decref(j);

	if (o->request_out != NULL) {
		r = sc_write_file_atomic(o->request_out, body, strlen(body), 0644);
		if (r < 0)
			sc_error_r(r, "cannot write %s", o->request_out);
		else
			sc_info("attestation request written to %s",
			    o->request_out);
		goto out;
	}

	r = at_http_request(url, "POST", "/v1/attest", body, strlen(body), tmo,
	    &resp, &status, &rbody, &rlen);
	if (r < 0) {
		sc_error_r(r, "cannot reach the key server");
		goto out;
	}
	if (status != 200) {
		report_refusal("attestation", status, rbody, rlen);
		r = SC_ERR_UNTRUSTED;
		goto out;
	}
	if ((r = ks_parse_cert_resp(rbody, rlen, &cr, why)) != KS_OK) {
		sc_error("bad attestation answer from the key server: %s", why);
		r = SC_ERR_FORMAT;
		goto out;
	}
	r = verify_and_store(o, cr.cert, cr.cert_len, hv_pk);
 out:
	at_tpm_close(t);
	free(resp);
	free(body);
	free(q64);
	free(s64);
	return r;
}

/* --verify-cert: check a stored certificate as a client would. */
static int
verify_cert_file(const struct opts *o)
{
	uint8_t kspk[32], hv[32], *cert = NULL;
	char hvhex[65], digest[65];
	struct sc_cert c;
	size_t len = 0;
	int r;

	if (o->ks_pubkey_file == NULL)
		sc_die(SC_EXIT_USAGE, "--verify-cert needs --keyserver-pubkey");
	if (load_ks_pubkey(o->ks_pubkey_file, kspk) < 0)
		return 1;
	if (o->hv_pubkey_file != NULL &&
	    (r = read_hv_pubkey(o->hv_pubkey_file, hv)) < 0) {
		sc_error_r(r, "hv public key file %s", o->hv_pubkey_file);
		return 1;
	}
	if ((r = sc_read_file(o->verify_cert, KS_CERT_MAX, &cert, &len)) < 0) {
		sc_error_r(r, "%s", o->verify_cert);
		return 1;
	}
	r = sc_cert_verify(cert, len, kspk, o->host,
	    o->hv_pubkey_file ? hv : NULL, (uint64_t)time(NULL), &c);
	free(cert);
	if (r < 0) {
		sc_error_r(r, "%s: certificate does not verify", o->verify_cert);
		return 1;
	}
	sodium_bin2hex(hvhex, sizeof(hvhex), c.hv_pubkey, 32);
	sodium_bin2hex(digest, sizeof(digest), c.pcr_digest, 32);
	printf("host %s\nhv_pubkey %s\npcr_digest %s\nissued %llu\nexpires %llu\n",
	    c.host, hvhex, digest, (unsigned long long)c.issued,
	    (unsigned long long)c.expires);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keyserver", required_argument, NULL, 'k' },
		{ "host", required_argument, NULL, 'n' },
		{ "cert-out", required_argument, NULL, 'o' },
		{ "keyserver-pubkey", required_argument, NULL, 'K' },
		{ "tcti", required_argument, NULL, 'T' },
		{ "hv-socket", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "ak-handle", required_argument, NULL, 1 },
		{ "ak-alg", required_argument, NULL, 2 },
		{ "force", no_argument, NULL, 3 },
		{ "hv-pubkey-file", required_argument, NULL, 4 },
		{ "pcrs", required_argument, NULL, 5 },
		{ "key-pcr", required_argument, NULL, 6 },
		{ "timeout", required_argument, NULL, 7 },
		{ "request-out", required_argument, NULL, 8 },
		{ "nonce", required_argument, NULL, 9 },
		{ "create-ak", no_argument, NULL, 10 },
		{ "print-enrollment", no_argument, NULL, 11 },
		{ "verify-cert", required_argument, NULL, 12 },
		{ "syslog", no_argument, NULL, 13 },
		{ "insecure-ak", no_argument, NULL, 14 },
		{ "activate", no_argument, NULL, 15 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static char hostname[KS_HOST_MAX + 1];
	struct opts o;
	struct at_url url;
	struct sigaction sa;
	unsigned long wait;
	int c, r;

	memset(&o, 0, sizeof(o));
	o.ak_handle = AT_AK_HANDLE_DEFAULT;
	o.ak_alg = AT_AK_ECC;
	o.key_pcr = -1;
	o.timeout = 10;
	o.hv_socket = DEFAULT_HV_SOCKET;
	sc_log_init(argv[0], SC_LOG_INFO, SC_LOG_TO_STDERR);
	while ((c = getopt_long(argc, argv, "k:n:o:K:T:s:i:vqhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'k': o.keyserver = optarg; break;
		case 'n': o.host = optarg; break;
		case 'o': o.cert_out = optarg; break;
		case 'K': o.ks_pubkey_file = optarg; break;
		case 'T': o.tcti = optarg; break;
		case 's': o.hv_socket = optarg; break;
		case 'i': o.interval = num(optarg, "--interval", 10, 86400); break;
		case 1: o.ak_handle = (uint32_t)num(optarg, "--ak-handle",
		    0x81000000UL, 0x81FFFFFFUL); break;
		case 2:
			if (strcmp(optarg, "ecc") == 0)
				o.ak_alg = AT_AK_ECC;
			else if (strcmp(optarg, "rsa") == 0)
				o.ak_alg = AT_AK_RSA;
			else if (strcmp(optarg, "rsapss") == 0)
				o.ak_alg = AT_AK_RSAPSS;
			else
				sc_die(SC_EXIT_USAGE, "--ak-alg must be ecc, rsa or rsapss");
			break;
		case 3: o.force = 1; break;
		case 4: o.hv_pubkey_file = optarg; break;
		case 5:
			if (ks_pcr_list_parse(optarg, &o.pcr_mask) < 0)
				sc_die(SC_EXIT_USAGE, "--pcrs must be a list like 0,1,2,7");
			o.have_pcrs = 1;
			break;
		case 6: o.key_pcr = (int)num(optarg, "--key-pcr", 0,
		    KS_PCR_COUNT - 1); break;
		case 7: o.timeout = num(optarg, "--timeout", 1, 600); break;
		case 8: o.request_out = optarg; break;
		case 9: o.nonce_hex = optarg; break;
		case 10: o.create_ak = 1; break;
		case 11: o.print_enroll = 1; break;
		case 12: o.verify_cert = optarg; break;
		case 13: o.syslog = 1; break;
		case 14: o.insecure_ak = 1; break;
		case 15: o.activate = 1; break;
		case 'v': o.verbose++; break;
		case 'q': o.quiet = 1; break;
		case 'h': usage(0);
		case 'V': sc_print_version("sccrypt-attest"); exit(0);
		default: usage(SC_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(SC_EXIT_USAGE);
	sc_log_init(argv[0], o.quiet ? SC_LOG_WARN : SC_LOG_INFO + o.verbose,
	    o.syslog ? SC_LOG_TO_SYSLOG : SC_LOG_TO_STDERR);
	if (sc_lib_init() < 0)
		sc_die(1, "cannot initialise libsodium");
	/* TPM session secrets and the AK's use must not end up in a core file. */
	if (sc_disable_core_dumps() < 0)
		sc_die(1, "cannot disable core dumps");
	if (o.tcti == NULL && (o.tcti = getenv("TPM2TOOLS_TCTI")) == NULL)
		o.tcti = getenv("TSS2_TCTI");
	if (getenv("TSS2_LOG") == NULL)
		setenv("TSS2_LOG", o.verbose > 1 ? "all+WARNING" : "all+NONE", 0);
	if (o.host == NULL) {
		if (gethostname(hostname, sizeof(hostname) - 1) < 0)
			sc_die(1, "cannot get the host name; use --host");
		o.host = hostname;
	}
	if (!ks_host_valid(o.host))
		sc_die(SC_EXIT_USAGE, "invalid host name \"%s\"", o.host);

	if (o.verify_cert != NULL)
		return verify_cert_file(&o);
	if (o.create_ak || o.print_enroll)
		return enrollment(&o) < 0 ? 1 : 0;

	if (o.keyserver == NULL)
		sc_die(SC_EXIT_USAGE, "--keyserver is required");
	if ((r = at_url_parse(o.keyserver, &url)) < 0)
		sc_die(SC_EXIT_USAGE, "bad key server URL %s (want http://HOST:PORT)",
		    o.keyserver);
	signal(SIGPIPE, SIG_IGN);
	if (o.activate)
		return activate(&o, &url) < 0 ? 1 : 0;
	if (o.cert_out == NULL && o.request_out == NULL)
		sc_die(SC_EXIT_USAGE, "--cert-out is required");
	if (o.ks_pubkey_file == NULL && o.request_out == NULL)
		sc_warn("no --keyserver-pubkey: the certificate is stored"
		    " without checking who signed it");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		r = attest_once(&o, &url);
		if (o.interval == 0 || stop)
			break;
		/* Retry a failure sooner, but never hammer the server. */
		wait = r < 0 ? (o.interval < RETRY_MIN * 6 ? o.interval :
		    RETRY_MIN * 6) : o.interval;
		while (wait-- > 0 && !stop)
			sleep(1);
		if (stop)
			break;
	}
	return r < 0 ? 1 : 0;
}
