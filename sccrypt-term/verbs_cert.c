/*
 * verbs_cert.c — sccrypt-term's cert and keyserver verbs: show and verify
 * a VMM certificate, show and pin the key server's key (see sccrypt-term(1)).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "app.h"
#include "cert.h"
#include "secmem.h"
#include "core/err.h"
#include "encode.h"
#include "io.h"
#include "log.h"
#include "pubkey.h"
#include "verbs.h"
#include "verbs_int.h"

/* A certificate file: binary (starts with "SCC1") or base64 text. */
static int
read_cert(const char *path, uint8_t *out, size_t outsz, size_t *outlen)
{
	unsigned char *data = NULL;
	size_t n = 0, bin = 0;
	int r;

	if ((r = sc_read_file(path, 4 * SC_CERT_MAX, &data, &n)) < 0)
		return r;
	if (n >= 4 && memcmp(data, SC_CERT_MAGIC, 4) == 0) {
		if (n > outsz) {
			free(data);
			return SC_ERR_TOOLONG;
		}
		memcpy(out, data, n);
		*outlen = n;
		free(data);
		return 0;
	}
	r = sodium_base642bin(out, outsz, (const char *)data, n, " \t\r\n", &bin,
	    NULL, sodium_base64_VARIANT_ORIGINAL);
	free(data);
	if (r != 0)
		return SC_ERR_FORMAT;
	*outlen = bin;
	return 0;
}

static void
print_time(const char *label, uint64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		printf("  %-10s %s (%llu)\n", label, buf, (unsigned long long)t);
	else
		printf("  %-10s %llu\n", label, (unsigned long long)t);
}

int
verb_cert(struct app *a, int argc, char **argv)
{
	uint8_t buf[SC_CERT_MAX];
	struct sc_cert c;
	char fp[SC_FINGERPRINT_LEN], hex[65], host[4 * 255 + 1];
	size_t len = 0;
	bool verify;
	int r;

	if (argc < 3 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "verify") != 0))
		goto usage;
	verify = strcmp(argv[1], "verify") == 0;
	{
		const struct verb_opt opts[] = {
			{ "--host", &a->host, NULL }, { NULL, NULL, NULL },
		};

		if (verb_opts(argc, argv, 3, opts) != 0)
			goto usage;
	}
	if ((r = read_cert(argv[2], buf, sizeof(buf), &len)) < 0) {
		sc_report_r(r, "%s", argv[2]);
		return EXIT_LOCAL;
	}
	if ((r = sc_cert_parse(buf, len, &c)) < 0) {
		sc_report_r(r, "%s: not a VMM certificate",
		    argv[2]);
		return verify ? EXIT_VERIFY : EXIT_LOCAL;
	}
	if ((r = app_load_keys(a, false)) != 0)
		return r;
	sc_sanitize(host, sizeof(host), c.host, strlen(c.host));
	printf("VMM certificate %s\n  host       %s\n", argv[2], host);
	sc_fingerprint(c.hv_pubkey, 32, fp);
	printf("  hv key     %s\n", fp);
	sc_hex_encode(c.pcr_digest, 32, hex, sizeof(hex));
	printf("  pcrs       %s\n", hex);
	print_time("issued", c.issued);
	print_time("expires", c.expires);
	sc_fingerprint(c.signer, 32, fp);
	printf("  signer     %s%s\n", fp, !a->pol.have_ks ? " (no key server pinned)" :
	    sc_memeq_ct(c.signer, a->pol.ks_pubkey, 32) == 0 ? " (pinned key server)" :
	    " (NOT the pinned key server)");
	if (!verify)
		return 0;
	if (!a->pol.have_ks) {
		sc_report("no key server key pinned "
		    "(sccrypt-term keyserver pin KEY)");
		return EXIT_VERIFY;
	}
	r = sc_cert_verify(buf, len, a->pol.ks_pubkey, a->host, NULL,
	    (uint64_t)time(NULL), &c);
	if (r < 0) {
		printf("INVALID: %s\n", r == SC_ERR_EXPIRED ? "expired or not yet valid" :
		    r == SC_ERR_SIGNATURE ? "bad signature" :
		    r == SC_ERR_UNTRUSTED ? "signed by another key server" :
		    r == SC_ERR_MISMATCH ? "issued for another host" : sc_err(r));
		return EXIT_VERIFY;
	}
	printf("valid%s%s\n", a->host ? " for host " : " (host not checked: give --host)",
	    a->host ? a->host : "");
	return 0;
usage:
	fprintf(stderr, "usage: sccrypt-term cert show FILE | cert verify FILE "
	    "[--host HOST]\n");
	return EXIT_USAGE;
}

/* ---- keyserver ---- */

int
verb_keyserver(struct app *a, int argc, char **argv)
{
	char path[PATH_MAX], line[256], fp[SC_FINGERPRINT_LEN];
	uint8_t pk[32];
	int r;

	if (argc == 2 && strcmp(argv[1], "show") == 0) {
		if ((r = app_load_keys(a, false)) != 0)
			return r;
		if (!a->pol.have_ks) {
			sc_report("no key server key pinned");
			return EXIT_LOCAL;
		}
		sc_fingerprint(a->pol.ks_pubkey, 32, fp);
		if (sc_pubkey_format(SC_KSKEY_PREFIX, a->pol.ks_pubkey, NULL, line,
		    sizeof(line)) < 0)
			return EXIT_LOCAL;
		printf("%s\n%s\n", line, fp);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "pin") != 0) {
		fprintf(stderr, "usage: sccrypt-term keyserver pin KEY|FILE | "
		    "keyserver show\n");
		return EXIT_USAGE;
	}
	if (strncmp(argv[2], SC_KSKEY_PREFIX " ", strlen(SC_KSKEY_PREFIX) + 1) == 0)
		r = sc_pubkey_parse(SC_KSKEY_PREFIX, argv[2], pk);
	else
		r = sc_pubkey_read_file(SC_KSKEY_PREFIX, argv[2], pk);
	if (r < 0) {
		sc_report_r(r, "'%s' is not a key server key "
		    "(\"%s BASE64\" or a file holding one)", argv[2],
		    SC_KSKEY_PREFIX);
		return EXIT_USAGE;
	}
	if ((r = open_store(a, true)) != 0)
		return r;
	if (path_in_store(a, "keyserver.pub", path, sizeof(path)) < 0)
		return EXIT_LOCAL;
	if ((r = sc_pubkey_write_file(SC_KSKEY_PREFIX, path, pk, "pinned")) < 0) {
		sc_report_r(r, "%s", path);
		return EXIT_LOCAL;
	}
	sc_fingerprint(pk, 32, fp);
	printf("pinned key server key %s in %s\n", fp, path);
	return 0;
}
