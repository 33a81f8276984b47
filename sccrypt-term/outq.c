/*
 * outq.c — the transport output queue (see outq.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "outq.h"
#include "secmem.h"

size_t
outq_pending(const struct outq *q)
{
	return q->len - q->off;
}

const uint8_t *
outq_peek(const struct outq *q)
{
	return q->buf + q->off;
}

/* Move the waiting bytes to the front; the vacated tail is wiped. */
static void
compact(struct outq *q)
{
	size_t n = outq_pending(q);

	if (q->off == 0)
		return;
	memmove(q->buf, q->buf + q->off, n);
	sc_memzero(q->buf + n, q->len - n);
	q->off = 0;
	q->len = n;
}

/* A larger buffer: copied by hand, so that the old one is wiped (realloc
 * would free it as it is). */
static int
grow(struct outq *q, size_t need)
{
	size_t ncap = q->cap ? q->cap : OUTQ_MIN_CAP;
	uint8_t *n;

	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return SC_ERR_ALLOC;
		ncap *= 2;
	}
	if ((n = malloc(ncap)) == NULL)
		return SC_ERR_ALLOC;
	if (q->buf != NULL) {
		memcpy(n, q->buf, q->len);
		sc_memzero(q->buf, q->cap);
		free(q->buf);
	}
	q->buf = n;
	q->cap = ncap;
	return 0;
}

int
outq_push(struct outq *q, const uint8_t *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if (n > SIZE_MAX - outq_pending(q))
		return SC_ERR_ALLOC;
	if (q->len + n > q->cap) {
		compact(q);
		if (q->len + n > q->cap && (r = grow(q, q->len + n)) < 0)
			return r;
	}
	memcpy(q->buf + q->len, p, n);
	q->len += n;
	return 0;
}

void
outq_consume(struct outq *q, size_t n)
{
	if (n > outq_pending(q))
		n = outq_pending(q);
	sc_memzero(q->buf + q->off, n);
	q->off += n;
	if (q->off == q->len)
		q->off = q->len = 0;
}

int
outq_flush(struct outq *q, int fd)
{
	while (outq_pending(q) > 0) {
		ssize_t w = write(fd, outq_peek(q), outq_pending(q));

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return SC_ERR_SYSTEM;
		}
		outq_consume(q, (size_t)w);
	}
	return 0;
}

void
outq_clear(struct outq *q)
{
	if (q->buf != NULL)
		sc_memzero(q->buf, q->cap);
	q->off = q->len = 0;
}

void
outq_free(struct outq *q)
{
	outq_clear(q);
	free(q->buf);
	memset(q, 0, sizeof(*q));
}
