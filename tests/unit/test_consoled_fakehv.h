/*
 * test_consoled_fakehv — an in-process fake hypervisor behind the consoled
 * backend interface, for the relay unit tests and the consoled fuzzer.  It
 * implements the ops ABI semantics consoled relies on (sessions, takeover
 * with a final CLOSE item, partial INPUT consumption, whole-record OUTPUT
 * with MORE/CLOSED, RAW ops for unprotected domains) and records every op.
 */
#ifndef TEST_CONSOLED_FAKEHV_H
#define TEST_CONSOLED_FAKEHV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "core/wire.h"

#define FAKE_DOMS	8
#define FAKE_SESS	32
#define FAKE_Q		65536

struct fake_sess {
	bool		open;
	uint32_t	id;
	uint32_t	domid;
	uint8_t		outq[FAKE_Q];	/* items {len:u16le ct} */
	size_t		outq_len;
	bool		closed_by_hv;	/* taken over: drain outq then CLOSED */
	uint8_t		input[FAKE_Q];	/* item stream received */
	size_t		input_len;
};

struct fake_hv {
	struct sc_bk_domain doms[FAKE_DOMS];
	size_t		ndoms;
	uint32_t	history_used;
	struct fake_sess sess[FAKE_SESS];
	uint32_t	next_sess;
	size_t		ring_space;	/* INPUT consumes at most this much per op */
	bool		fail_transport;	/* every call fails with SC_ERR_EOF */
	bool		open_refuse;	/* OPEN answers SC_ERR_PERM */
	bool		takeover;	/* a new OPEN closes the domain's other sessions */
	unsigned	protect_again;	/* PROTECT answers SC_ERR_AGAIN this often first */
	int		protect_status;	/* then this (0 = bound) */
	uint8_t		raw_out[FAKE_Q];	/* plaintext the "guest" wrote */
	size_t		raw_out_len;
	uint8_t		raw_in[FAKE_Q];
	size_t		raw_in_len;
	unsigned	ops[16];	/* count per op code */
	int		opened;
};

extern struct fake_hv fakehv;
extern const struct sc_backend_ops fake_backend_ops;

void	fake_reset(void);
void	fake_add_domain(uint32_t domid, const char *name, bool protected_);
/* Queue an output item (ciphertext) for a session and raise SC_EV_OUTPUT. */
void	fake_queue_output(struct sc_backend *bk, uint32_t session, const uint8_t *ct,
	    size_t len);
/* The same without the event: as if the hv's event had been dropped. */
void	fake_queue_output_quiet(uint32_t session, const uint8_t *ct, size_t len);
struct fake_sess *fake_session(uint32_t id);

/*
 * A stand-in record ciphertext: tag, padded with '.' to FAKE_REC bytes (the
 * smallest record, as consoled refuses shorter op items).  The result is
 * one of 8 static buffers, reused in turn.
 */
#define FAKE_REC	SC_RECORD_CT_MIN
const uint8_t *fake_rec(const char *tag);

#endif
