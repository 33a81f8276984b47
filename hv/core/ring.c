/*
 * ring.c — the ring engine over struct xencons_interface (see ring.h).
 *
 * One producer and one consumer routine serve both directions; the public
 * functions only pick the ring array and the index pair.  Every index of the
 * shared page is read exactly once per call and checked before use: the
 * other side may change it at any time, and may lie.
 */
#include "core/compat.h"
#include "core/err.h"
#include "ring.h"

struct ring_view {
	char		*data;
	uint32_t	 size;		/* power of two */
	uint32_t	*cons;
	uint32_t	*prod;
};

static struct ring_view
view_in(struct xencons_interface *r)
{
	struct ring_view v = { r->in, SC_RING_IN_SIZE, &r->in_cons, &r->in_prod };
	return v;
}

static struct ring_view
view_out(struct xencons_interface *r)
{
	struct ring_view v = { r->out, SC_RING_OUT_SIZE, &r->out_cons, &r->out_prod };
	return v;
}

/* Producer: append up to len bytes. */
static int
ring_produce(const struct ring_view *v, const uint8_t *data, size_t len,
    size_t *written)
{
	uint32_t cons, prod, used, n, idx, first;

	*written = 0;
	cons = SC_RING_LOAD(v->cons);
	prod = SC_RING_LOAD(v->prod);
	/* The consumer's index must be read before we overwrite slots it freed. */
	sc_ring_mb();
	used = prod - cons;
	if (used > v->size)
		return SC_ERR_CORRUPT;
	n = v->size - used;
	if (len < n)
		n = (uint32_t)len;
	if (n == 0)
		return 0;
	idx = prod & (v->size - 1);
	first = SC_MIN(n, v->size - idx);
	sc_memcpy(v->data + idx, data, first);
	if (n > first)
		sc_memcpy(v->data, data + first, n - first);
	/* Data must be visible before the new producer index. */
	sc_ring_wmb();
	SC_RING_STORE(v->prod, prod + n);
	*written = n;
	return 0;
}

/* Consumer: remove up to cap bytes. */
static int
ring_consume(const struct ring_view *v, uint8_t *dst, size_t cap, size_t *got)
{
	uint32_t cons, prod, used, n, idx, first;

	*got = 0;
	cons = SC_RING_LOAD(v->cons);
	prod = SC_RING_LOAD(v->prod);
	/* Read the data only after the producer index that covers it. */
	sc_ring_rmb();
	used = prod - cons;
	if (used > v->size)
		return SC_ERR_CORRUPT;
	n = used;
	if (cap < n)
		n = (uint32_t)cap;
	if (n == 0)
		return 0;
	idx = cons & (v->size - 1);
	first = SC_MIN(n, v->size - idx);
	sc_memcpy(dst, v->data + idx, first);
	if (n > first)
		sc_memcpy(dst + first, v->data, n - first);
	/* Finish reading before the producer may reuse the slots. */
	sc_ring_mb();
	SC_RING_STORE(v->cons, cons + n);
	*got = n;
	return 0;
}

static int
ring_used(const struct ring_view *v, size_t *used)
{
	uint32_t cons, prod, u;

	cons = SC_RING_LOAD(v->cons);
	prod = SC_RING_LOAD(v->prod);
	u = prod - cons;
	if (u > v->size)
		return SC_ERR_CORRUPT;
	*used = u;
	return 0;
}

void
sc_ring_reset(struct xencons_interface *r)
{
	sc_memset(r, 0, sizeof(*r));
	sc_ring_mb();
}

int
sc_ring_in_write(struct xencons_interface *r, const uint8_t *data, size_t len,
    size_t *written)
{
	struct ring_view v = view_in(r);

	return ring_produce(&v, data, len, written);
}

int
sc_ring_out_read(struct xencons_interface *r, uint8_t *dst, size_t cap,
    size_t *got)
{
	struct ring_view v = view_out(r);

	return ring_consume(&v, dst, cap, got);
}

int
sc_ring_in_space(const struct xencons_interface *r, size_t *space)
{
	struct ring_view v = view_in((struct xencons_interface *)(uintptr_t)r);
	size_t used;
	int rc;

	*space = 0;
	if ((rc = ring_used(&v, &used)) != 0)
		return rc;
	*space = v.size - used;
	return 0;
}

int
sc_ring_out_avail(const struct xencons_interface *r, size_t *avail)
{
	struct ring_view v = view_out((struct xencons_interface *)(uintptr_t)r);

	*avail = 0;
	return ring_used(&v, avail);
}

int
sc_ring_in_scrub(struct xencons_interface *r)
{
	struct ring_view v = view_in(r);
	uint32_t cons, prod, used, idx, n, first;

	cons = SC_RING_LOAD(v.cons);
	prod = SC_RING_LOAD(v.prod);
	/* As a producer: the guest's reads of the freed slots come first. */
	sc_ring_mb();
	used = prod - cons;
	if (used > v.size)
		return SC_ERR_CORRUPT;
	n = v.size - used;
	if (n == 0)
		return 0;
	idx = prod & (v.size - 1);
	first = SC_MIN(n, v.size - idx);
	sc_memset(v.data + idx, 0, first);
	if (n > first)
		sc_memset(v.data, 0, n - first);
	return 0;
}

int
sc_ring_check(const struct xencons_interface *r)
{
	struct ring_view in = view_in((struct xencons_interface *)(uintptr_t)r);
	struct ring_view out = view_out((struct xencons_interface *)(uintptr_t)r);
	size_t used;
	int rc;

	if ((rc = ring_used(&in, &used)) != 0)
		return rc;
	return ring_used(&out, &used);
}

int
sc_ring_guest_out_write(struct xencons_interface *r, const uint8_t *data,
    size_t len, size_t *written)
{
	struct ring_view v = view_out(r);

	return ring_produce(&v, data, len, written);
}

int
sc_ring_guest_in_read(struct xencons_interface *r, uint8_t *dst, size_t cap,
    size_t *got)
{
	struct ring_view v = view_in(r);

	return ring_consume(&v, dst, cap, got);
}

int
sc_ring_guest_in_avail(const struct xencons_interface *r, size_t *avail)
{
	struct ring_view v = view_in((struct xencons_interface *)(uintptr_t)r);

	*avail = 0;
	return ring_used(&v, avail);
}

int
sc_ring_guest_out_space(const struct xencons_interface *r, size_t *space)
{
	struct ring_view v = view_out((struct xencons_interface *)(uintptr_t)r);
	size_t used;
	int rc;

	*space = 0;
	if ((rc = ring_used(&v, &used)) != 0)
		return rc;
	*space = v.size - used;
	return 0;
}
