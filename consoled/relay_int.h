/*
 * relay_int.h — what the files of sccrypt-consoled's relay core share with
 * each other (and with nothing else: the daemon and the tests use
 * consoled.h).  The relay is split by concern:
 *
 *   sched.c         time, the ready list, the timer heap, input budgets
 *   relay.c         the hv call, client buffers, frames to clients,
 *                   client lifecycle, the service pass and timers
 *   relay_client.c  requests (ctl.h) and client frames -> hv ops
 *   relay_hv.c      domains, backend up/down, hv output -> client frames,
 *                   the plaintext drain of unprotected domains, hv events
 *   policy.c        admission and the per-user limits
 *   ctlog.c         the ciphertext log (the sink of every record)
 *
 * Same contracts as the static functions they were: single-threaded, no
 * I/O but the backend's and the log's, every error ends one client only.
 */
#ifndef SC_CONSOLED_RELAY_INT_H
#define SC_CONSOLED_RELAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "consoled.h"
#include "core/handshake.h"

#define ITEM_MAX	SC_OP_ITEM_MAX		/* one {len:u16, ct} op item */
#define RAW_CHUNK_MIN	1024
#define RETRY_MS	1000			/* PROTECT asked again (SC_ERR_AGAIN) */

/* sched.c: time and scheduling (ready list, timer heap, rate budget) */
unsigned long long cd_now_ms(struct sc_cd *cd);
unsigned long long cd_now_us(struct sc_cd *cd);
void	cd_touch(struct sc_cd *cd, struct sc_cd_client *c);
void	cd_make_ready(struct sc_cd *cd, struct sc_cd_client *c);
void	cd_set_dead(struct sc_cd *cd, struct sc_cd_client *c);
void	cd_raw_ready(struct sc_cd *cd, struct sc_cd_domain *d);
void	cd_raw_unqueue(struct sc_cd *cd, struct sc_cd_domain *d);
size_t	cd_raw_budget(struct sc_cd *cd, struct sc_cd_domain *d, size_t want);
void	cd_raw_spent(struct sc_cd *cd, struct sc_cd_domain *d, size_t n);
unsigned long long cd_raw_wakeups(struct sc_cd *cd, unsigned long long t);
void	cd_heap_remove(struct sc_cd *cd, struct sc_cd_client *c);
void	cd_refill(struct sc_cd *cd, struct sc_cd_client *c,
	    unsigned long long t);
void	cd_settle(struct sc_cd *cd);

/* relay.c: the hv call, client buffers, frames out, attach/close, progress */
int	cd_bk_call(struct sc_cd *cd, uint16_t op, uint32_t domid,
	    uint32_t session, uint32_t arg, const uint8_t *payload,
	    size_t len, struct sc_op_hdr *resp);
int	cd_buf_grow(uint8_t **mem, size_t *cap, size_t need, size_t max);
void	cd_buf_shrink(uint8_t **mem, size_t *cap, size_t len);
size_t	cd_out_room(struct sc_cd_client *c);
int	cd_out_reserve(struct sc_cd_client *c, size_t n);
int	cd_out_put(struct sc_cd *cd, struct sc_cd_client *c, const void *p,
	    size_t n);
int	cd_emit_frame(struct sc_cd *cd, struct sc_cd_client *c, uint8_t type,
	    const uint8_t *body, size_t len);
void	cd_emit_error(struct sc_cd *cd, struct sc_cd_client *c, int err,
	    const char *text);
void	cd_reply(struct sc_cd *cd, struct sc_cd_client *c, int status,
	    int mode, const char *text);
void	cd_attach(struct sc_cd_domain *d, struct sc_cd_client *c);
void	cd_client_close(struct sc_cd *cd, struct sc_cd_client *c, bool bye);
void	cd_protocol_error(struct sc_cd *cd, struct sc_cd_client *c, int err,
	    const char *text);
bool	cd_progress(struct sc_cd *cd, struct sc_cd_client *c);

/* relay_hv.c: domains, output from the hv */
uint32_t cd_domain_status(struct sc_cd *cd, struct sc_cd_domain *d);
bool	cd_pull_output(struct sc_cd *cd, struct sc_cd_client *c);
bool	cd_raw_drain(struct sc_cd *cd, struct sc_cd_domain *d);

/* relay_client.c: requests and input from clients */
void	cd_protect_drop(struct sc_cd_client *c);
void	cd_handle_request(struct sc_cd *cd, struct sc_cd_client *c,
	    const char *line, size_t len);
void	cd_flush_input(struct sc_cd *cd, struct sc_cd_client *c);
void	cd_protect_try(struct sc_cd *cd, struct sc_cd_client *c);
bool	cd_finish_input_pending(struct sc_cd_client *c);
void	cd_in_consume(struct sc_cd_client *c, size_t n);
void	cd_process_frames(struct sc_cd *cd, struct sc_cd_client *c);
void	cd_process_raw(struct sc_cd *cd, struct sc_cd_client *c);

/* policy.c: admission and the per-user limits */
unsigned cd_user_clients(const struct sc_cd *cd, uid_t uid,
	    const struct sc_cd_client *skip);

#endif /* SC_CONSOLED_RELAY_INT_H */
