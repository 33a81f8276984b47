/*
 * ks-load.c — load client for the key server benchmark
 * (tests/bench/keyserver/run.sh).  Not a test: it measures.
 *
 *   ks-load enroll NAME KEYFILE          print an enrollment body for a
 *                                        software AK (P-256, saved to KEYFILE)
 *   ks-load fetch PORTS HOST SECONDS THREADS
 *                                        GET /v1/hosts/HOST/certificate on
 *                                        keep-alive connections
 *   ks-load attest PORTS HOST SECONDS THREADS KEYFILE
 *                                        nonce + quote + POST /v1/attest
 *   ks-load body HOST KEYFILE NONCEHEX   print one attest body (tests)
 *
 * PORTS is PORT or PORT,PORT (two key servers on one database): thread i
 * talks to port i mod 2 and, attesting, redeems its nonce at the other.
 *
 * The attest mode plays an honest host whose "TPM" is the software AK: it
 * builds each TPMS_ATTEST with tpm2-tss MU over the server's nonce and
 * signs it, so the figure is the server's verification and issuance rate,
 * not a TPM's quote rate (the run script measures that separately with
 * swtpm).  Output: "name value" lines.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <tss2/tss2_mu.h>

#include "io.h"
#include "secmem.h"
#include "ks/ks_req.h"
#include "ks_tpm.h"
#include "ks/at_http.h"

#define KEY_PCR		15
#define BUF_MAX		(64 * 1024)

static int ports[2], nports;
static const char *host;
static unsigned long long deadline;
static EVP_PKEY *ak;
static uint8_t hv_pk[32];

struct conn {
	int	 port;
	int	 fd;
	uint8_t	 buf[BUF_MAX];
	size_t	 have;
};

struct worker {
	pthread_t	t;
	int		id;
	int		attest;
	unsigned long	ok;
	unsigned long	fail;
};

static int
dial(struct conn *c, int port)
{
	struct sockaddr_in sin;
	int one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->have = 0;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* One request on the keep-alive connection; body copied to out. */
static int
request(struct conn *c, const char *method, const char *path, const char *json,
    char *out, size_t outsz)
{
	char hdr[512];
	const uint8_t *body;
	size_t blen, used;
	ssize_t n;
	int st, r, hl;

	if (c->fd < 0 && dial(c, c->port) < 0)
		return -1;
	hl = snprintf(hdr, sizeof(hdr), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Content-Length: %zu\r\n\r\n", method, path, json ? strlen(json) : 0);
	if (sc_write_all(c->fd, hdr, (size_t)hl) < 0 ||
	    (json && sc_write_all(c->fd, json, strlen(json)) < 0))
		goto reset;
	for (;;) {
		r = at_http_parse_response(c->buf, c->have, &st, &body, &blen);
		if (r == 0 && memmem(c->buf, c->have, "\r\n\r\n", 4) != NULL &&
		    (size_t)(body - c->buf) + blen <= c->have &&
		    memmem(c->buf, c->have, "Content-Length", 14) != NULL)
			break;
		if (r < 0 && r != -5 /* SC_ERR_TRUNCATED */)
			goto reset;
		if (c->have == sizeof(c->buf))
			goto reset;
		n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
		if (n <= 0)
			goto reset;
		c->have += (size_t)n;
	}
	if (out != NULL) {
		if (blen >= outsz)
			goto reset;
		memcpy(out, body, blen);
		out[blen] = '\0';
	}
	used = (size_t)(body - c->buf) + blen;
	memmove(c->buf, c->buf + used, c->have - used);
	c->have -= used;
	return st;
 reset:
	close(c->fd);
	c->fd = -1;
	return -1;
}

static char *
b64(const uint8_t *in, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(n);

	sodium_bin2base64(s, n, in, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* A quote over nonce for PCR 0 (zeros) and the key PCR, signed by ak. */
static char *
attest_body(const uint8_t nonce[32])
{
	static uint8_t zero[32];
	uint8_t pcrs[KS_PCR_COUNT][KS_DIGEST_LEN], quote[1024], sigbuf[256];
	unsigned char der[128];
	const unsigned char *p = der;
	size_t qlen = 0, slen = 0, dlen = sizeof(der);
	TPMS_ATTEST a;
	TPMT_SIGNATURE ts;
	EVP_MD_CTX *md;
	ECDSA_SIG *es;
	char *q64, *s64, *body, keyhex[65], zhex[65], hvhex[65];
	uint32_t mask = 1u | (1u << KEY_PCR);

	memset(pcrs, 0, sizeof(pcrs));
	ks_key_pcr_value(hv_pk, pcrs[KEY_PCR]);
	memset(&a, 0, sizeof(a));
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_QUOTE;
	a.extraData.size = 32;
	memcpy(a.extraData.buffer, nonce, 32);
	a.attested.quote.pcrSelect.count = 1;
	a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
	a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
	a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] = 1;
	a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[1] = 0x80;
	a.attested.quote.pcrDigest.size = 32;
	ks_pcr_composite(pcrs, mask, a.attested.quote.pcrDigest.buffer);
	if (Tss2_MU_TPMS_ATTEST_Marshal(&a, quote, sizeof(quote), &qlen) != 0)
		return NULL;
	md = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ak) != 1 ||
	    EVP_DigestSign(md, der, &dlen, quote, qlen) != 1)
		return NULL;
	EVP_MD_CTX_free(md);
	es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	memset(&ts, 0, sizeof(ts));
	ts.sigAlg = TPM2_ALG_ECDSA;
	ts.signature.ecdsa.hash = TPM2_ALG_SHA256;
	ts.signature.ecdsa.signatureR.size = 32;
	ts.signature.ecdsa.signatureS.size = 32;
	BN_bn2binpad(ECDSA_SIG_get0_r(es), ts.signature.ecdsa.signatureR.buffer, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), ts.signature.ecdsa.signatureS.buffer, 32);
	ECDSA_SIG_free(es);
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, sigbuf, sizeof(sigbuf), &slen) != 0)
		return NULL;
	q64 = b64(quote, qlen);
	s64 = b64(sigbuf, slen);
	sodium_bin2hex(keyhex, sizeof(keyhex), pcrs[KEY_PCR], 32);
	sodium_bin2hex(zhex, sizeof(zhex), zero, 32);
	sodium_bin2hex(hvhex, sizeof(hvhex), hv_pk, 32);
	if (asprintf(&body, "{\"host\":\"%s\",\"quote\":\"%s\",\"signature\":\"%s\","
	    "\"pcrs\":{\"0\":\"%s\",\"%d\":\"%s\"},\"hv_pubkey\":\"%s\"}", host,
	    q64, s64, zhex, KEY_PCR, keyhex, hvhex) < 0)
		body = NULL;
	free(q64);
	free(s64);
	return body;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct conn *c = calloc(1, sizeof(*c));
	struct conn *c2 = calloc(1, sizeof(*c2));
	struct ks_nonce_resp nr;
	char path[300], *resp = malloc(BUF_MAX), why[KS_WHY_MAX], *body;
	int st;

	c->fd = c2->fd = -1;
	c->port = ports[w->id % nports];
	c2->port = ports[(w->id + 1) % nports];
	snprintf(path, sizeof(path), "/v1/hosts/%s/certificate", host);
	while (sc_now_ms() < deadline) {
		if (!w->attest) {
			st = request(c, "GET", path, NULL, NULL, 0);
		} else {
			st = request(c, "GET", "/v1/nonce", NULL, resp, BUF_MAX);
			if (st != 200 || ks_parse_nonce_resp(resp, strlen(resp), &nr,
			    why) != KS_OK) {
				w->fail++;
				continue;
			}
			if ((body = attest_body(nr.nonce)) == NULL)
				break;
			st = request(c2, "POST", "/v1/attest", body, resp,
			    BUF_MAX);
			free(body);
		}
		if (st == 200)
			w->ok++;
		else
			w->fail++;
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c2->fd >= 0)
		close(c2->fd);
	free(c);
	free(c2);
	free(resp);
	return NULL;
}

static void
load_key(const char *path)
{
	FILE *f = fopen(path, "r");

	if (f == NULL || (ak = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "ks-load: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	struct worker *w;
	char *s_body, *comma;
	unsigned long ok = 0, fail = 0, secs;
	unsigned long long t0;
	int i, n;

	if (sc_lib_init() < 0)
		return 1;
	ks_tss2_quiet();
	memset(hv_pk, 0x5a, sizeof(hv_pk));
	if (argc == 4 && strcmp(argv[1], "enroll") == 0) {
		unsigned char der[256], *p = der;
		FILE *f;
		char *s;
		int len;

		ak = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if ((f = fopen(argv[3], "w")) == NULL ||
		    PEM_write_PrivateKey(f, ak, NULL, NULL, 0, NULL, NULL) != 1)
			return 1;
		fclose(f);
		len = i2d_PUBKEY(ak, &p);
		s = b64(der, (size_t)len);
		printf("{\"name\":\"%s\",\"insecure_ak\":true,\"ak_public\":\"%s\",\"policy\":{\"bank\":"
		    "\"sha256\",\"pcrs\":{\"0\":\"%064d\"},\"key_pcr\":%d}}\n",
		    argv[2], s, 0, KEY_PCR);
		free(s);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "body") == 0) {
		uint8_t nonce[32];
		size_t nl = 0;

		host = argv[2];
		load_key(argv[3]);
		if (sodium_hex2bin(nonce, sizeof(nonce), argv[4], strlen(argv[4]),
		    NULL, &nl, NULL) != 0 || nl != sizeof(nonce) ||
		    (s_body = attest_body(nonce)) == NULL)
			return 1;
		printf("%s\n", s_body);
		free(s_body);
		return 0;
	}
	if (argc < 6 || (strcmp(argv[1], "fetch") != 0 &&
	    !(strcmp(argv[1], "attest") == 0 && argc == 7))) {
		fprintf(stderr, "usage: see the comment at the top of ks-load.c\n");
		return 2;
	}
	ports[0] = atoi(argv[2]);
	nports = 1;
	if ((comma = strchr(argv[2], ',')) != NULL) {
		ports[1] = atoi(comma + 1);
		nports = 2;
		if (ports[1] <= 0)
			return 2;
	}
	host = argv[3];
	secs = strtoul(argv[4], NULL, 10);
	n = atoi(argv[5]);
	if (ports[0] <= 0 || secs == 0 || n <= 0 || n > 256)
		return 2;
	if (argc == 7)
		load_key(argv[6]);
	w = calloc((size_t)n, sizeof(*w));
	t0 = sc_now_ms();
	deadline = t0 + secs * 1000;
	for (i = 0; i < n; i++) {
		w[i].attest = argc == 7;
		w[i].id = i;
		pthread_create(&w[i].t, NULL, run, &w[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		ok += w[i].ok;
		fail += w[i].fail;
	}
	t0 = sc_now_ms() - t0;
	printf("%s_per_s %.1f\n", argc == 7 ? "attestations" : "cert_fetches",
	    (double)ok * 1000.0 / (double)t0);
	printf("%s_failed %lu\n", argc == 7 ? "attestations" : "cert_fetches", fail);
	free(w);
	EVP_PKEY_free(ak);
	return 0;
}
