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
 *     SC_EV_DOMAIN_GONE and the domain is gone.
 * Run by crypto-diff.sh.  Prints "glue-test: N checks, M failed".
 */
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
#include "hv/core/ring.h"
#include "glue/sc_xen_core.h"

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
		check(sc_xen_core_guest_event(c, 7) == 0, "guest event");
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
	check(sc_xen_core_guest_event(c, 7) == SC_ERR_CORRUPT, "corrupt ring not detected");

	/* Detach. */
	while (call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0)
		;
	check(sc_xen_core_detach(c, 7) == 0, "detach failed");
	check(call(c, SC_OP_EVENT, 0, 0, NULL, 0) == 0 && rh.status == 0 &&
	    rh.domid == 7 && (rh.arg & SC_EV_DOMAIN_GONE), "no DOMAIN_GONE event");
	check(sc_xen_core_detach(c, 7) == SC_ERR_NOTFOUND, "double detach accepted");

	/*
	 * More distinct events than the queue holds (attach and detach
	 * domids 100..100+EVQ): the oldest are handed out, then one LOST
	 * event tells dom0 to resynchronise, then the queue is empty.
	 */
	for (i = 0; i <= SC_XEN_EVQ_SIZE; i++) {
		if (sc_xen_core_attach(c, 100 + i, uuid, "churn", &page, 0) != 0 ||
		    sc_xen_core_detach(c, 100 + i) != 0)
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

	/* A second context: its own key. */
	check(sc_xen_core_init(c2, NULL, 0, true, GT_DOMAINS) == 0, "init of a second context");
	check(memcmp(sc_xen_core_pubkey(c), sc_xen_core_pubkey(c2), SC_XEN_KEY_LEN) != 0,
	    "two contexts got the same key");

	printf("glue-test: %lu checks, %lu failed\n", checks, failures);
	sodium_memzero(c, sc_xen_core_size(GT_DOMAINS));
	sodium_memzero(c2, sc_xen_core_size(GT_DOMAINS));
	free(c);
	free(c2);
	return failures == 0 ? 0 : 1;
}
