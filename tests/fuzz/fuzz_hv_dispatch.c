/*
 * fuzz_hv_dispatch.c — libFuzzer harness over the hv ops dispatcher, the
 * hypervisor's whole attack surface from dom0 (plus a misbehaving guest).
 *
 * The hv context lives across inputs, as a real hypervisor's does: the
 * fuzzer can build up state (sessions, pending input, history, broken
 * rings).  At the start of each input the harness repairs what it needs —
 * three domains (one protected with a confirmed client session, one
 * protected, one plain) — and every 4096 inputs it starts from scratch so
 * state cannot drift forever.
 *
 * An input is a program of commands:
 *   0 len:u16le bytes      raw op packet to sc_hv_dispatch
 *   1 type len:u8 bytes    the honest client seals a record, sent by INPUT
 *                          (type CLOSE with len 0: its real CLOSE, with counts)
 *   2 dom len:u8 bytes     the guest writes its out ring, then signals
 *   3 dom n:u8             the guest reads up to n bytes of its in ring
 *   4 max:u16le            OUTPUT for the client session, opened by the client
 *   5 dom which:u8 v:u32le the guest overwrites one ring index, signals,
 *                          and later the ring is reset (guest reboot)
 *   6 flags hist:u32le     a new client handshake (OPEN) with these HS1 values
 *   7 split:u16le          the client's next record split at `split` over two INPUTs
 * Invariants checked: the dispatcher always answers with a well-formed
 * header echoing seq and op; on error the payload is empty (PROTECT may
 * carry its confirm); plaintext typed by the client never shows up in a
 * response.
 */
#define _GNU_SOURCE 1
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/ops.h"
#include "core/wire.h"
#include "hv/core/hv.h"
#include "tests/helpers/hvclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARENA	(3 * 65536)
#define DOMAINS	4	/* slots: the three domains and one to spare */
#define POOL	(DOMAINS + 2)	/* sessions: small, so that the pool runs out */
#define MARK	"PLAINTEXT-MARK"

static struct sc_hv *hv;
static uint8_t *arena;
static const struct sc_crypto *cp;
static struct xencons_interface ring[3];
static uint8_t uuid[3][16], disk[3][32], secret[3][32];
static uint8_t user_sk[32], user_pk[32];
static struct sc_hvc_session cs;
static uint32_t sid;
static bool have_session;
static unsigned runs;
static uint8_t resp[SC_OP_MAX];
static uint32_t seq;

static const uint32_t domids[3] = { 1, 2, 9 };

static int
hook_disk(void *arg, uint32_t domid, const uint8_t u[16], const uint8_t *key, size_t len)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < 3; i++)
		if (domids[i] == domid)
			return (len == 32 && memcmp(key, disk[i], 32) == 0 &&
			    memcmp(u, uuid[i], 16) == 0) ? 0 : SC_ERR_DISKKEY;
	return SC_ERR_NOTFOUND;
}

static int
dispatch(const uint8_t *req, size_t len, struct sc_op_hdr *h, const uint8_t **p)
{
	size_t rlen;

	if (sc_hv_dispatch(hv, req, len, resp, sizeof(resp), &rlen) != 0)
		abort();
	if (sc_hvc_op_parse(resp, rlen, h, p) != 0)
		abort();			/* the hv must answer well-formed */
	if (h->status != 0 && h->len != 0 && !(h->op == SC_OP_PROTECT && h->len == 32))
		abort();
	if (memmem(resp, rlen, MARK, sizeof(MARK) - 1) != NULL && h->op != SC_OP_RAW_OUTPUT)
		abort();			/* plaintext leaked into a response */
	return h->status;
}

static int
op(uint16_t o, uint32_t domid, uint32_t session, uint32_t arg, const void *pl,
    size_t n, struct sc_op_hdr *h, const uint8_t **p)
{
	uint8_t req[SC_OP_MAX];
	struct sc_buf b;

	sc_buf_init(&b, req, sizeof(req));
	if (sc_hvc_op_build(&b, o, domid, session, arg, ++seq, pl, n) != 0)
		abort();
	if (dispatch(req, b.len, h, p) != 0 && h->seq != seq)
		abort();
	return h->status;
}

static void
protect(unsigned i)
{
	static uint64_t generation;
	struct sc_registration reg;
	uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	struct sc_op_hdr h;
	const uint8_t *p;
	struct sc_buf b;

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, uuid[i], 16);
	reg.generation = ++generation;	/* above every earlier binding */
	memcpy(reg.vm_secret, secret[i], 32);
	memcpy(reg.disk_key, disk[i], 32);
	reg.disk_key_len = 32;
	reg.options = SC_REG_OPT_HISTORY;
	reg.history_size = 4096;
	reg.acl_count = 1;
	memcpy(reg.acl[0].pubkey, user_pk, 32);
	reg.acl[0].flags = SC_ACL_F_OWNER;
	sc_buf_init(&b, blob, sizeof(blob));
	if (sc_protect_seal(cp, &reg, sc_hv_pubkey(hv), NULL, &b) != 0)
		abort();
	(void)op(SC_OP_PROTECT, domids[i], 0, 0, blob, b.len, &h, &p);
}

static int
client_open(uint8_t flags, uint32_t hist)
{
	uint8_t msg1[256];
	struct sc_op_hdr h;
	const uint8_t *p;
	struct sc_buf b;

	if (have_session)
		sc_hvc_wipe(&cs);
	have_session = false;
	sc_buf_init(&b, msg1, sizeof(msg1));
	if (sc_hvc_hs1(&cs, cp, uuid[0], sc_hv_pubkey(hv), user_sk, secret[0],
	    flags, hist, &b) != 0)
		abort();
	if (op(SC_OP_OPEN, domids[0], 0, 0, msg1, b.len, &h, &p) != 0)
		return -1;
	if (sc_hvc_hs2(&cs, p, h.len) != 0)
		abort();			/* an honest handshake must work */
	sid = h.session;
	have_session = true;
	return 0;
}

static void
client_send(uint8_t type, const uint8_t *pl, size_t n, size_t split)
{
	uint8_t items[SC_RECORD_CT_MAX + 2];
	struct sc_op_hdr h;
	const uint8_t *p;
	struct sc_buf b;

	if (!have_session)
		return;
	sc_buf_init(&b, items, sizeof(items));
	if (type == SC_REC_CLOSE && n == 0) {
		if (sc_hvc_seal_close(&cs, SC_CLOSE_NORMAL, "", &b) != 0)
			return;
	} else if (sc_hvc_seal(&cs, type, pl, n, &b) != 0)
		return;
	split = SC_MIN(split, b.len);
	if (split > 0 && op(SC_OP_INPUT, domids[0], sid, 0, items, split, &h, &p) != 0) {
		have_session = false;
		return;
	}
	if (op(SC_OP_INPUT, domids[0], sid, 0, items + split, b.len - split, &h, &p) != 0)
		have_session = false;
}

static void
client_recv(uint32_t max)
{
	uint8_t plm[SC_RECORD_PAYLOAD_MAX];
	struct sc_buf items, pl;
	struct sc_op_hdr h;
	const uint8_t *p;
	uint8_t type;
	int r;

	if (!have_session)
		return;
	if (op(SC_OP_OUTPUT, domids[0], sid, max, NULL, 0, &h, &p) != 0) {
		have_session = false;
		return;
	}
	sc_buf_init_ro(&items, p, h.len);
	for (;;) {
		sc_buf_init(&pl, plm, sizeof(plm));
		/* Raw ops in the same input may steal or inject records, so a
		 * failure here is the fuzzer's doing, not the hv's. */
		if ((r = sc_hvc_open_item(&cs, &items, &type, &pl)) < 0) {
			have_session = false;
			return;
		}
		if (r == 0)
			break;
		/* The hv's CLOSE always carries consistent counts. */
		if (type == SC_REC_CLOSE) {
			struct sc_record_close c;

			if (sc_record_close_parse(&cs.rl, plm, pl.len, &c) != 0)
				abort();
		}
	}
	if (h.arg & SC_OUT_F_CLOSED)
		have_session = false;
}

static void
init_all(void)
{
	struct sc_hv_platform pf;
	uint8_t sk[32];
	unsigned i;

	if (hv == NULL) {
		cp = sc_crypto_sodium();
		hv = calloc(1, sc_hv_size(DOMAINS, POOL));
		arena = calloc(1, ARENA);
		if (hv == NULL || arena == NULL)
			abort();
		memset(user_sk, 0x42, 32);
		if (cp->x25519_base(user_pk, user_sk) != 0)
			abort();
	} else {
		sc_hv_wipe(hv);
		if (have_session)
			sc_hvc_wipe(&cs);
	}
	have_session = false;
	memset(&pf, 0, sizeof(pf));
	pf.check_disk_key = hook_disk;
	memset(sk, 0x17, sizeof(sk));
	if (sc_hv_init(hv, cp, &pf, sk, 15, arena, ARENA, DOMAINS, POOL) != 0)
		abort();
	for (i = 0; i < 3; i++) {
		memset(uuid[i], 0x10 + i, 16);
		memset(disk[i], 0x20 + i, 32);
		memset(secret[i], 0x30 + i, 32);
		sc_ring_reset(&ring[i]);
	}
}

/* Put back what the commands rely on. */
static void
repair(void)
{
	static const char *names[3] = { "fz1", "fz2", "fz3" };
	struct sc_op_hdr h;
	const uint8_t *p;
	uint32_t flags;
	unsigned i;

	for (i = 0; i < 3; i++) {
		if (op(SC_OP_STATUS, domids[i], 0, 0, NULL, 0, &h, &p) != 0) {
			sc_ring_reset(&ring[i]);
			if (sc_hv_domain_add(hv, domids[i], uuid[i], names[i], &ring[i],
			    65536) != 0)
				abort();
			continue;
		}
		memcpy(&flags, p, 4);
		if (flags & SC_DOM_F_BROKEN) {
			sc_ring_reset(&ring[i]);
			if (sc_hv_domain_ring_reset(hv, domids[i]) != 0)
				abort();
		}
		if (i < 2 && !(flags & SC_DOM_F_PROTECTED))
			protect(i);
	}
	if (!have_session && client_open(0, 0) == 0)
		client_send(SC_REC_PING, NULL, 0, 0);	/* confirm: become the writer */
}

/* Next n bytes of the program (fewer if it ends). */
static bool
take(struct sc_buf *in, size_t n, const uint8_t **p, size_t *len)
{
	*len = SC_MIN(n, sc_buf_avail(in));
	return sc_buf_get_view(in, *len, p) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_buf in;
	struct sc_op_hdr h;
	const uint8_t *p, *bytes;
	uint8_t cmd, a, n8, rd[1024];
	uint16_t n16;
	uint32_t v;
	size_t got, len, split = 0;
	bool reset_ring[3] = { false, false, false };
	unsigned i;

	if (hv == NULL || ++runs % 4096 == 0)
		init_all();
	repair();
	sc_buf_init_ro(&in, data, size);
	while (sc_buf_get_u8(&in, &cmd) == 0) {
		switch (cmd % 8) {
		case 0:
			if (sc_buf_get_u16_le(&in, &n16) != 0 || !take(&in, n16, &bytes, &len))
				goto out;
			(void)dispatch(bytes, len, &h, &p);
			break;
		case 1:
			if (sc_buf_get_u8(&in, &a) != 0 || sc_buf_get_u8(&in, &n8) != 0 ||
			    !take(&in, n8, &bytes, &len))
				goto out;
			client_send(a, bytes, len, split);
			split = 0;
			break;
		case 2:
			if (sc_buf_get_u8(&in, &a) != 0 || sc_buf_get_u8(&in, &n8) != 0 ||
			    !take(&in, n8, &bytes, &len))
				goto out;
			(void)sc_ring_guest_out_write(&ring[a % 3], bytes, len, &got);
			(void)sc_hv_guest_event(hv, domids[a % 3]);
			break;
		case 3:
			if (sc_buf_get_u8(&in, &a) != 0 || sc_buf_get_u8(&in, &n8) != 0)
				goto out;
			(void)sc_ring_guest_in_read(&ring[a % 3], rd, n8, &got);
			(void)sc_hv_guest_event(hv, domids[a % 3]);
			break;
		case 4:
			if (sc_buf_get_u16_le(&in, &n16) != 0)
				goto out;
			client_recv(n16);
			break;
		case 5:
			if (sc_buf_get_u8(&in, &a) != 0 || sc_buf_get_u8(&in, &n8) != 0 ||
			    sc_buf_get_u32_le(&in, &v) != 0)
				goto out;
			switch (n8 % 4) {
			case 0: ring[a % 3].in_cons = v; break;
			case 1: ring[a % 3].in_prod = v; break;
			case 2: ring[a % 3].out_cons = v; break;
			default: ring[a % 3].out_prod = v; break;
			}
			(void)sc_hv_guest_event(hv, domids[a % 3]);
			reset_ring[a % 3] = true;
			break;
		case 6:
			if (sc_buf_get_u8(&in, &a) != 0 || sc_buf_get_u32_le(&in, &v) != 0)
				goto out;
			(void)client_open(a, v);
			break;
		default:
			if (sc_buf_get_u16_le(&in, &n16) != 0)
				goto out;
			split = n16;
			break;
		}
	}
out:
	/* The guest reboots a ring it scribbled on (keeps later inputs useful). */
	for (i = 0; i < 3; i++)
		if (reset_ring[i]) {
			sc_ring_reset(&ring[i]);
			(void)sc_hv_domain_ring_reset(hv, domids[i]);
		}
	return 0;
}
