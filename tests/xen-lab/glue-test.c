/*
 * glue-test — the core side of the Xen glue (hv/xen/glue/sc_xen_core.c)
 * in user space, on the hypervisor's crypto provider, with a console page
 * in ordinary memory standing in for the guest's: what sccrypt.c in Xen
 * relies on.
 *
 *   - seeding refuses a source without entropy; init generates a key;
 *   - GET_INFO through sc_xen_core_call reports that key;
 *   - attach queues SC_EV_DOMAIN_ADDED; SC_OP_EVENT hands events out one
 *     per call, then SC_ERR_AGAIN; a malformed EVENT request is refused;
 *   - guest output -> guest_event -> one coalesced SC_EV_OUTPUT event, the
 *     VIRQ raised, RAW_OUTPUT (unprotected) returns the bytes;
 *   - RAW_INPUT writes into the guest's in ring and notifies the guest;
 *   - the event queue never grows past one entry per (domain, session);
 *     more distinct events than it holds end in one SC_EV_LOST;
 *   - with disk_check the platform hook refuses; detach queues
 *     SC_EV_DOMAIN_GONE and the domain is gone; it scrubs the input the
 *     guest consumed;
 *   - a protected domain is never detached unless it is dying: the
 *     refusal (SC_ERR_PROTECTED) changes nothing, not even the page; when
 *     it is dying, the whole console page is scrubbed first;
 *   - sccrypt.c's attach (built by glue-xen.c with Xen stubbed) puts the
 *     console frame in the protection table before it scans for grant
 *     pins, for an attach that succeeds and one refused because the page
 *     is pinned; the refusal takes the mark off again (issue 12 item 8);
 *   - issue 14: a guest's console send never spins on the lock another CPU
 *     holds (it defers to the tasklet, which moves the ring once the lock
 *     is free); a hypercall copies from and to its caller with no lock
 *     held; a CALL naming a domain is checked by XSM against that domain
 *     and refused before the core when XSM says no; sccrypt_wipe() leaves
 *     no byte of the core or the history arena; init enables SCCrypt only
 *     with dom0's DMA confined (IOMMU strict) or the explicit unsafe
 *     override.
 *   - issue 14 item 6: a PROTECT and an OPEN through sccrypt.c run in
 *     three phases, begin and commit under the core's locks, the blob's and the
 *     handshake's public-key crypto with no lock held; a replayed OPEN is
 *     refused before any crypto.
 *   - issue 15 part B: with an owner CA (sc_xen_core_set_owner_ca) PROTECT
 *     needs that CA's ownership token (the disk-key check no longer
 *     refuses); a malformed sccrypt-owner-ca= disables SCCrypt at boot.
 * Run by crypto-diff.sh.  Prints "glue-test: N checks, M failed".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ops.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/handshake.h"
#include "core/wire.h"
#include "crypto/sc_crypto_ref.h"
#include "hv/core/ring.h"
#include "glue/sc_xen_core.h"
#include "glue-xen.h"

#define GT_DOMAINS	8	/* slots of each test context */

static unsigned long checks, failures;
static unsigned virqs, guest_notes, unchecked;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (ok)
		return;
	failures++;
	fputs("FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The Xen side's callbacks. */
void
sc_xen_notify_guest(uint32_t domid)
{
	(void)domid;
	guest_notes++;
}

void
sc_xen_raise_virq(void)
{
	virqs++;
}

void
sc_xen_warn_unchecked_disk_key(uint32_t domid)
{
	(void)domid;
	unchecked++;
}

void
sc_xen_fatal(const char *why)
{
	fprintf(stderr, "glue-test: fatal: %s\n", why);
	abort();
}

static size_t
src_none(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

static size_t
src_os(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
	return len;
}

static uint8_t req[SC_OP_MAX], resp[SC_OP_MAX];
static struct sc_op_hdr rh;
static const uint8_t *rpay;

/* One op; the response header in rh, its payload at rpay. */
static int call(struct sc_xen_core *c, uint16_t op, uint32_t domid, uint32_t arg,
    const void *payload, size_t len);

/*
 * PROTECT domid (UUID uuid) with a fresh VM secret and one owner; with a
 * token that ca_sk (Ed25519, NULL: no token) signed for that binding.
 */
static int
protect_tok(struct sc_xen_core *c, uint32_t domid, const uint8_t *uuid,
    const uint8_t *ca_sk)
{
	const struct sc_crypto *cp = sc_crypto_ref();
	static struct sc_registration reg;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	uint8_t owner_sk[32], msg[SC_OWNER_MSG_LEN], tok[SC_OWNER_TOKEN_LEN];
	struct sc_buf b;
	int r;

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, uuid, SC_XEN_UUID_LEN);
	cp->random(reg.vm_secret, sizeof(reg.vm_secret));
	cp->random(reg.disk_key, 32);
	reg.disk_key_len = 32;
	reg.generation = 1;
	reg.acl_count = 1;
	reg.acl[0].flags = SC_ACL_F_OWNER;
	if (sc_x25519_keypair(cp, reg.acl[0].pubkey, owner_sk) != 0)
		return SC_ERR_INTERNAL;
	if (ca_sk != NULL) {
		if (sc_owner_message(cp, reg.uuid, reg.acl, reg.acl_count, msg) != 0)
			return SC_ERR_INTERNAL;
		crypto_sign_ed25519_detached(tok, NULL, msg, sizeof(msg), ca_sk);
	}
	sc_buf_init(&b, blob, sizeof(blob));
	if ((r = sc_protect_seal(cp, &reg, sc_xen_core_pubkey(c),
	    ca_sk != NULL ? tok : NULL, &b)) != 0)
		return r;
	sodium_memzero(&reg, sizeof(reg));
	sodium_memzero(owner_sk, sizeof(owner_sk));
	if ((r = call(c, SC_OP_PROTECT, domid, 0, blob, b.len)) != 0)
		return r;
	return rh.status;
}

/*
 * Issue 14 item 6: one CALL through sccrypt.c (do_sccrypt_op) in buf: the
 * hypercall's result, the response header in rh.
 */
static long
xcall(uint8_t *buf, size_t cap, uint16_t op, uint32_t domid, const void *payload,
    size_t len)
{
	struct sc_op_hdr h;
	struct sc_buf b;
	long xr;

	memset(&h, 0, sizeof(h));
	h.magic = SC_OPS_MAGIC;
	h.version = SC_OPS_VERSION;
	h.op = op;
	h.domid = domid;
	h.len = (uint32_t)len;
	h.seq = 900 + op;
	sc_buf_init(&b, buf, cap);
	if (sc_op_hdr_put(&b, &h) != 0 || (len && sc_buf_put_bytes(&b, payload, len) != 0))
		return -1000;
	if ((xr = gx_call(buf, cap)) != 0)
		return xr;
	sc_buf_init_ro(&b, buf, cap);
	if (sc_op_hdr_get(&b, &rh) != 0 || rh.seq != h.seq)
		return -1001;
	rpay = buf + SC_OP_HDR_LEN;
	return 0;
}

/*
 * PROTECT and then OPEN domid (UUID uuid) through sccrypt.c: both run in
 * phases, their crypto with no lock held, begin and commit under the lock;
 * the client finishes its handshake with the hv's message 2.
 */
static void
xen_protect_open(struct sc_xen_core *c, uint32_t domid, const uint8_t *uuid)
{
	const struct sc_crypto *cp = sc_crypto_ref();
	static uint8_t buf[SC_XEN_OP_MAX];
	static struct sc_registration reg;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	struct sc_noise_handshake hs;
	struct gx_stats *st = gx_stats();
	uint8_t owner_sk[32], m1[SC_HS1_MSG_LEN], pl[SC_HS1_PAYLOAD_LEN];
	uint8_t hs2[SC_HS2_PAYLOAD_LEN + 16];
	struct sc_hs1 h1;
	struct sc_buf b, mb, pb;
	long xr;

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, uuid, SC_XEN_UUID_LEN);
	cp->random(reg.vm_secret, sizeof(reg.vm_secret));
	reg.disk_key_len = 32;
	reg.generation = 1;
	reg.acl_count = 1;
	reg.acl[0].flags = SC_ACL_F_OWNER;
	check(sc_x25519_keypair(cp, reg.acl[0].pubkey, owner_sk) == 0, "owner key");
	sc_buf_init(&b, blob, sizeof(blob));
	check(sc_protect_seal(cp, &reg, sc_xen_core_pubkey(c), NULL, &b) == 0, "seal");
	memset(st->phases, 0, sizeof(st->phases));
	memset(st->phases_locked, 0, sizeof(st->phases_locked));
	xr = xcall(buf, sizeof(buf), SC_OP_PROTECT, domid, blob, b.len);
	check(xr == 0 && rh.status == 0, "PROTECT through sccrypt.c: %ld status %d",
	    xr, rh.status);
	check(st->phases[0] == 1 && st->phases[1] == 1 && st->phases[2] == 1,
	    "PROTECT did not run in phases (%lu %lu %lu)", st->phases[0],
	    st->phases[1], st->phases[2]);
	check(st->phases_locked[1] == 0, "PROTECT's blob opened with the lock held");
	check(st->phases_locked[0] == 1 && st->phases_locked[2] == 1,
	    "PROTECT's begin or commit ran without the lock");

	check(sc_hs_init(&hs, cp, true, uuid, sc_xen_core_pubkey(c), owner_sk,
	    reg.vm_secret) == 0, "client handshake");
	memset(&h1, 0, sizeof(h1));
	sc_buf_init(&pb, pl, sizeof(pl));
	sc_buf_init(&mb, m1, sizeof(m1));
	check(sc_hs1_put(&pb, &h1) == 0 && sc_noise_hs_write(&hs, pl, pb.len, &mb) == 0 &&
	    mb.len == sizeof(m1), "message 1");
	memset(st->phases, 0, sizeof(st->phases));
	memset(st->phases_locked, 0, sizeof(st->phases_locked));
	xr = xcall(buf, sizeof(buf), SC_OP_OPEN, domid, m1, sizeof(m1));
	check(xr == 0 && rh.status == 0 && rh.session != 0 && rh.len == SC_HS2_MSG_LEN,
	    "OPEN through sccrypt.c: %ld status %d", xr, rh.status);
	sc_buf_init(&pb, hs2, sizeof(hs2));
	check(sc_noise_hs_read(&hs, rpay, rh.len, &pb) == 0,
	    "the client cannot read the hv's message 2");
	check(st->phases[0] == 1 && st->phases[1] == 1 && st->phases[2] == 1,
	    "OPEN did not run in phases (%lu %lu %lu)", st->phases[0],
	    st->phases[1], st->phases[2]);
	check(st->phases_locked[1] == 0, "OPEN's X25519 ran with the lock held");
	check(st->phases_locked[0] == 1 && st->phases_locked[2] == 1,
	    "OPEN's begin or commit ran without the lock");
	/* A replay of message 1 is refused at begin: no crypto at all. */
	memset(st->phases, 0, sizeof(st->phases));
	xr = xcall(buf, sizeof(buf), SC_OP_OPEN, domid, m1, sizeof(m1));
	check(xr == 0 && rh.status == SC_ERR_DECRYPT && st->phases[1] == 0,
	    "a replayed OPEN: %ld status %d, %lu crypto phases", xr, rh.status,
	    st->phases[1]);
	sc_noise_hs_wipe(&hs);
	sodium_memzero(&reg, sizeof(reg));
	sodium_memzero(owner_sk, sizeof(owner_sk));
}

static int
protect(struct sc_xen_core *c, uint32_t domid, const uint8_t *uuid)
{
	return protect_tok(c, domid, uuid, NULL);
}

/* The flags word of STATUS of domid, or 0xffffffff. */
static uint32_t
status_flags(struct sc_xen_core *c, uint32_t domid)
{
	if (call(c, SC_OP_STATUS, domid, 0, NULL, 0) != 0 || rh.status != 0 || rh.len < 4)
		return 0xffffffffu;
	return (uint32_t)rpay[0] | (uint32_t)rpay[1] << 8 | (uint32_t)rpay[2] << 16 |
	    (uint32_t)rpay[3] << 24;
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static int
call(struct sc_xen_core *c, uint16_t op, uint32_t domid, uint32_t arg,
    const void *payload, size_t len)
{
	static uint32_t seq = 1;
	struct sc_op_hdr h;
	struct sc_buf b;
	size_t rlen;
	int r;

	memset(&h, 0, sizeof(h));
	h.magic = SC_OPS_MAGIC;
	h.version = SC_OPS_VERSION;
	h.op = op;
	h.domid = domid;
	h.arg = arg;
	h.len = (uint32_t)len;
	h.seq = seq++;
	sc_buf_init(&b, req, sizeof(req));
	if (sc_op_hdr_put(&b, &h) != 0 || (len && sc_buf_put_bytes(&b, payload, len) != 0))
		return SC_ERR_INTERNAL;
	if ((r = sc_xen_core_call(c, req, SC_OP_HDR_LEN + len, resp, sizeof(resp), &rlen)) != 0)
		return r;
	sc_buf_init_ro(&b, resp, rlen);
	if ((r = sc_op_hdr_get(&b, &rh)) != 0)
		return r;
	if (rh.seq != h.seq || rh.op != op || SC_OP_HDR_LEN + (size_t)rh.len != rlen)
		return SC_ERR_FORMAT;
	rpay = resp + SC_OP_HDR_LEN;
	return 0;
}

int
main(void)
{
	static uint8_t arena[1 << 20];
	static struct xencons_interface page;
	struct sc_xen_core *c, *c2;
	uint8_t uuid[SC_XEN_UUID_LEN];
	size_t w, n;
	unsigned i, events;
	const char *out = "hello from the guest\r\n";
	uint8_t got[64];

	if (sodium_init() < 0)
		return 2;
	check(sc_xen_core_seed(src_none, NULL, "t", 1) < 0, "seeded without entropy");
	check(sc_xen_core_seed(src_os, NULL, "t", 1) == 0, "seeding failed");
	c = calloc(1, sc_xen_core_size(GT_DOMAINS));
	c2 = calloc(1, sc_xen_core_size(GT_DOMAINS));
	if (c == NULL || c2 == NULL)
		return 2;
	check(sc_xen_core_size(0) == 0, "a context for no domains");
	check(sc_xen_core_init(c, arena, sizeof(arena), false, GT_DOMAINS) == 0, "init failed");

	check(call(c, SC_OP_GET_INFO, 0, 0, NULL, 0) == 0 && rh.status == 0 &&
	    rh.len >= SC_XEN_KEY_LEN && memcmp(rpay, sc_xen_core_pubkey(c), SC_XEN_KEY_LEN) == 0,
	    "GET_INFO does not report the hv key");
	check(rh.len >= SC_XEN_KEY_LEN + 12 &&
	    (rpay[SC_XEN_KEY_LEN + 8] | rpay[SC_XEN_KEY_LEN + 9] << 8) == GT_DOMAINS,
	    "GET_INFO does not report the context's %d domain slots", GT_DOMAINS);
	check(call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == SC_ERR_AGAIN,
	    "EVENT on an empty queue: status %d", rh.status);

	randombytes_buf(uuid, sizeof(uuid));
	sc_ring_reset(&page);
	virqs = 0;
	check(sc_xen_core_attach(c, 7, uuid, "vm7", &page, 0) == 0, "attach failed");
	check(virqs > 0, "attach raised no VIRQ");
	check(sc_xen_core_attach(c, 7, uuid, "vm7", &page, 0) == SC_ERR_BUSY,
	    "second attach of the same domain accepted");
	check(call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0 &&
	    rh.domid == 7 && (rh.arg & SC_EV_DOMAIN_ADDED),
	    "no DOMAIN_ADDED event after attach (status %d arg %#x)", rh.status, rh.arg);
	check(call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == SC_ERR_AGAIN,
	    "queue not empty after one event");
	check(call(c, SC_OP_EVENT, 0, 0, "x", 1) == 0 && rh.status != 0 &&
	    rh.status != SC_ERR_AGAIN, "EVENT with a payload accepted");

	/* Guest output, signalled three times: one coalesced event. */
	check(sc_ring_guest_out_write(&page, (const uint8_t *)out, strlen(out), &w) == 0 &&
	    w == strlen(out), "guest write");
	virqs = 0;
	for (i = 0; i < 3; i++)
		check(sc_xen_core_guest_event(c, 7, false) == 0, "guest event");
	check(virqs > 0, "guest output raised no VIRQ");
	check(sc_xen_core_pending_events(c) == 1, "events not coalesced: %u queued",
	    sc_xen_core_pending_events(c));
	events = 0;
	while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
		events |= rh.domid == 7 ? rh.arg : 0;
	check(events & SC_EV_OUTPUT, "no OUTPUT event for guest output (bits %#x)", events);
	check(call(c, SC_OP_RAW_OUTPUT, 7, 0, NULL, 0) == 0 && rh.status == 0 &&
	    rh.len == strlen(out) && memcmp(rpay, out, strlen(out)) == 0,
	    "RAW_OUTPUT of an unprotected domain (status %d len %u)", rh.status, rh.len);

	/* Input for the guest. */
	guest_notes = 0;
	check(call(c, SC_OP_RAW_INPUT, 7, 0, "ls\r", 3) == 0 && rh.status == 0 && rh.arg == 3,
	    "RAW_INPUT (status %d arg %u)", rh.status, rh.arg);
	check(guest_notes > 0, "the guest was not notified of input");
	check(sc_ring_guest_in_read(&page, got, sizeof(got), &n) == 0 && n == 3 &&
	    memcmp(got, "ls\r", 3) == 0, "the guest did not get its input");

	/* A corrupted ring: an error, the domain is reported broken. */
	page.out_prod = page.out_cons + 4096;
	check(sc_xen_core_guest_event(c, 7, false) == SC_ERR_CORRUPT, "corrupt ring not detected");
	check(status_flags(c, 7) & SC_DOM_F_BROKEN, "a corrupt ring is not reported broken");
	check(sc_xen_core_guest_event(c, 7, false) == SC_ERR_CORRUPT,
	    "a ring that is still corrupt was taken back");
	/*
	 * Issue 14 item 10: the guest puts consistent indices back (it
	 * re-initialised its console): the next notification takes the ring
	 * back, no longer broken, and its output flows again.
	 */
	page.out_prod = page.out_cons;
	check(sc_xen_core_guest_event(c, 7, false) == 0, "a repaired ring was not taken back");
	check(!(status_flags(c, 7) & SC_DOM_F_BROKEN), "a repaired ring is still reported broken");
	check(sc_ring_guest_out_write(&page, (const uint8_t *)"again", 5, &w) == 0 && w == 5 &&
	    sc_xen_core_guest_event(c, 7, false) == 0, "guest output after the repair");
	check(call(c, SC_OP_RAW_OUTPUT, 7, 0, NULL, 0) == 0 && rh.status == 0 &&
	    rh.len == 5 && memcmp(rpay, "again", 5) == 0,
	    "RAW_OUTPUT after the repair (status %d len %u)", rh.status, rh.len);

	/* Detach: the consumed input ("ls\r") is scrubbed from the page. */
	while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
		;
	check(memcmp(page.in, "ls\r", 3) == 0, "the consumed input is not where expected");
	check(sc_xen_core_detach(c, 7, false) == 0, "detach failed");
	check(all_zero(page.in, sizeof(page.in)), "detach left consumed input in the page");
	check(call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0 &&
	    rh.domid == 7 && (rh.arg & SC_EV_DOMAIN_GONE), "no DOMAIN_GONE event");
	check(sc_xen_core_detach(c, 7, false) == SC_ERR_NOTFOUND, "double detach accepted");

	/*
	 * Issue 12 item 4: dom0 may not unprotect a live protected domain.
	 * Domain 9 is protected, has printed something and has input it has
	 * not read yet; detach as dom0 asks it (not dying) is refused and
	 * leaves everything as it was; as domain_kill asks it (dying), it
	 * goes and its whole console page is scrubbed first.
	 */
	{
		static struct xencons_interface page9;
		const char *secret = "root@vm9:~# cat /etc/shadow\r\n";

		sc_ring_reset(&page9);
		randombytes_buf(uuid, sizeof(uuid));
		check(sc_xen_core_attach(c, 9, uuid, "vm9", &page9, 0) == 0, "attach of vm9");
		unchecked = 0;
		check(protect(c, 9, uuid) == 0, "PROTECT of vm9 (status %d)", rh.status);
		check(unchecked == 1, "PROTECT without the disk-key check was not reported");
		check(status_flags(c, 9) & SC_DOM_F_PROTECTED, "vm9 not protected");
		check(sc_ring_guest_out_write(&page9, (const uint8_t *)secret,
		    strlen(secret), &w) == 0 && w == strlen(secret), "vm9 guest write");
		check(sc_xen_core_guest_event(c, 9, false) == 0, "vm9 guest event");
		memcpy(page9.in, "typed", 5);
		page9.in_prod = page9.in_cons = 5;
		memcpy(page9.out + (page9.out_prod & (SC_RING_OUT_SIZE - 1)), "unread", 6);
		page9.out_prod += 6;	/* not yet drained */

		check(sc_xen_core_detach(c, 9, false) == SC_ERR_PROTECTED,
		    "detach of a live protected domain accepted");
		check(status_flags(c, 9) & SC_DOM_F_PROTECTED,
		    "a refused detach unprotected vm9");
		check(memcmp(page9.in, "typed", 5) == 0 &&
		    memcmp(page9.out + strlen(secret), "unread", 6) == 0 &&
		    page9.out_prod - page9.out_cons == 6, "a refused detach touched the page");
		check(sc_xen_core_detach(c, 9, true) == 0, "detach of a dying protected domain");
		check(all_zero(page9.in, sizeof(page9.in)) && all_zero(page9.out,
		    sizeof(page9.out)), "the dying protected domain's page was not scrubbed");
		check(page9.out_cons == page9.out_prod, "unread output left in the ring");
		check(status_flags(c, 9) == 0xffffffffu && rh.status == SC_ERR_NOTFOUND,
		    "vm9 still attached after detach (status %d)", rh.status);
		while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
			;
	}

	/*
	 * More distinct events than the queue holds (attach and detach
	 * domids 100..100+EVQ): the oldest are handed out, then one LOST
	 * event tells dom0 to resynchronise, then the queue is empty.
	 */
	for (i = 0; i <= SC_XEN_EVQ_SIZE; i++) {
		if (sc_xen_core_attach(c, 100 + i, uuid, "churn", &page, 0) != 0 ||
		    sc_xen_core_detach(c, 100 + i, false) != 0)
			break;
	}
	check(i == SC_XEN_EVQ_SIZE + 1, "attach/detach churn stopped at %u", i);
	events = n = 0;
	while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0) {
		n++;
		events = rh.arg;
	}
	check(n == SC_XEN_EVQ_SIZE + 1 && (events & SC_EV_LOST),
	    "overflowed queue: %zu events, the last %#x (want %d, LOST)", n, events,
	    SC_XEN_EVQ_SIZE + 1);
	check(call(c, SC_OP_STATUS, 7, 0, NULL, 0) == 0 && rh.status == SC_ERR_NOTFOUND,
	    "STATUS of a detached domain: %d", rh.status);

	/*
	 * Issue 12 item 8: attach protects the console frame, then scans for
	 * grant pins.  The other order left a window where a grant map taken
	 * between the scan and the protection kept the page: the stubbed scan
	 * records whether a mapping would have seen the frame protected at
	 * the moment of the scan.  Slot 0 (vm30) attaches; slot 1 (vm31) has
	 * a pinned page: -EBUSY, and its mark is gone while vm30's stays.
	 */
	{
		static struct xencons_interface page30, page31;
		struct gx_pin_check pc;
		long xr;

		gx_setup(c);
		randombytes_buf(uuid, sizeof(uuid));
		sc_ring_reset(&page30);
		check(!gx_mfn_protected(0x30000), "frame protected before attach");
		xr = gx_attach(0, 30, 0x30000, &page30, false, uuid, &pc);
		check(xr == 0, "xen attach of vm30: %ld", xr);
		check(pc.calls == 1 && pc.mfn == 0x30000,
		    "attach scanned %u times for pins, the last of frame %#" PRIx64,
		    pc.calls, pc.mfn);
		check(pc.protected_then,
		    "attach scanned for grant pins before protecting the frame");
		check(gx_mfn_protected(0x30000), "attached frame not protected");

		randombytes_buf(uuid, sizeof(uuid));
		sc_ring_reset(&page31);
		xr = gx_attach(1, 31, 0x31000, &page31, true, uuid, &pc);
		check(xr == -EBUSY, "xen attach of a pinned page: %ld, not -EBUSY", xr);
		check(pc.calls == 1 && pc.mfn == 0x31000,
		    "refused attach scanned %u times for pins, the last of frame %#" PRIx64,
		    pc.calls, pc.mfn);
		check(pc.protected_then,
		    "refused attach scanned for grant pins before protecting the frame");
		check(!gx_mfn_protected(0x31000), "a refused attach left its frame protected");
		check(gx_mfn_protected(0x30000), "a refused attach unprotected another frame");
		check(call(c, SC_OP_STATUS, 31, 0, NULL, 0) == 0 && rh.status == SC_ERR_NOTFOUND,
		    "a refused attach reached the core (status %d)", rh.status);

		gx_kill(0);
		check(!gx_mfn_protected(0x30000), "a dead domain's frame still protected");
		while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
			;
	}

	/*
	 * Issue 14 items 7 and 10: attach takes only the domain it names (the
	 * UUID it was created with), a PV domain, and ordinary RAM that domain
	 * owns; each refusal comes before the page is protected or scanned.
	 * A second attach of a page already protected fails and leaves the
	 * first one's protection alone.
	 */
	{
		static struct xencons_interface page32;
		uint8_t other[sizeof(uuid)];
		struct gx_pin_check pc;
		long xr;

		randombytes_buf(uuid, sizeof(uuid));
		memcpy(other, uuid, sizeof(other));
		other[7] ^= 0x10;
		sc_ring_reset(&page32);
		xr = gx_attach_ex(2, 32, 0x32000, &page32, false, uuid, other, true,
		    GX_PAGE_RAM, &pc);
		check(xr == -ESRCH, "attach with another domain's UUID: %ld, not -ESRCH", xr);
		check(pc.calls == 0 && !gx_mfn_protected(0x32000),
		    "a UUID mismatch got as far as the protection");
		/*
		 * Issue 16: an HVM domain's console is a gfn: it must be the
		 * domain's HVM_PARAM_CONSOLE_PFN, map RAM (p2m_ram_rw), no altp2m;
		 * an entry that changes while the attach pins it is refused.
		 * Each refusal leaves nothing protected or pinned.
		 */
		xr = gx_hvm_attach(2, 32, 0x32000, 0xfefff, p2m_ram_rw, false, false,
		    &page32, uuid);
		check(xr == -EINVAL, "HVM attach of a gfn that is not its console's: %ld, not -EINVAL", xr);
		check(!gx_mfn_protected(0x32000) && !gx_hvm_pinned(2),
		    "HVM attach of another gfn protected or pinned it");
		xr = gx_hvm_attach(2, 32, 0x32000, 0x32000, p2m_map_foreign, false, false,
		    &page32, uuid);
		check(xr == -EPERM, "HVM attach of a p2m_map_foreign gfn: %ld, not -EPERM", xr);
		xr = gx_hvm_attach(2, 32, 0x32000, 0x32000, p2m_grant_map_rw, false, false,
		    &page32, uuid);
		check(xr == -EPERM, "HVM attach of a grant-mapped gfn: %ld, not -EPERM", xr);
		xr = gx_hvm_attach(2, 32, 0x32000, 0x32000, p2m_ioreq_server, false, false,
		    &page32, uuid);
		check(xr == -EPERM, "HVM attach of an ioreq_server gfn: %ld, not -EPERM", xr);
		xr = gx_hvm_attach(2, 32, 0x32000, 0x32000, p2m_ram_rw, false, true,
		    &page32, uuid);
		check(xr == -EPERM, "HVM attach with altp2m active: %ld, not -EPERM", xr);
		check(!gx_mfn_protected(0x32000) && !gx_hvm_pinned(2),
		    "a refused HVM attach protected or pinned the gfn");
		xr = gx_hvm_attach(2, 32, 0x32000, 0x32000, p2m_ram_rw, true, false,
		    &page32, uuid);
		check(xr == -EBUSY, "HVM attach whose p2m entry changed meanwhile: %ld, not -EBUSY", xr);
		check(!gx_mfn_protected(0x32000) && !gx_hvm_pinned(2),
		    "a raced HVM attach left the gfn protected or pinned");
		xr = gx_hvm_attach(2, 32, 0x32000, 0x32000, p2m_ram_rw, false, false,
		    &page32, uuid);
		check(xr == 0 && gx_mfn_protected(0x32000) && gx_hvm_pinned(2),
		    "HVM attach of its RAM console gfn: %ld (protected %d, pinned %d)", xr,
		    gx_mfn_protected(0x32000), gx_hvm_pinned(2));
		check(!gx_p2m_change_ok(2, 0x32000, ~0ULL, 1, p2m_ram_rw) &&
		    !gx_p2m_change_ok(2, 0x31f00, ~0ULL, 512, p2m_ram_rw),
		    "the pinned gfn may be removed (decrease_reservation)");
		check(!gx_p2m_change_ok(2, 0x32000, 0x99000, 1, p2m_ram_rw),
		    "the pinned gfn may map another frame (populate)");
		check(!gx_p2m_change_ok(2, 0x32000, 0x32000, 1, p2m_ioreq_server) &&
		    !gx_p2m_change_ok(2, 0x32000, 0x32000, 1, p2m_ram_ro),
		    "the pinned gfn may be retyped (set_mem_type)");
		check(gx_p2m_change_ok(2, 0x32000, 0x32000, 1, p2m_ram_logdirty) &&
		    gx_p2m_change_ok(2, 0x32000, 0x32000, 1, p2m_ram_rw) &&
		    gx_p2m_change_ok(2, 0x31f00, 0x31f00, 512, p2m_ram_logdirty) &&
		    gx_p2m_change_ok(2, 0x31fff, ~0ULL, 1, p2m_ram_rw) &&
		    gx_p2m_change_ok(2, 0x32001, 0x5000, 1, p2m_ram_ro),
		    "a change that keeps the pinned frame, or misses the gfn, refused");
		check(gx_detach(32) == 0 && !gx_hvm_pinned(2) && !gx_mfn_protected(0x32000) &&
		    gx_p2m_change_ok(2, 0x32000, ~0ULL, 1, p2m_ram_rw),
		    "detach of the unprotected HVM domain did not unpin it");
		while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
			;
		xr = gx_attach_ex(2, 32, 0x32000, &page32, false, uuid, uuid, true,
		    GX_PAGE_SPECIAL, &pc);
		check(xr == -EPERM, "attach of a Xen heap page (shared_info): %ld, not -EPERM", xr);
		check(pc.calls == 0 && !gx_mfn_protected(0x32000),
		    "a special page was protected");
		xr = gx_attach_ex(2, 32, 0x32000, &page32, false, uuid, uuid, true,
		    GX_PAGE_FOREIGN, &pc);
		check(xr == -EPERM, "attach of another domain's page: %ld, not -EPERM", xr);
		check(pc.calls == 0 && !gx_mfn_protected(0x32000),
		    "another domain's page was protected");
		check(call(c, SC_OP_STATUS, 32, 0, NULL, 0) == 0 && rh.status == SC_ERR_NOTFOUND,
		    "a refused attach reached the core (status %d)", rh.status);
		xr = gx_attach_ex(2, 32, 0x32000, &page32, false, uuid, uuid, true,
		    GX_PAGE_RAM, &pc);
		check(xr == 0, "attach of ordinary RAM with the right UUID: %ld", xr);
		check(gx_mfn_protected(0x32000), "attached frame not protected");
		xr = gx_attach_ex(2, 32, 0x32000, &page32, false, uuid, uuid, true,
		    GX_PAGE_RAM, &pc);
		check(xr == -EEXIST, "second attach of a protected page: %ld, not -EEXIST", xr);
		check(gx_mfn_protected(0x32000), "a refused second attach unprotected the page");
		gx_kill(2);
		check(!gx_mfn_protected(0x32000), "a dead domain's frame still protected");
		while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
			;
	}

	/*
	 * Issue 14 items 1, 6 and 9 on sccrypt.c (Xen stubbed).  vm32 is
	 * attached; another CPU holds the core's table lock (a lookup)
	 * while vm32's guest writes output and signals: the send must not
	 * spin, it defers; the tasklet moves the ring once the lock is free.
	 */
	{
		static struct xencons_interface page32;
		struct gx_stats *st = gx_stats();
		struct gx_pin_check pc;
		static uint8_t cbuf[SC_XEN_OP_MAX];
		struct sc_op_hdr h;
		unsigned long spins, deferred;
		struct sc_buf b;
		long xr;

		randombytes_buf(uuid, sizeof(uuid));
		sc_ring_reset(&page32);
		xr = gx_attach(2, 32, 0x32000, &page32, false, uuid, &pc);
		check(xr == 0, "xen attach of vm32: %ld", xr);
		while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
			;
		memcpy(page32.out, "busy", 4);
		page32.out_prod += 4;
		spins = st->spins;
		deferred = st->deferred;
		gx_other_cpu_holds_lock(true);
		gx_guest_send(2);
		check(st->spins == spins,
		    "a guest's console send spun on the lock another CPU held");
		check(st->deferred == deferred + 1, "a busy lock did not defer the guest event");
		check(sc_xen_core_pending_events(c) == 0, "the core ran without the lock");
		gx_other_cpu_holds_lock(false);
		check(gx_run_tasklet(), "no tasklet scheduled for the deferred guest event");
		check(call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0 &&
		    rh.domid == 32 && (rh.arg & SC_EV_OUTPUT),
		    "the tasklet did not move vm32's output (event status %d domid %u)",
		    rh.status, rh.domid);
		check(call(c, SC_OP_RAW_OUTPUT, 32, 0, NULL, 0) == 0 && rh.status == 0 &&
		    rh.len == 4 && memcmp(rpay, "busy", 4) == 0,
		    "RAW_OUTPUT of vm32 after the tasklet (status %d len %u)", rh.status, rh.len);
		/* Uncontended: moved at once, nothing deferred. */
		memcpy(page32.out + 4, "free", 4);
		page32.out_prod += 4;
		deferred = st->deferred;
		gx_guest_send(2);
		check(sc_xen_core_pending_events(c) == 1 && st->deferred == deferred &&
		    !gx_run_tasklet(), "an uncontended guest send was deferred");
		while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
			;

		/* Item 6: no lock is held across the caller's buffer copies. */
		memset(&h, 0, sizeof(h));
		h.magic = SC_OPS_MAGIC;
		h.version = SC_OPS_VERSION;
		h.op = SC_OP_GET_INFO;
		h.seq = 77;
		sc_buf_init(&b, cbuf, sizeof(cbuf));
		check(sc_op_hdr_put(&b, &h) == 0, "GET_INFO header");
		st->copies = st->copies_locked = 0;
		xr = gx_call(cbuf, sizeof(cbuf));
		check(xr == 0 && st->copies >= 2, "CALL GET_INFO: %ld (%lu copies)", xr, st->copies);
		check(st->copies_locked == 0,
		    "%lu of %lu guest copies of a CALL made with a lock held",
		    st->copies_locked, st->copies);

		/* Item 9: CALL naming vm32 is checked against vm32; XSM can refuse. */
		h.op = SC_OP_STATUS;
		h.domid = 32;
		h.seq = 78;
		sc_buf_init(&b, cbuf, sizeof(cbuf));
		check(sc_op_hdr_put(&b, &h) == 0, "STATUS header");
		st->xsm_call_target = 0;
		xr = gx_call(cbuf, sizeof(cbuf));
		check(xr == 0 && st->xsm_call_target == 32,
		    "CALL STATUS of vm32: %ld, per-target XSM check of domain %u",
		    xr, st->xsm_call_target);
		st->deny_domid = 32;
		sc_buf_init(&b, cbuf, sizeof(cbuf));
		check(sc_op_hdr_put(&b, &h) == 0, "STATUS header");
		xr = gx_call(cbuf, sizeof(cbuf));
		sc_buf_init_ro(&b, cbuf, SC_OP_HDR_LEN);
		check(xr == -EACCES && sc_op_hdr_get(&b, &h) == 0 && h.op == SC_OP_STATUS &&
		    h.status == 0, "XSM refusal of CALL for vm32: %ld (the core answered?)", xr);
		h.op = SC_OP_GET_INFO;
		h.domid = 0;
		sc_buf_init(&b, cbuf, sizeof(cbuf));
		check(sc_op_hdr_put(&b, &h) == 0, "GET_INFO header");
		xr = gx_call(cbuf, sizeof(cbuf));
		check(xr == 0, "GET_INFO (no target) refused with vm32 denied: %ld", xr);
		st->deny_domid = 0;
		/* Item 6: OPEN's and PROTECT's public-key crypto without the lock. */
		xen_protect_open(c, 32, uuid);
		gx_kill(2);
		while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
			;
	}

	/* A second context: its own key. */
	check(sc_xen_core_init(c2, NULL, 0, true, GT_DOMAINS) == 0, "init of a second context");
	check(memcmp(sc_xen_core_pubkey(c), sc_xen_core_pubkey(c2), SC_XEN_KEY_LEN) != 0,
	    "two contexts got the same key");

	/*
	 * Issue 15 part B: a context with disk_check on and an owner CA.  Without a token, or with another CA's, PROTECT is refused
	 * (untrusted, not unsupported); with the CA's token it binds.
	 */
	{
		static struct xencons_interface page11;
		static uint8_t arena4[1 << 16];
		struct sc_xen_core *c4 = calloc(1, sc_xen_core_size(GT_DOMAINS));
		uint8_t ca_pk[32], ca_sk[64], other_pk[32], other_sk[64];

		check(c4 != NULL && sc_xen_core_init(c4, arena4, sizeof(arena4), true,
		    GT_DOMAINS) == 0, "init of a context with disk_check");

		crypto_sign_ed25519_keypair(ca_pk, ca_sk);
		crypto_sign_ed25519_keypair(other_pk, other_sk);
		sc_ring_reset(&page11);
		randombytes_buf(uuid, sizeof(uuid));
		check(sc_xen_core_attach(c4, 11, uuid, "vm11", &page11, 0) == 0, "attach of vm11");
		check(protect(c4, 11, uuid) == SC_ERR_UNSUPPORTED,
		    "disk_check without a CA: PROTECT not refused as unsupported (%d)", rh.status);
		check(sc_xen_core_set_owner_ca(c4, ca_pk) == 0, "set the owner CA");
		check(sc_xen_core_set_owner_ca(c4, other_pk) == SC_ERR_STATE,
		    "the owner CA was replaced");
		check(protect(c4, 11, uuid) == SC_ERR_UNTRUSTED,
		    "PROTECT without a token not refused as untrusted (%d)", rh.status);
		check(protect_tok(c4, 11, uuid, other_sk) == SC_ERR_UNTRUSTED,
		    "PROTECT with another CA's token not refused (%d)", rh.status);
		check(!(status_flags(c4, 11) & SC_DOM_F_PROTECTED), "vm11 protected by a refusal");
		unchecked = 0;
		check(protect_tok(c4, 11, uuid, ca_sk) == 0,
		    "PROTECT with the owner CA's token refused (%d)", rh.status);
		check(unchecked == 0, "a token binding reported as unchecked");
		check(status_flags(c4, 11) & SC_DOM_F_PROTECTED, "vm11 not protected");
		sodium_memzero(ca_sk, sizeof(ca_sk));
		sodium_memzero(other_sk, sizeof(other_sk));
		free(c4);
	}

#ifndef GX_BEFORE_ISSUE14_4
	/*
	 * Issue 14 item 4: the crash/restart wipe leaves nothing of a core
	 * (its hv key included) or the history arena; and init fails closed
	 * when dom0's DMA is not confined.  Last: init reseeds the provider's
	 * generator from the (empty, off-Xen) hardware source, unseeding it.
	 */
	{
		size_t n64 = sc_xen_core_size(64);
		struct sc_xen_core *c3 = calloc(1, n64);
		static uint8_t arena3[1 << 16];
		const char *m;

		check(c3 != NULL && sc_xen_core_init(c3, arena3, sizeof(arena3), false, 64) == 0,
		    "init of a 64-slot context");
		check(!all_zero(sc_xen_core_pubkey(c3), SC_XEN_KEY_LEN), "no key");
		memset(arena3, 0x5a, sizeof(arena3));
		gx_wipe(c3, arena3, sizeof(arena3));
		check(all_zero(c3, n64), "sccrypt_wipe() left bytes of the core");
		check(all_zero(arena3, sizeof(arena3)), "sccrypt_wipe() left bytes of the arena");
		free(c3);

		m = gx_boot(false, false, false, false);
		check(m != NULL && strstr(m, "not confined") && strstr(m, "disabled"),
		    "no IOMMU: init went on (%s)", m ? m : "no message");
		m = gx_boot(true, false, false, false);
		check(m != NULL && strstr(m, "not confined"),
		    "IOMMU relaxed for dom0: init went on (%s)", m ? m : "no message");
		m = gx_boot(true, true, true, false);
		check(m != NULL && strstr(m, "not confined"),
		    "dom0 IOMMU passthrough: init went on (%s)", m ? m : "no message");
		m = gx_boot(true, true, false, false);
		check(m != NULL && strstr(m, "random number generator"),
		    "IOMMU strict: init stopped before the RNG (%s)", m ? m : "no message");
		m = gx_boot(false, false, false, true);
		check(m != NULL && strstr(m, "random number generator"),
		    "sccrypt-unsafe-no-iommu=1: init stopped before the RNG (%s)",
		    m ? m : "no message");
		/* sccrypt-owner-ca=: exactly 64 hex digits, else disabled. */
		{
			static const char *bad[] = {
				"00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
				"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
				"00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
				"yes",
			};
			size_t k;

			for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
				gx_owner_ca(bad[k]);
				m = gx_boot(true, true, false, false);
				check(m != NULL && strstr(m, "sccrypt-owner-ca=") &&
				    strstr(m, "disabled"), "sccrypt-owner-ca=%s: init "
				    "went on (%s)", bad[k], m ? m : "no message");
			}
			gx_owner_ca("00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff");
			m = gx_boot(true, true, false, false);
			check(m != NULL && strstr(m, "random number generator"),
			    "a valid sccrypt-owner-ca= refused (%s)", m ? m : "no message");
			gx_owner_ca(NULL);
		}
	}
#endif

	printf("glue-test: %lu checks, %lu failed\n", checks, failures);
	sodium_memzero(c, sc_xen_core_size(GT_DOMAINS));
	sodium_memzero(c2, sc_xen_core_size(GT_DOMAINS));
	free(c);
	free(c2);
	return failures == 0 ? 0 : 1;
}
