/*
 * keystroke.c — SCCrypt's own CPU work per keystroke, in one process
 * (a benchmark run by hand, not part of make check; docs/benchmarks.md).
 *
 *   tests/bench/keystroke [-n KEYSTROKES] [-r ROUNDS]
 *
 * One keystroke and its echo through the code SCCrypt adds, without the
 * processes, sockets and wake-ups around it (those are the same for both
 * paths and are what tests/bench/run's round trips mostly measure):
 *
 *   sccrypt: the client seals a 1-byte DATA record and frames it; consoled
 *            decodes the frame; the hv core takes it (INPUT op: open,
 *            pending, in ring); the guest reads it and echoes one byte; the
 *            hv pumps it into the history (guest event) and seals it
 *            (OUTPUT op); consoled frames it; the client decodes and opens.
 *   raw:     the same keystroke through RAW_INPUT / guest / RAW_OUTPUT.
 *
 * Prints keystroke_sccrypt_ns, keystroke_raw_ns (CPU time of this thread
 * per keystroke, the best of ROUNDS interleaved rounds) and
 * keystroke_work_us, their difference: SCCrypt's own work per keystroke;
 * then the spread of that difference over the rounds (each round's sccrypt
 * minus the same round's raw): keystroke_work_min_us, _median_us, _max_us.
 * keystroke_aead_ns is what libsodium alone costs of it: the four AEAD
 * operations of a keystroke (seal and open of two 64-byte padded records)
 * timed in the same rounds, and keystroke_own_us the rest (best figures):
 * SCCrypt's own code (framing, records, ops, rings, history, wipes).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/blob.h"
#include "core/owner.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "core/wire.h"
#include "tests/helpers/hvclient.h"
#include "hv/core/hv.h"
#include "hv/core/ring.h"

const struct sc_crypto *sc_crypto_sodium(void);

#define D_SC	1
#define D_RAW	2
#define ARENA	(2 * 65536)

static struct sc_hv *hv;
static struct xencons_interface ring[2];
static uint8_t req[SC_OP_MAX + 64], resp[SC_OP_MAX];
static struct sc_op_hdr rh;
static const uint8_t *rp;
static uint32_t seq;

static void __attribute__((noreturn))
die(const char *what, int r)
{
	fprintf(stderr, "keystroke: %s: %s\n", what, sc_err(r));
	exit(1);
}

static int
hook_disk(void *arg, uint32_t domid, const uint8_t uuid[SC_UUID_LEN],
    const uint8_t *key, size_t len)
{
	(void)arg; (void)domid; (void)uuid; (void)key; (void)len;
	return 0;
}

/* One op through the dispatcher; returns its status. */
static int
op(uint16_t o, uint32_t domid, uint32_t session, uint32_t arg,
    const void *p, size_t n)
{
	struct sc_buf b;
	size_t rlen;
	int r;

	sc_buf_init(&b, req, sizeof(req));
	if ((r = sc_hvc_op_build(&b, o, domid, session, arg, ++seq, p, n)) != 0 ||
	    (r = sc_hv_dispatch(hv, req, b.len, resp, sizeof(resp), &rlen)) != 0 ||
	    (r = sc_hvc_op_parse(resp, rlen, &rh, &rp)) != 0)
		die("op", r);
	return rh.status;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/*
 * Frame decoders, one per receiving end of a connection, initialised once
 * as the programs do (consoled per client, the client per session, the shim
 * per relay): consoled decodes the client's frames; the client decodes
 * consoled's, and so does the shim on their way (its BYE watch,
 * dom0-forced-command/shim.c).
 */
static struct sc_frame_decoder dec_consoled, dec_shim, dec_client;

static void
decode_one(struct sc_frame_decoder *d, const uint8_t *wire, size_t n,
    uint8_t type, size_t len)
{
	struct sc_frame f;
	size_t used;
	int r;

	if ((r = sc_frame_decode(d, wire, n, &used, &f)) != 1 || used != n ||
	    f.type != type || f.len != len)
		die("frame decode", r < 0 ? r : SC_ERR_INTERNAL);
}

/* One frame over one hop: encoded by the sender, decoded by d1 (and d2). */
static void
frame_hop(uint8_t type, const uint8_t *body, size_t len,
    struct sc_frame_decoder *d1, struct sc_frame_decoder *d2)
{
	static uint8_t wire[SC_FRAME_ENC_MAX];
	struct sc_buf b;
	int r;

	sc_buf_init(&b, wire, sizeof(wire));
	if ((r = sc_frame_encode(&b, SC_ENCODING_BINARY, type, body, len)) < 0)
		die("frame encode", r);
	decode_one(d1, wire, b.len, type, len);
	if (d2 != NULL)
		decode_one(d2, wire, b.len, type, len);
}

static void
guest_echo(unsigned d)
{
	uint8_t c;
	size_t n;
	int r;

	if ((r = sc_ring_guest_in_read(&ring[d], &c, 1, &n)) != 0 || n != 1)
		die("guest read", r ? r : SC_ERR_INTERNAL);
	if ((r = sc_ring_guest_out_write(&ring[d], &c, 1, &n)) != 0 || n != 1)
		die("guest write", r ? r : SC_ERR_INTERNAL);
	if ((r = sc_hv_guest_event(hv, d == 0 ? D_SC : D_RAW)) != 0)
		die("guest event", r);
}

static void
key_sccrypt(struct sc_hvc_session *cs, uint32_t sid)
{
	static uint8_t items[SC_RECORD_CT_MAX + 2], pl[SC_RECORD_PAYLOAD_MAX];
	struct sc_buf b, it;
	uint8_t type;
	uint16_t l;
	int r;

	sc_buf_init(&b, items, sizeof(items));
	if ((r = sc_hvc_seal(cs, SC_REC_DATA, (const uint8_t *)"a", 1, &b)) != 0)
		die("seal", r);
	frame_hop(SC_FRAME_RECORD, items + 2, b.len - 2,	/* client -> consoled */
	    &dec_consoled, NULL);
	if ((r = op(SC_OP_INPUT, D_SC, sid, 0, items, b.len)) != 0)
		die("INPUT", r);
	guest_echo(0);
	if ((r = op(SC_OP_OUTPUT, D_SC, sid, 0, NULL, 0)) != 0)
		die("OUTPUT", r);
	sc_buf_init_ro(&it, rp, rh.len);
	if (rh.len < 2)
		die("OUTPUT: no record", SC_ERR_INTERNAL);
	l = (uint16_t)(rp[0] | rp[1] << 8);
	frame_hop(SC_FRAME_RECORD, rp + 2, l,		/* consoled -> shim -> client */
	    &dec_shim, &dec_client);
	sc_buf_init(&b, pl, sizeof(pl));
	if ((r = sc_hvc_open_item(cs, &it, &type, &b)) != 1 || b.len != 1)
		die("open", r < 0 ? r : SC_ERR_INTERNAL);
}

/* The AEAD operations of one keystroke alone, through the same provider. */
static void
key_aead(const struct sc_crypto *cp)
{
	static uint8_t key[32], nonce[12], pt[SC_RECORD_PAD_1],
	    ct[SC_RECORD_PAD_1 + SC_TAG_LEN];
	int i, r;

	for (i = 0; i < 2; i++) {
		pt[0] = (uint8_t)i;
		if ((r = cp->aead_encrypt(ct, pt, sizeof(pt), NULL, 0, nonce, key)) != 0 ||
		    (r = cp->aead_decrypt(pt, ct, sizeof(ct), NULL, 0, nonce, key)) != 0)
			die("aead", r);
		nonce[0]++;
	}
}

static void
key_raw(void)
{
	int r;

	if ((r = op(SC_OP_RAW_INPUT, D_RAW, 0, 0, "a", 1)) != 0 || rh.arg != 1)
		die("RAW_INPUT", r ? r : SC_ERR_INTERNAL);
	guest_echo(1);
	if ((r = op(SC_OP_RAW_OUTPUT, D_RAW, 0, 0, NULL, 0)) != 0 || rh.len != 1)
		die("RAW_OUTPUT", r ? r : SC_ERR_INTERNAL);
}

int
main(int argc, char **argv)
{
	const struct sc_crypto *cp;
	struct sc_hv_platform pf;
	struct sc_registration reg;
	struct sc_hvc_session cs;
	uint8_t sk[32], user_sk[32], user_pk[32], uuid[2][16], secret[32];
	uint8_t blob[SC_PROTECT_PAYLOAD_MAX], msg1[256], *arena;
	double t, t_sc, best_sc = 1e30, best_raw = 1e30, best_aead = 1e30, *work;
	unsigned n = 5000, rounds = 21, i, k;
	struct sc_buf b;
	uint32_t sid;
	int r, opt;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			n = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			rounds = (unsigned)strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: keystroke [-n KEYSTROKES] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (sodium_init() < 0 || n == 0 || rounds == 0)
		return 2;
	if ((work = calloc(rounds, sizeof(*work))) == NULL)
		return 1;
	cp = sc_crypto_sodium();
	if ((hv = calloc(1, sc_hv_size(2, 0))) == NULL ||
	    (arena = calloc(1, ARENA)) == NULL)
		return 1;
	memset(&pf, 0, sizeof(pf));
	pf.check_disk_key = hook_disk;
	randombytes_buf(sk, sizeof(sk));
	randombytes_buf(uuid, sizeof(uuid));
	randombytes_buf(secret, sizeof(secret));
	if ((r = sc_hv_init(hv, cp, &pf, sk, SC_HV_NO_PCR, arena, ARENA, 2, 0)) != 0)
		die("hv init", r);
	sc_ring_reset(&ring[0]);
	sc_ring_reset(&ring[1]);
	if ((r = sc_hv_domain_add(hv, D_SC, uuid[0], "sc", &ring[0], 65536)) != 0 ||
	    (r = sc_hv_domain_add(hv, D_RAW, uuid[1], "raw", &ring[1], 65536)) != 0)
		die("domain add", r);
	if ((r = cp->x25519_base(user_pk, (randombytes_buf(user_sk, 32), user_sk))) != 0)
		die("user key", r);

	/* Bind D_SC (history on, as sccrypt-term binds by default). */
	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, uuid[0], 16);
	reg.generation = 1;
	memcpy(reg.vm_secret, secret, 32);
	reg.disk_key_len = 32;
	reg.options = SC_REG_OPT_HISTORY;
	reg.acl_count = 1;
	memcpy(reg.acl[0].pubkey, user_pk, 32);
	reg.acl[0].flags = SC_ACL_F_OWNER;
	sc_buf_init(&b, blob, sizeof(blob));
	if ((r = sc_protect_seal(cp, &reg, sc_hv_pubkey(hv), NULL, &b)) != 0 ||
	    (r = op(SC_OP_PROTECT, D_SC, 0, 0, blob, b.len)) != 0)
		die("protect", r);
	sc_buf_init(&b, msg1, sizeof(msg1));
	if ((r = sc_hvc_hs1(&cs, cp, uuid[0], sc_hv_pubkey(hv), user_sk, secret,
	    0, 0, &b)) != 0 || (r = op(SC_OP_OPEN, D_SC, 0, 0, msg1, b.len)) != 0)
		die("open", r);
	sid = rh.session;
	if ((r = sc_hvc_hs2(&cs, rp, rh.len)) != 0)
		die("handshake", r);

	if ((r = sc_frame_decoder_init(&dec_consoled, SC_ENCODING_BINARY)) != 0 ||
	    (r = sc_frame_decoder_init(&dec_shim, SC_ENCODING_BINARY)) != 0 ||
	    (r = sc_frame_decoder_init(&dec_client, SC_ENCODING_BINARY)) != 0)
		die("decoder init", r);
	for (i = 0; i < 100; i++) {	/* warm up; the first record makes the writer */
		key_sccrypt(&cs, sid);
		key_raw();
	}
	for (k = 0; k < rounds; k++) {
		t = cpu_ns();
		for (i = 0; i < n; i++)
			key_sccrypt(&cs, sid);
		t_sc = (cpu_ns() - t) / n;
		if (t_sc < best_sc)
			best_sc = t_sc;
		t = cpu_ns();
		for (i = 0; i < n; i++)
			key_raw();
		t = (cpu_ns() - t) / n;
		if (t < best_raw)
			best_raw = t;
		work[k] = (t_sc - t) / 1000.0;
		t = cpu_ns();
		for (i = 0; i < n; i++)
			key_aead(cp);
		t = (cpu_ns() - t) / n;
		if (t < best_aead)
			best_aead = t;
	}
	qsort(work, rounds, sizeof(*work), cmp_double);
	printf("keystroke_sccrypt_ns %.0f\n", best_sc);
	printf("keystroke_raw_ns %.0f\n", best_raw);
	printf("keystroke_work_us %.2f\n", (best_sc - best_raw) / 1000.0);
	printf("keystroke_aead_ns %.0f\n", best_aead);
	printf("keystroke_own_us %.2f\n", (best_sc - best_raw - best_aead) / 1000.0);
	printf("keystroke_work_min_us %.2f\n", work[0]);
	printf("keystroke_work_median_us %.2f\n", rounds % 2 ? work[rounds / 2] :
	    (work[rounds / 2 - 1] + work[rounds / 2]) / 2);
	printf("keystroke_work_max_us %.2f\n", work[rounds - 1]);
	free(work);
	sc_hvc_wipe(&cs);
	sc_hv_wipe(hv);
	free(hv);
	free(arena);
	return 0;
}
