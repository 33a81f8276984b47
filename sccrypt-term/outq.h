/*
 * outq.h — a byte queue for a non-blocking writer (sccrypt-term's bytes for
 * the transport: records, and in the clear phase the user's answers to
 * dom0's prompts, such as a sudo password).
 *
 * Contract:
 *  - bytes leave in the order they were pushed, none twice, none lost,
 *    unless outq_clear() drops them all;
 *  - no copy of a byte outlives its stay in the queue: consumed bytes are
 *    wiped as they are consumed, a buffer that grows is copied and the old
 *    one wiped before it is freed, outq_clear() and outq_free() wipe all;
 *  - the zero value is an empty queue; outq_free() returns it to that.
 */
#ifndef SCCRYPT_TERM_OUTQ_H
#define SCCRYPT_TERM_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#define OUTQ_MIN_CAP	65536		/* first allocation */

struct outq {
	uint8_t		*buf;
	size_t		off;		/* buf[off..len) waits */
	size_t		len;
	size_t		cap;
};

/* Append p[0..n).  0, or SC_ERR_ALLOC (the queue is unchanged). */
int	outq_push(struct outq *q, const uint8_t *p, size_t n)
	    __attribute__((warn_unused_result));
size_t	outq_pending(const struct outq *q);
/* The oldest waiting bytes: *p, outq_pending() of them. */
const uint8_t *outq_peek(const struct outq *q);
/* n (<= outq_pending()) bytes have gone: wipe them and drop them. */
void	outq_consume(struct outq *q, size_t n);
/*
 * Write to the non-blocking fd what it takes now.  0 (the rest, if any,
 * waits for POLLOUT) or SC_ERR_SYSTEM (errno set; the queue is as it was
 * after the last successful write).
 */
int	outq_flush(struct outq *q, int fd) __attribute__((warn_unused_result));
/* Drop (and wipe) everything waiting; the buffer stays. */
void	outq_clear(struct outq *q);
/* Wipe and free the buffer. */
void	outq_free(struct outq *q);

#endif /* SCCRYPT_TERM_OUTQ_H */
