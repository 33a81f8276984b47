/*
 * sc-hvctl — test and admin client for the hv ops socket (sccrypt-hvsim).
 *
 * usage: sc-hvctl [-S socket] [-D dumpfile] [-t seconds] COMMAND ...
 *
 *   info                       hv public key, fingerprint, ABI, caps, PCR
 *   list                       domains: domid uuid name flags
 *   status DOM                 one domain's STATUS
 *   protect DOM --disk-key-file F --vm-secret-file F
 *               (--owner-key F | --owner-pub HEX) [--user-pub HEX[:owner]]... [--history N] [--no-history]
 *               [--uuid UUID] [--token HEX]
 *                              seal a registration blob to the hv key and
 *                              send it with PROTECT (with an ownership
 *                              token, core/owner.h); checks the confirm
 *   session DOM --user-key F --vm-secret-file F [--viewer] [--history N]
 *               [--uuid UUID] [STEP]...
 *                              Noise IKpsk2 initiator + records over the ops
 *                              socket; runs the steps, prints console
 *                              output (decrypted) on stdout
 *   raw DOM [STEP]...          plaintext RAW_INPUT/RAW_OUTPUT (unprotected)
 *   genkey FILE                new X25519 secret (hex) in FILE; prints the public key
 *   pubkey FILE                prints the public key of a secret key file
 *
 * DOM is a domid or a domain name.  Key files hold 64 hex digits or are
 * sccrypt key files without a passphrase; the disk key file holds raw bytes
 * (cryptsetup --volume-key-file).
 *
 * Steps (session and raw): send:TEXT  expect:TEXT  sleep:MS  and, in a
 * session, break:KEY  ping:TEXT  history:N  expect-history:TEXT  close.
 * TEXT understands \n \r \t \\ and \xNN.  expect waits (up to -t seconds)
 * until the console output received since the previous expect contains TEXT.
 *
 * -D FILE appends every byte sent to and received from the socket, so a test
 * can check that no console plaintext crosses it.
 *
 * The socket itself is lib/opsock.c: malformed, oversized and stray packets
 * from the hv are dropped with a warning; events are collected while waiting.
 *
 * Exit status: 0 success, 1 failure (message on stderr), 2 usage.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/ops.h"
#include "core/wire.h"
#include "tests/helpers/hvclient.h"
#include "io.h"
#include "log.h"
#include "opsock.h"
#include "secmem.h"
#include "encode.h"
#include "keyfile.h"

#define DEFAULT_SOCKET	"/run/sccrypt/hvsim.sock"
#define OUT_MAX		(1 << 20)
/* Limits of the numbers this tool reads from its arguments. */
#define TIMEOUT_S_MAX	86400		/* -t: one day */
#define SLEEP_MS_MAX	3600000UL	/* step sleep:MS: one hour */
#define PROTECT_TRIES	1500		/* x 20 ms: 30 s of SC_ERR_AGAIN */

static struct sc_opsock *ops;
static FILE *dumpf;
static int timeout_s = 10;
static uint32_t ev_bits;		/* events seen while waiting */
static struct sc_op_hdr rh;		/* the last response's header */
static uint8_t rp[SC_OP_PAYLOAD_MAX];	/* and its payload (rh.len bytes) */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sc-hvctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/*
 * A number from the command line: all of s, decimal, within [min, max]
 * (sc_parse_ulong).  Anything else is a usage error: exit 2 with a message
 * naming the option and the bad value.
 */
static unsigned long
num_arg(const char *what, const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;
	int r;

	if ((r = sc_parse_ulong(s, 10, min, max, &v)) != 0) {
		fprintf(stderr, "sc-hvctl: %s: bad value '%s': %s (want a "
		    "decimal number in %lu..%lu)\n", what, s,
		    r == SC_ERR_TOOLONG ? "out of range" : "not a number",
		    min, max);
		exit(2);
	}
	return v;
}

/* -D: every packet sent or received, as the bytes crossed the socket. */
static void
dump(void *arg, int dir, const uint8_t *p, size_t n)
{
	(void)arg;
	(void)dir;
	if (dumpf != NULL) {
		fwrite(p, 1, n, dumpf);
		fflush(dumpf);
	}
}

static void
on_event(void *arg, const struct sc_op_hdr *ev)
{
	(void)arg;
	ev_bits |= ev->arg;
}

static void
connect_sock(const char *path)
{
	int r;

	if ((r = sc_opsock_connect(path, on_event, NULL, &ops)) == SC_ERR_TOOLONG)
		die("socket path too long");
	if (r == SC_ERR_INVAL)
		die("%s: %s", path, sc_err(r));
	if (r < 0)
		die("%s: %s", path, strerror(errno));
	sc_opsock_set_tap(ops, dump, NULL);
}

/* A transport failure of the ops socket ends the program. */
static void __attribute__((noreturn))
die_transport(int r)
{
	if (r == SC_ERR_TIMEOUT)
		die("no answer from the hv");
	if (r == SC_ERR_EOF)
		die("hv closed the ops socket");
	if (r == SC_ERR_SYSTEM)
		die("ops socket: %s", strerror(errno));
	die("ops socket: %s", sc_err(r));
}

static unsigned int
timeout_ms(void)
{
	return timeout_s > INT_MAX / 1000 ? INT_MAX : (unsigned int)timeout_s * 1000;
}

/*
 * Send a request; return its response status, with the response in rh/rp
 * (events are noted on the way).
 */
static int
request(uint16_t op, uint32_t domid, uint32_t session, uint32_t arg,
    const void *payload, size_t len)
{
	struct sc_op_hdr req;
	int r;

	if (len > SC_OP_PAYLOAD_MAX)
		die("request too large");
	memset(&req, 0, sizeof(req));
	req.op = op;
	req.domid = domid;
	req.session = session;
	req.arg = arg;
	req.len = (uint32_t)len;
	if ((r = sc_opsock_call(ops, &req, payload, &rh, rp, sizeof(rp),
	    timeout_ms())) < 0)
		die_transport(r);
	return rh.status;
}

/* Wait for an event (or ms), collecting bits. */
static void
wait_event(int ms)
{
	int r;

	if ((r = sc_opsock_wait(ops, (unsigned int)ms)) < 0)
		die_transport(r);
}

static size_t
unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (n == cap)
			die("text too long");
		if (*s == '\\' && s[1] != '\0') {
			s++;
			switch (*s) {
			case 'n': out[n++] = '\n'; s++; break;
			case 'r': out[n++] = '\r'; s++; break;
			case 't': out[n++] = '\t'; s++; break;
			case '\\': out[n++] = '\\'; s++; break;
			case 'x':
				if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
					die("bad \\x escape");
				sscanf(s + 1, "%2x", &v);
				out[n++] = (uint8_t)v;
				s += 3;
				break;
			default:
				die("unknown escape \\%c", *s);
			}
		} else
			out[n++] = (uint8_t)*s++;
	}
	return n;
}

static void
read_secret(const char *path, uint8_t out[32])
{
	unsigned char *data = NULL;
	uint8_t *sec = NULL;
	size_t len = 0, seclen = 0, i, n = 0;
	char hex[65];
	int r;

	if ((r = sc_read_file(path, 65536, &data, &len)) != 0)
		die("%s: %s", path, sc_err(r));
	for (i = 0; i < len; i++)
		if (isxdigit(data[i]) && n < 64)
			hex[n++] = (char)data[i];
		else if (!isspace(data[i]))
			break;
	hex[n] = '\0';
	if (n == 64 && i == len && sc_hex_decode(hex, out, 32) == 0) {
		sodium_memzero(hex, sizeof(hex));
		sodium_memzero(data, len);
		free(data);
		return;
	}
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(data, len);
	free(data);
	if ((r = sc_keyfile_read(path, SC_KEY_KIND_USER, NULL, &sec, &seclen)) != 0 ||
	    seclen != 32)
		die("%s: neither 64 hex digits nor an unencrypted sccrypt key file (%s)",
		    path, sc_err(r));
	memcpy(out, sec, 32);
	sc_secure_free(sec);
}

struct dominfo {
	uint32_t	domid;
	uint8_t		uuid[16];
	char		name[65];
	uint32_t	flags;
};

static void
get_hv_key(uint8_t pk[32])
{
	if (request(SC_OP_GET_INFO, 0, 0, 0, NULL, 0) != 0 || rh.len < 32)
		die("GET_INFO: %s", sc_err(rh.status));
	memcpy(pk, rp, 32);
}

/*
 * Every domain, paging through LIST_DOMAINS (PROTOCOL.md §8.2), until
 * fn(di, arg) returns true.  Returns whether fn stopped the listing.
 */
static bool
each_domain(bool (*fn)(const struct dominfo *, void *), void *arg)
{
	struct dominfo di;
	struct sc_buf b;
	uint32_t first = 0, i, count;

	for (;;) {
		if (request(SC_OP_LIST_DOMAINS, 0, 0, first, NULL, 0) != 0)
			die("LIST_DOMAINS: %s", sc_err(rh.status));
		count = rh.arg;
		if (count > SC_OP_LIST_PAGE ||
		    (size_t)count * SC_OP_DOMAIN_ENTRY_LEN != rh.len)
			die("malformed LIST_DOMAINS answer");
		sc_buf_init_ro(&b, rp, rh.len);
		for (i = 0; i < count; i++) {
			memset(&di, 0, sizeof(di));
			if (sc_buf_get_u32_le(&b, &di.domid) != 0 ||
			    sc_buf_get_bytes(&b, di.uuid, 16) != 0 ||
			    sc_buf_get_bytes(&b, di.name, 64) != 0 ||
			    sc_buf_get_u32_le(&b, &di.flags) != 0)
				die("malformed LIST_DOMAINS answer");
			if (fn(&di, arg))
				return true;
		}
		if (count < SC_OP_LIST_PAGE)
			return false;
		first += count;
	}
}

struct find {
	const char	*spec;
	bool		 by_id;
	unsigned long	 want;
	struct dominfo	*out;
};

static bool
find_one(const struct dominfo *di, void *arg)
{
	struct find *f = arg;

	if (f->by_id ? di->domid != f->want : strcmp(di->name, f->spec) != 0)
		return false;
	*f->out = *di;
	return true;
}

static void
find_domain(const char *spec, struct dominfo *di)
{
	struct find f = { .spec = spec, .out = di };

	/* A domid if all of spec is one, else a name. */
	f.by_id = sc_parse_ulong(spec, 10, 0, UINT32_MAX, &f.want) == 0;
	if (!each_domain(find_one, &f))
		die("no domain %s", spec);
}

static void
print_flags(uint32_t f)
{
	printf("%s%s%s%s", f & SC_DOM_F_RUNNING ? "running" : "stopped",
	    f & SC_DOM_F_PROTECTED ? ",protected" : "",
	    f & SC_DOM_F_SESSION ? ",session" : "",
	    f & SC_DOM_F_BROKEN ? ",broken" : "");
}

static int
cmd_info(void)
{
	uint8_t pk[32];
	uint32_t v[5];
	char hex[65], fp[SC_FINGERPRINT_LEN];
	struct sc_buf b;
	int i;

	get_hv_key(pk);
	sc_buf_init_ro(&b, rp + 32, rh.len - 32);
	for (i = 0; i < 5; i++)
		if (sc_buf_get_u32_le(&b, &v[i]) != 0)
			die("malformed GET_INFO answer");
	sc_hex_encode(pk, 32, hex, sizeof(hex));
	sc_fingerprint(pk, 32, fp);
	printf("hv-pubkey %s\nfingerprint %s\nabi %u\ncaps 0x%x\nmax-domains %u\n"
	    "max-sessions %u\n", hex, fp, v[0], v[1], v[2], v[3]);
	if (v[4] == 0xffffffffu)
		printf("pcr none\n");
	else
		printf("pcr %u\n", v[4]);
	return 0;
}

static bool
print_domain(const struct dominfo *di, void *arg)
{
	char u[37];

	(void)arg;
	sc_uuid_format(di->uuid, u);
	printf("%u %s %s ", di->domid, u, di->name);
	print_flags(di->flags);
	printf("\n");
	return false;
}

static int
cmd_list(void)
{
	(void)each_domain(print_domain, NULL);
	return 0;
}

static int
cmd_status(const char *dom)
{
	struct dominfo di;
	struct sc_buf b;
	uint32_t f, s, hs;

	find_domain(dom, &di);
	if (request(SC_OP_STATUS, di.domid, 0, 0, NULL, 0) != 0)
		die("STATUS: %s", sc_err(rh.status));
	sc_buf_init_ro(&b, rp, rh.len);
	if (sc_buf_get_u32_le(&b, &f) != 0 || sc_buf_get_u32_le(&b, &s) != 0 ||
	    sc_buf_get_u32_le(&b, &hs) != 0 || sc_buf_expect_end(&b) != 0)
		die("malformed STATUS answer");
	printf("domid %u\nname %s\nflags ", di.domid, di.name);
	print_flags(f);
	printf("\nsessions %u\nhistory size %u\n", s, hs);
	return 0;
}

static int
cmd_protect(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "disk-key-file", required_argument, NULL, 'd' },
		{ "vm-secret-file", required_argument, NULL, 's' },
		{ "owner-key", required_argument, NULL, 'o' },
		{ "user-pub", required_argument, NULL, 'u' },
		{ "history", required_argument, NULL, 'H' },
		{ "no-history", no_argument, NULL, 'N' },
		{ "uuid", required_argument, NULL, 'U' },
		{ "token", required_argument, NULL, 'T' },
		{ "owner-pub", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct sc_registration *reg;
	uint8_t token[SC_OWNER_TOKEN_LEN];
	bool have_token = false;
	struct dominfo di;
	uint8_t hvpk[32], sk[32], confirm[32], blob[SC_PROTECT_PAYLOAD_MAX];
	unsigned char *dk = NULL;
	const char *diskf = NULL, *secf = NULL, *ownf = NULL, *uuid = NULL;
	const char *ownpub = NULL;
	char *pubs[SC_ACL_MAX];
	unsigned npubs = 0, i;
	size_t dklen = 0;
	struct sc_buf b;
	uint32_t options = SC_REG_OPT_HISTORY, hist = 0;
	int c, r, st;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': diskf = optarg; break;
		case 's': secf = optarg; break;
		case 'o': ownf = optarg; break;
		case 'P': ownpub = optarg; break;
		case 'U': uuid = optarg; break;
		case 'T':
			if (sc_hex_decode(optarg, token, sizeof(token)) != 0)
				die("--token: %d hex digits expected", 2 * SC_OWNER_TOKEN_LEN);
			have_token = true;
			break;
		case 'N': options &= ~(uint32_t)SC_REG_OPT_HISTORY; break;
		case 'H':
			/* Any u32: the hv clamps it to its own bounds. */
			hist = (uint32_t)num_arg("--history", optarg, 0,
			    UINT32_MAX);
			break;
		case 'u':
			if (npubs == SC_ACL_MAX - 1)
				die("too many --user-pub");
			pubs[npubs++] = optarg;
			break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || diskf == NULL || secf == NULL ||
	    (ownf == NULL) == (ownpub == NULL)) {
		fprintf(stderr, "usage: sc-hvctl protect DOM --disk-key-file F "
		    "--vm-secret-file F (--owner-key F | --owner-pub HEX) [--user-pub HEX[:owner]]... "
		    "[--history N] [--no-history] [--uuid UUID] [--token HEX]\n");
		return 2;
	}
	if ((reg = sc_secure_alloc(sizeof(*reg))) == NULL)
		die("out of secure memory");
	memset(reg, 0, sizeof(*reg));
	find_domain(argv[optind], &di);
	get_hv_key(hvpk);
	memcpy(reg->uuid, di.uuid, 16);
	reg->generation = sc_blob_generation_now();
	if (uuid != NULL && sc_uuid_parse(uuid, reg->uuid) != 0)
		die("bad --uuid");
	read_secret(secf, reg->vm_secret);
	if ((r = sc_read_file(diskf, SC_DISK_KEY_MAX + 1, &dk, &dklen)) != 0)
		die("%s: %s", diskf, sc_err(r));
	if (dklen < 1 || dklen > sizeof(reg->disk_key))
		die("%s: disk key must be 1..%zu bytes", diskf, sizeof(reg->disk_key));
	memcpy(reg->disk_key, dk, dklen);
	reg->disk_key_len = dklen;
	sodium_memzero(dk, dklen);
	free(dk);
	reg->options = options;
	reg->history_size = hist;
	if (ownpub != NULL) {
		if (sc_hex_decode(ownpub, reg->acl[0].pubkey, 32) != 0)
			die("--owner-pub: 64 hex digits expected");
	} else {
		read_secret(ownf, sk);
		if (crypto_scalarmult_curve25519_base(reg->acl[0].pubkey, sk) != 0)
			die("bad owner key");
		sodium_memzero(sk, sizeof(sk));
	}
	reg->acl[0].flags = SC_ACL_F_OWNER;
	reg->acl_count = 1;
	for (i = 0; i < npubs; i++) {
		char *colon = strchr(pubs[i], ':');
		if (colon != NULL) {
			if (strcmp(colon, ":owner") != 0)
				die("--user-pub HEX[:owner]");
			*colon = '\0';
		}
		if (sc_hex_decode(pubs[i], reg->acl[reg->acl_count].pubkey, 32) != 0)
			die("--user-pub: 64 hex digits expected");
		reg->acl[reg->acl_count++].flags = colon ? SC_ACL_F_OWNER : 0;
	}
	sc_buf_init(&b, blob, sizeof(blob));
	if ((r = sc_protect_seal(sc_crypto_sodium(), reg, hvpk,
	    have_token ? token : NULL, &b)) != 0)
		die("seal: %s", sc_err(r));
	/* SC_ERR_AGAIN: the hv is checking the disk key; ask again. */
	for (i = 0; (st = request(SC_OP_PROTECT, di.domid, 0, 0, blob, b.len)) ==
	    SC_ERR_AGAIN && i < PROTECT_TRIES; i++)
		usleep(20000);
	if (rh.len == 32) {
		/* dom0 relays the answer; the confirm proves the hv said it. */
		if (sc_blob_confirm(sc_crypto_sodium(), reg, hvpk, st, confirm) != 0 ||
		    sodium_memcmp(confirm, rp, 32) != 0)
			die("PROTECT answer does not authenticate (status %d)", st);
	}
	sc_secure_free(reg);
	if (st != 0)
		die("PROTECT %s: %s%s", di.name, sc_err(st), rh.len == 32 ?
		    " (authenticated by the hv)" : "");
	printf("protected %s (domid %u)%s\n", di.name, di.domid,
	    rh.len == 32 ? ", confirmed" : "");
	return 0;
}

/* ---- sessions ---- */

static struct sc_hvc_session cs;
static uint32_t sdom, sid;
static uint8_t *out_all, *hist_all;
static size_t out_len, out_mark, hist_len;
static bool raw_mode, closed_by_hv;

static void
on_record(uint8_t type, const uint8_t *p, size_t n)
{
	struct sc_buf b;
	uint16_t code;
	uint64_t val;
	const uint8_t *txt;
	size_t tl;

	switch (type) {
	case SC_REC_DATA:
		if (out_len + n > OUT_MAX)
			die("too much output");
		memcpy(out_all + out_len, p, n);
		out_len += n;
		if (fwrite(p, 1, n, stdout) != n)
			die("stdout: %s", strerror(errno));
		fflush(stdout);
		break;
	case SC_REC_HISTORY:
		if (n >= 1 && hist_len + n - 1 <= OUT_MAX) {
			memcpy(hist_all + hist_len, p + 1, n - 1);
			hist_len += n - 1;
		}
		break;
	case SC_REC_NOTICE:
		sc_buf_init_ro(&b, p, n);
		if (sc_buf_get_u16(&b, &code) == 0 && sc_buf_get_u64(&b, &val) == 0 &&
		    sc_buf_get_str8(&b, &txt, &tl, 255) == 0)
			fprintf(stderr, "sc-hvctl: notice %u value %llu: %.*s\n", code,
			    (unsigned long long)val, (int)tl, (const char *)txt);
		break;
	case SC_REC_CLOSE: {
		struct sc_record_close c;

		if (sc_record_close_parse(&cs.rl, p, n, &c) != 0)
			die("malformed or inconsistent CLOSE from the hv");
		fprintf(stderr, "sc-hvctl: session closed by the hv (reason %u, "
		    "it sent %llu and received %llu records): %.*s\n", c.reason,
		    (unsigned long long)c.sent, (unsigned long long)c.recv,
		    (int)c.text_len, (const char *)c.text);
		closed_by_hv = true;
		break;
	}
	case SC_REC_PONG:
		fprintf(stderr, "sc-hvctl: pong (%zu bytes)\n", n);
		break;
	default:
		break;
	}
}

/* Fetch whatever output is ready. */
static void
poll_output(void)
{
	uint8_t plm[SC_RECORD_PAYLOAD_MAX];
	struct sc_buf items, pl;
	uint8_t type;
	int r, rounds = 0;

	do {
		if (raw_mode) {
			if (request(SC_OP_RAW_OUTPUT, sdom, 0, 0, NULL, 0) != 0)
				die("RAW_OUTPUT: %s", sc_err(rh.status));
			on_record(SC_REC_DATA, rp, rh.len);
		} else {
			if (request(SC_OP_OUTPUT, sdom, sid, 0, NULL, 0) != 0)
				die("OUTPUT: %s", sc_err(rh.status));
			sc_buf_init_ro(&items, rp, rh.len);
			for (;;) {
				sc_buf_init(&pl, plm, sizeof(plm));
				if ((r = sc_hvc_open_item(&cs, &items, &type, &pl)) < 0)
					die("record from the hv does not authenticate: %s", sc_err(r));
				if (r == 0)
					break;
				on_record(type, plm, pl.len);
			}
			sodium_memzero(plm, sizeof(plm));
			if (rh.arg & SC_OUT_F_CLOSED) {
				closed_by_hv = true;
				return;
			}
		}
	} while ((rh.arg & SC_OUT_F_MORE) && ++rounds < 64);
}

static void
send_input(const uint8_t *items, size_t len)
{
	size_t off = 0;
	long long deadline = (long long)sc_now_ms() + timeout_s * 1000LL;

	while (off < len) {
		ev_bits &= ~(uint32_t)SC_EV_INPUT_SPACE;
		if (raw_mode) {
			if (request(SC_OP_RAW_INPUT, sdom, 0, 0, items + off, len - off) != 0)
				die("RAW_INPUT: %s", sc_err(rh.status));
		} else if (request(SC_OP_INPUT, sdom, sid, 0, items + off, len - off) != 0)
			die("INPUT: %s", sc_err(rh.status));
		off += rh.arg;
		if (off < len) {
			/* Ring full: wait for INPUT_SPACE, draining output meanwhile. */
			if ((long long)sc_now_ms() > deadline)
				die("the guest does not take input");
			if (!(ev_bits & SC_EV_INPUT_SPACE))
				wait_event(100);
			poll_output();
		}
	}
}

static void
send_record(uint8_t type, const uint8_t *p, size_t n)
{
	uint8_t items[SC_RECORD_CT_MAX + 2];
	struct sc_buf b;
	int r;

	if (raw_mode) {
		send_input(p, n);
		return;
	}
	sc_buf_init(&b, items, sizeof(items));
	if ((r = sc_hvc_seal(&cs, type, p, n, &b)) != 0)
		die("seal: %s", sc_err(r));
	send_input(items, b.len);
}

static bool
contains(const uint8_t *hay, size_t hl, const uint8_t *needle, size_t nl, size_t *at)
{
	size_t i;

	if (nl == 0) {
		*at = 0;
		return true;
	}
	for (i = 0; i + nl <= hl; i++)
		if (memcmp(hay + i, needle, nl) == 0) {
			*at = i;
			return true;
		}
	return false;
}

static void
expect(const uint8_t *t, size_t n, bool in_history)
{
	long long deadline = (long long)sc_now_ms() + timeout_s * 1000LL;
	size_t at;

	for (;;) {
		poll_output();
		if (in_history) {
			if (contains(hist_all, hist_len, t, n, &at))
				return;
		} else if (contains(out_all + out_mark, out_len - out_mark, t, n, &at)) {
			out_mark += at + n;
			return;
		}
		if (closed_by_hv)
			die("session closed while expecting \"%.*s\"", (int)n, (const char *)t);
		if ((long long)sc_now_ms() > deadline)
			die("timeout expecting \"%.*s\"", (int)n, (const char *)t);
		ev_bits &= ~(uint32_t)SC_EV_OUTPUT;
		wait_event(100);
	}
}

static void
run_steps(int argc, char **argv)
{
	uint8_t t[4096];
	size_t n;
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = strchr(a, ':');
		size_t kl = v ? (size_t)(v - a) : strlen(a);

		v = v ? v + 1 : "";
		n = unescape(v, t, sizeof(t));
		if (kl == 4 && strncmp(a, "send", 4) == 0) {
			size_t off;
			for (off = 0; off < n; off += SC_RECORD_PAYLOAD_MAX)
				send_record(SC_REC_DATA, t + off,
				    SC_MIN(n - off, (size_t)SC_RECORD_PAYLOAD_MAX));
		} else if (kl == 6 && strncmp(a, "expect", 6) == 0)
			expect(t, n, false);
		else if (kl == 14 && strncmp(a, "expect-history", 14) == 0 && !raw_mode)
			expect(t, n, true);
		else if (kl == 5 && strncmp(a, "sleep", 5) == 0) {
			long long until = (long long)sc_now_ms() +
			    (long long)num_arg("sleep", v, 0, SLEEP_MS_MAX);
			while ((long long)sc_now_ms() < until) {
				poll_output();
				wait_event(50);
			}
		} else if (kl == 5 && strncmp(a, "break", 5) == 0 && !raw_mode) {
			if (n != 1)
				die("break:KEY takes one character");
			send_record(SC_REC_BREAK, t, 1);
		} else if (kl == 4 && strncmp(a, "ping", 4) == 0 && !raw_mode)
			send_record(SC_REC_PING, t, n);
		else if (kl == 7 && strncmp(a, "history", 7) == 0 && !raw_mode) {
			uint32_t w = (uint32_t)num_arg("history", v, 0,
			    UINT32_MAX);
			uint8_t be[4] = { (uint8_t)(w >> 24), (uint8_t)(w >> 16),
			    (uint8_t)(w >> 8), (uint8_t)w };
			send_record(SC_REC_HISTORY_REQ, be, 4);
		} else if (kl == 5 && strncmp(a, "close", 5) == 0 && !raw_mode) {
			uint8_t items[2 + SC_RECORD_CT_MIN];
			struct sc_buf ib;

			sc_buf_init(&ib, items, sizeof(items));
			if (sc_hvc_seal_close(&cs, SC_CLOSE_NORMAL, "", &ib) != 0)
				die("seal close");
			send_input(items, ib.len);
			return;
		} else
			die("unknown step '%s'", a);
		sodium_memzero(t, n);
	}
}

static int
cmd_session(int argc, char **argv, bool raw)
{
	static const struct option lo[] = {
		{ "user-key", required_argument, NULL, 'k' },
		{ "vm-secret-file", required_argument, NULL, 's' },
		{ "viewer", no_argument, NULL, 'V' },
		{ "history", required_argument, NULL, 'H' },
		{ "uuid", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyf = NULL, *secf = NULL, *uuid = NULL;
	uint8_t *sk, *secret, hvpk[32], msg1[256];
	uint32_t hist = 0;
	struct dominfo di;
	struct sc_buf b;
	bool viewer = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k': keyf = optarg; break;
		case 's': secf = optarg; break;
		case 'V': viewer = true; break;
		case 'U': uuid = optarg; break;
		case 'H':
			/* Any u32: the hv replays at most what it kept. */
			hist = (uint32_t)num_arg("--history", optarg, 0,
			    UINT32_MAX);
			break;
		default: return 2;
		}
	}
	if (optind >= argc || (!raw && (keyf == NULL || secf == NULL))) {
		fprintf(stderr, raw ? "usage: sc-hvctl raw DOM [STEP]...\n" :
		    "usage: sc-hvctl session DOM --user-key F --vm-secret-file F "
		    "[--viewer] [--history N] [--uuid UUID] [STEP]...\n");
		return 2;
	}
	if ((out_all = malloc(OUT_MAX)) == NULL || (hist_all = malloc(OUT_MAX)) == NULL)
		die("out of memory");
	find_domain(argv[optind], &di);
	sdom = di.domid;
	raw_mode = raw;
	if (raw) {
		run_steps(argc - optind - 1, argv + optind + 1);
		return 0;
	}
	if ((sk = sc_secure_alloc(32)) == NULL || (secret = sc_secure_alloc(32)) == NULL)
		die("out of secure memory");
	read_secret(keyf, sk);
	read_secret(secf, secret);
	if (uuid != NULL && sc_uuid_parse(uuid, di.uuid) != 0)
		die("bad --uuid");
	get_hv_key(hvpk);
	sc_buf_init(&b, msg1, sizeof(msg1));
	if ((r = sc_hvc_hs1(&cs, sc_crypto_sodium(), di.uuid, hvpk, sk, secret,
	    viewer ? SC_HS1_F_VIEWER : SC_HS1_F_TAKEOVER, hist, &b)) != 0)
		die("handshake: %s", sc_err(r));
	sc_secure_free(sk);
	sc_secure_free(secret);
	if ((r = request(SC_OP_OPEN, sdom, 0, 0, msg1, b.len)) != 0)
		die("OPEN %s: %s", di.name, sc_err(r));
	sid = rh.session;
	if ((r = sc_hvc_hs2(&cs, rp, rh.len)) != 0)
		die("handshake message 2: %s (wrong VM secret?)", sc_err(r));
	fprintf(stderr, "sc-hvctl: session %u on %s: %s%s, history kept %u, lost %llu\n",
	    sid, di.name, cs.hs2_flags & SC_HS2_F_VIEWER ? "viewer" : "writer",
	    cs.hs2_flags & SC_HS2_F_OWNER ? " (owner)" : "", cs.history_kept,
	    (unsigned long long)cs.lost_bytes);
	/* The first record proves the VM secret and makes a writer the writer. */
	send_record(SC_REC_PING, NULL, 0);
	run_steps(argc - optind - 1, argv + optind + 1);
	poll_output();
	if (!closed_by_hv)
		(void)request(SC_OP_CLOSE, sdom, sid, 0, NULL, 0);
	sc_hvc_wipe(&cs);
	return 0;
}

static int
cmd_genkey(const char *path)
{
	uint8_t sk[32], pk[32];
	char hex[65], line[80];
	int r;

	randombytes_buf(sk, sizeof(sk));
	crypto_scalarmult_curve25519_base(pk, sk);
	sc_hex_encode(sk, 32, hex, sizeof(hex));
	snprintf(line, sizeof(line), "%s\n", hex);
	r = sc_write_file_atomic(path, line, strlen(line), 0600);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(line, sizeof(line));
	if (r != 0)
		die("%s: %s", path, sc_err(r));
	sc_hex_encode(pk, 32, hex, sizeof(hex));
	printf("%s\n", hex);
	return 0;
}

static int
cmd_pubkey(const char *path)
{
	uint8_t sk[32], pk[32];
	char hex[65];

	read_secret(path, sk);
	crypto_scalarmult_curve25519_base(pk, sk);
	sodium_memzero(sk, sizeof(sk));
	sc_hex_encode(pk, 32, hex, sizeof(hex));
	printf("%s\n", hex);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sc-hvctl [-S socket] [-D dumpfile] [-t seconds] COMMAND ...\n"
	    "  info | list | status DOM\n"
	    "  protect DOM --disk-key-file F --vm-secret-file F --owner-key F\n"
	    "          [--user-pub HEX[:owner]]... [--token HEX]\n"
	    "          [--user-pub HEX[:owner]]... [--history N] [--no-history] [--uuid U]\n"
	    "  session DOM --user-key F --vm-secret-file F [--viewer] [--history N] [STEP]...\n"
	    "  raw DOM [STEP]...\n"
	    "  genkey FILE | pubkey FILE\n"
	    "steps: send:TEXT expect:TEXT sleep:MS break:KEY ping:TEXT history:N\n"
	    "       expect-history:TEXT close\n");
}

int
main(int argc, char **argv)
{
	const char *path = getenv("SCCRYPT_HVSIM_SOCKET"), *dumpfile = NULL, *cmd;
	int c;

	if (sodium_init() < 0)
		die("libsodium initialisation failed");
	/* lib/opsock.c reports dropped packets from the hv as warnings. */
	sc_log_init("sc-hvctl", SC_LOG_WARN, SC_LOG_TO_STDERR);
	if (path == NULL)
		path = DEFAULT_SOCKET;
	while ((c = getopt(argc, argv, "+S:D:t:h")) != -1) {
		switch (c) {
		case 'S': path = optarg; break;
		case 'D': dumpfile = optarg; break;
		case 't':
			timeout_s = (int)num_arg("-t", optarg, 1, TIMEOUT_S_MAX);
			break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind >= argc) {
		usage();
		return 2;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "genkey") == 0 && argc == 2)
		return cmd_genkey(argv[1]);
	if (strcmp(cmd, "pubkey") == 0 && argc == 2)
		return cmd_pubkey(argv[1]);
	if (dumpfile != NULL && (dumpf = fopen(dumpfile, "ab")) == NULL)
		die("%s: %s", dumpfile, strerror(errno));
	connect_sock(path);
	if (strcmp(cmd, "info") == 0 && argc == 1)
		return cmd_info();
	if (strcmp(cmd, "list") == 0 && argc == 1)
		return cmd_list();
	if (strcmp(cmd, "status") == 0 && argc == 2)
		return cmd_status(argv[1]);
	if (strcmp(cmd, "protect") == 0)
		return cmd_protect(argc, argv);
	if (strcmp(cmd, "session") == 0)
		return cmd_session(argc, argv, false);
	if (strcmp(cmd, "raw") == 0)
		return cmd_session(argc, argv, true);
	usage();
	return 2;
}
