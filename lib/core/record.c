/*
 * record.c — the record layer over a Noise transport (core/record.h,
 * PROTOCOL.md §5).
 *
 * A record's plaintext is type:u8 || payload and is sealed as exactly one
 * Noise transport message.  The nonce is the implicit counter, so records
 * must arrive in order and exactly once: a replayed, dropped, reordered,
 * truncated or modified record fails authentication.  Every failure that
 * involves the peer's bytes or the cipher state kills the layer for good.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/noise.h"
#include "core/wire.h"
#include "core/record.h"

#define REC_PT_MAX	(1 + SC_RECORD_PAYLOAD_MAX)

static bool
record_type_known(uint8_t type)
{
	return type >= SC_REC_DATA && type <= SC_REC_REKEY;
}

void
sc_record_init(struct sc_record_layer *rl, struct sc_noise_transport *t)
{
	const struct sc_crypto *cp = t->cp;

	sc_memset(rl, 0, sizeof(*rl));
	sc_memcpy(&rl->t, t, sizeof(*t));
	sc_noise_transport_wipe(t);
	t->cp = cp;
	if (cp == NULL)
		rl->dead = true;	/* not a usable transport */
}

void
sc_record_wipe(struct sc_record_layer *rl)
{
	const struct sc_crypto *cp = rl->t.cp;

	sc_noise_transport_wipe(&rl->t);
	sc_memset(&rl->stats, 0, sizeof(rl->stats));
	rl->since_rekey_send = 0;
	rl->t.cp = cp;
	rl->dead = true;
}

/* A cipher failure on the send side: the transport is unusable. */
static int
rl_fail(struct sc_record_layer *rl, int r)
{
	rl->dead = true;
	return r;
}

/* A received record failed: open nothing more, but keep sealing. */
static int
rl_recv_fail(struct sc_record_layer *rl, int r)
{
	rl->recv_dead = true;
	return r;
}

/*
 * Caller mistakes (bad type, oversize payload, no room in out) are refused
 * before anything is encrypted and leave the layer usable; a failure of the
 * cipher itself (nonce exhaustion) kills it.
 */
int
sc_record_seal(struct sc_record_layer *rl, uint8_t type,
    const uint8_t *payload, size_t len, struct sc_buf *out)
{
	const struct sc_crypto *cp = rl->t.cp;
	uint8_t ptmem[REC_PT_MAX];
	struct sc_buf pt;
	size_t saved;
	int r;

	if (rl->dead || cp == NULL)
		return SC_ERR_STATE;
	if (!record_type_known(type))
		return SC_ERR_TYPE;
	if (len > SC_RECORD_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	if (type == SC_REC_REKEY && len != 0)
		return SC_ERR_INVAL;
	if (len > 0 && payload == NULL)
		return SC_ERR_INVAL;
	if (sc_buf_room(out) < 1 + len + SC_TAG_LEN)
		return SC_ERR_NOSPACE;

	saved = out->len;
	sc_buf_init(&pt, ptmem, sizeof(ptmem));
	if ((r = sc_buf_put_u8(&pt, type)) != 0 ||
	    (r = sc_buf_put_bytes(&pt, payload, len)) != 0)
		goto out;
	if ((r = sc_noise_encrypt(&rl->t, ptmem, pt.len, out)) != 0) {
		out->len = saved;
		r = rl_fail(rl, r);
		goto out;
	}
	rl->stats.records_sent++;
	rl->stats.bytes_sent += len;
	rl->since_rekey_send++;
	if (type == SC_REC_REKEY) {
		/* The REKEY record itself went out under the old key. */
		if ((r = sc_noise_rekey_send(&rl->t)) != 0) {
			r = rl_fail(rl, r);
			goto out;
		}
		rl->stats.rekeys_sent++;
		rl->since_rekey_send = 0;
	}
out:
	cp->memzero(ptmem, sizeof(ptmem));
	return r;
}

int
sc_record_open(struct sc_record_layer *rl, const uint8_t *ct, size_t len,
    uint8_t *type, struct sc_buf *payload_out)
{
	const struct sc_crypto *cp = rl->t.cp;
	uint8_t ptmem[REC_PT_MAX];
	struct sc_buf pt;
	size_t plen;
	uint8_t t;
	int r;

	*type = 0;
	if (rl->dead || rl->recv_dead || cp == NULL)
		return SC_ERR_STATE;
	if (len > 0 && ct == NULL)
		return SC_ERR_INVAL;
	/* Sizes first: a record is at least a type byte and a tag. */
	if (len < 1 + SC_TAG_LEN)
		return rl_recv_fail(rl, SC_ERR_TRUNCATED);
	if (len > SC_RECORD_CT_MAX)
		return rl_recv_fail(rl, SC_ERR_TOOLONG);
	plen = len - SC_TAG_LEN - 1;
	/* Refuse before decrypting, so the counter is not spent on a caller bug. */
	if (sc_buf_room(payload_out) < plen)
		return SC_ERR_NOSPACE;

	sc_buf_init(&pt, ptmem, sizeof(ptmem));
	if ((r = sc_noise_decrypt(&rl->t, ct, len, &pt)) != 0) {
		r = rl_recv_fail(rl, r);
		goto out;
	}
	if ((r = sc_buf_get_u8(&pt, &t)) != 0 || sc_buf_avail(&pt) != plen) {
		r = rl_recv_fail(rl, SC_ERR_INTERNAL);
		goto out;
	}
	if (!record_type_known(t)) {
		r = rl_recv_fail(rl, SC_ERR_TYPE);
		goto out;
	}
	if (t == SC_REC_REKEY) {
		if (plen != 0) {
			r = rl_recv_fail(rl, SC_ERR_FORMAT);
			goto out;
		}
		if ((r = sc_noise_rekey_recv(&rl->t)) != 0) {
			r = rl_recv_fail(rl, r);
			goto out;
		}
		rl->stats.rekeys_recv++;
	}
	if ((r = sc_buf_put_bytes(payload_out, sc_buf_rptr(&pt), plen)) != 0) {
		r = rl_recv_fail(rl, r);
		goto out;
	}
	rl->stats.records_recv++;
	rl->stats.bytes_recv += plen;
	*type = t;
out:
	cp->memzero(ptmem, sizeof(ptmem));
	return r;
}

bool
sc_record_need_rekey(const struct sc_record_layer *rl)
{
	return !rl->dead && rl->since_rekey_send >= SC_REKEY_AFTER_RECORDS;
}
