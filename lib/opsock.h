/*
 * opsock.h — the user-space client of the hypervisor's ops socket.
 *
 * PROTOCOL.md §8.1: sccrypt-hvsim's ops socket is an AF_UNIX SOCK_SEQPACKET
 * socket; each op request and each response is exactly one packet (a 32-byte
 * header, core/ops.h, then `len` payload bytes), responses echo the request's
 * seq, and unsolicited EVENT packets (op SC_OP_EVENT, seq 0, len 0) may
 * arrive at any time, also while a response is awaited.
 *
 * This is the one implementation of that transport for dom0 programs
 * (sccrypt-consoled's sim backend, sccrypt-attest, sc-hvctl):
 *
 *   - sc_opsock_connect() opens a connection (the socket is non-blocking and
 *     close-on-exec; every wait is a poll() with a deadline);
 *   - sc_opsock_call() sends one request and waits for the response with the
 *     same seq, handing every event that arrives first to the event callback,
 *     in arrival order;
 *   - sc_opsock_drain() / sc_opsock_wait() collect events for an event loop.
 *
 * Everything received is validated with sc_op_hdr_get() on a bounded sc_buf.
 * A packet that is malformed (bad header, len not matching the packet size,
 * an EVENT with a payload or a seq), larger than SC_OPSOCK_PKT_MAX, or a
 * response nobody waits for (stray seq) is dropped with a log message and
 * never ends the connection: the hv is trusted to be the hypervisor, but a
 * bad packet must not corrupt the caller.
 *
 * Functions return 0 (or a count) or a negative SC_ERR_* code; they never
 * print except through lib/log.h, never exit.  Transport errors are:
 *   SC_ERR_EOF      the hv closed the connection (also EPIPE/ECONNRESET)
 *   SC_ERR_TIMEOUT  no response (or no room to send) before the deadline
 *   SC_ERR_SYSTEM   another system call failure; errno says which
 * A response's own status (resp->status) is not a transport error: the
 * caller interprets it.
 *
 * Not thread-safe: one thread uses a connection at a time.  The callbacks
 * must not call back into the same connection.
 */
#ifndef SC_OPSOCK_H
#define SC_OPSOCK_H

#include "core/compat.h"
#include "core/ops.h"

/* Largest packet accepted from the hv: header + SC_OP_PAYLOAD_MAX. */
#define SC_OPSOCK_PKT_MAX	SC_OP_MAX
/* Packets handled by one sc_opsock_drain(), so one busy hv cannot starve
 * the caller's event loop. */
#define SC_OPSOCK_DRAIN_MAX	256

struct sc_opsock;

/*
 * Called once per EVENT packet, in arrival order: ev->domid, ev->session and
 * ev->arg (SC_EV_* bits) are the event; ev->len is 0 and ev->seq 0.
 */
typedef void sc_opsock_event_fn(void *arg, const struct sc_op_hdr *ev);

/* Directions for the tap. */
#define SC_OPSOCK_TAP_SENT	0
#define SC_OPSOCK_TAP_RECEIVED	1
/*
 * Optional tap: sees every packet's bytes as sent or received (received
 * ones before validation; an oversized one as far as it was read).  For
 * test tools that record what crosses the socket.
 */
typedef void sc_opsock_tap_fn(void *arg, int dir, const uint8_t *pkt,
    size_t len);

/*
 * Connect to the ops socket at path.  on_event (may be NULL: events are
 * then dropped) receives events with on_event_arg.  On success *out is a
 * new connection for sc_opsock_close().  Errors, with errno left as the
 * failing call set it:
 *   SC_ERR_INVAL     path is NULL or empty
 *   SC_ERR_TOOLONG   path does not fit sockaddr_un (errno ENAMETOOLONG)
 *   SC_ERR_NOTFOUND  nothing there or nobody listening (ENOENT, ECONNREFUSED)
 *   SC_ERR_PERM      no permission (EACCES, EPERM)
 *   SC_ERR_ALLOC     out of memory
 *   SC_ERR_SYSTEM    any other failure
 */
int	sc_opsock_connect(const char *path, sc_opsock_event_fn *on_event,
	    void *on_event_arg, struct sc_opsock **out) SC_WUR;

/*
 * The same over an already connected SOCK_SEQPACKET descriptor (a
 * socketpair in tests).  The connection takes ownership of fd, also on
 * failure (it is closed then).  The descriptor is made non-blocking.
 */
int	sc_opsock_adopt(int fd, sc_opsock_event_fn *on_event,
	    void *on_event_arg, struct sc_opsock **out) SC_WUR;

/* Close the socket and free the connection.  NULL is a no-op. */
void	sc_opsock_close(struct sc_opsock *os);

/* The descriptor, for the caller's poll set (readable: call drain). */
int	sc_opsock_fd(const struct sc_opsock *os);

/* Install (or with NULL remove) the tap. */
void	sc_opsock_set_tap(struct sc_opsock *os, sc_opsock_tap_fn *tap,
	    void *tap_arg);

/*
 * One op.  The caller fills req->op, domid, session, arg and len; req->magic,
 * version, status and seq are set here (seq: the connection's next one,
 * never 0), so afterwards *req is exactly the header that was sent.  payload
 * holds req->len bytes (may be NULL when len is 0).
 *
 * Waits until timeout_ms after the call started for the response whose seq
 * is req->seq; events arriving meanwhile go to the event callback.  On 0,
 * *resp is the response header (check resp->status) and resp->len payload
 * bytes are in rpay.  Errors besides the transport ones above:
 *   SC_ERR_INVAL     payload NULL with len > 0
 *   SC_ERR_TOOLONG   req->len > SC_OP_PAYLOAD_MAX (nothing sent)
 *   SC_ERR_TYPE      the response with our seq is for another op (the hv
 *                    broke the protocol; *resp is filled, rpay untouched)
 *   SC_ERR_NOSPACE   resp->len > rcap (*resp is filled, rpay untouched; the
 *                    response is consumed)
 */
int	sc_opsock_call(struct sc_opsock *os, struct sc_op_hdr *req,
	    const void *payload, struct sc_op_hdr *resp, void *rpay,
	    size_t rcap, unsigned int timeout_ms) SC_WUR;

/*
 * Without blocking, handle the packets that are already queued (at most
 * SC_OPSOCK_DRAIN_MAX): events go to the callback, anything else is
 * dropped.  Returns how many packets were handled (0: none was waiting) or
 * a transport error.
 */
int	sc_opsock_drain(struct sc_opsock *os) SC_WUR;

/*
 * Wait up to timeout_ms for a packet, then drain.  Returns the drain's
 * count (0 when the time ran out) or a transport error.
 */
int	sc_opsock_wait(struct sc_opsock *os, unsigned int timeout_ms) SC_WUR;

#endif /* SC_OPSOCK_H */
