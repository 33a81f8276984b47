/*
 * hvclient.c — client side of the hv ops ABI (see hvclient.h).
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/ops.h"
#include "core/handshake.h"
#include "core/wire.h"
#include "hvclient.h"

int
sc_hvc_op_build(struct sc_buf *out, uint16_t op, uint32_t domid,
    uint32_t session, uint32_t arg, uint32_t seq, const uint8_t *payload,
    size_t len)
{
	struct sc_op_hdr h;
	int r;

	if (len > SC_OP_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(out) < SC_OP_HDR_LEN + len)
		return SC_ERR_NOSPACE;
	sc_op_hdr_init(&h, op, domid, session, arg, seq);
	h.len = (uint32_t)len;
	if ((r = sc_op_hdr_put(out, &h)) != 0)
		return r;
	if (len > 0 && (r = sc_buf_put_bytes(out, payload, len)) != 0)
		return r;
	return 0;
}

int
sc_hvc_op_parse(const uint8_t *pkt, size_t len, struct sc_op_hdr *h,
    const uint8_t **payload)
{
	struct sc_buf b;
	int r;

	sc_buf_init_ro(&b, pkt, len);
	if ((r = sc_op_hdr_get(&b, h)) != 0)
		return r;
	if (sc_buf_avail(&b) != h->len)
		return sc_buf_avail(&b) < h->len ? SC_ERR_TRUNCATED : SC_ERR_FORMAT;
	*payload = sc_buf_rptr(&b);
	return 0;
}

int
sc_hvc_hs1(struct sc_hvc_session *s, const struct sc_crypto *cp,
    const uint8_t uuid[SC_UUID_LEN], const uint8_t hv_pk[SC_KEY_LEN],
    const uint8_t user_sk[SC_KEY_LEN], const uint8_t vm_secret[SC_PSK_LEN],
    uint8_t flags, uint32_t history_wanted, struct sc_buf *msg1)
{
	const struct sc_hs1 m = { .flags = flags, .history_wanted = history_wanted };
	uint8_t pl[SC_HS1_PAYLOAD_LEN];
	struct sc_buf b;
	int r;

	sc_memset(s, 0, sizeof(*s));
	s->cp = cp;
	sc_buf_init(&b, pl, sizeof(pl));
	if ((r = sc_hs1_put(&b, &m)) != 0 ||
	    (r = sc_hs_init(&s->hs, cp, true, uuid, hv_pk, user_sk,
	    vm_secret)) != 0)
		return r;
	return sc_noise_hs_write(&s->hs, b.data, b.len, msg1);
}

int
sc_hvc_hs2(struct sc_hvc_session *s, const uint8_t *msg2, size_t len)
{
	struct sc_noise_transport t;
	uint8_t plmem[SC_HS2_PAYLOAD_LEN + 16];
	struct sc_buf pl;
	struct sc_hs2 m;
	int r;

	sc_memset(&t, 0, sizeof(t));
	sc_buf_init(&pl, plmem, sizeof(plmem));
	if ((r = sc_noise_hs_read(&s->hs, msg2, len, &pl)) != 0)
		goto out;
	if ((r = sc_hs2_get(&pl, &m)) != 0) {
		if (r != SC_ERR_VERSION)
			r = SC_ERR_FORMAT;
		goto out;
	}
	s->hs2_flags = m.flags;
	s->history_kept = m.history_kept;
	s->lost_bytes = m.lost_bytes;
	if (!sc_noise_hs_complete(&s->hs)) {
		r = SC_ERR_STATE;
		goto out;
	}
	if ((r = sc_noise_hs_split(&s->hs, &t)) != 0)
		goto out;
	sc_record_init(&s->rl, &t);
	s->established = true;
out:
	sc_noise_hs_wipe(&s->hs);
	s->cp->memzero(&t, sizeof(t));
	return r;
}

int
sc_hvc_seal(struct sc_hvc_session *s, uint8_t type, const uint8_t *p,
    size_t n, struct sc_buf *items)
{
	uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf c;
	int r;

	if (!s->established)
		return SC_ERR_STATE;
	if (n > SC_RECORD_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(items) < SC_OP_ITEM_HDR_LEN + sc_record_ct_len(n))
		return SC_ERR_NOSPACE;
	sc_buf_init(&c, ct, sizeof(ct));
	if ((r = sc_record_seal(&s->rl, type, p, n, &c)) != 0)
		return r;
	return sc_op_item_put(items, c.data, c.len);
}

int
sc_hvc_seal_close(struct sc_hvc_session *s, uint8_t reason, const char *text,
    struct sc_buf *items)
{
	uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf c;
	int r;

	if (!s->established)
		return SC_ERR_STATE;
	if (sc_buf_room(items) < SC_OP_ITEM_HDR_LEN + SC_RECORD_CT_MIN)
		return SC_ERR_NOSPACE;
	sc_buf_init(&c, ct, sizeof(ct));
	if ((r = sc_record_seal_close(&s->rl, reason, text, &c)) != 0)
		return r;
	return sc_op_item_put(items, c.data, c.len);
}

int
sc_hvc_open_item(struct sc_hvc_session *s, struct sc_buf *items,
    uint8_t *type, struct sc_buf *pl)
{
	const uint8_t *ct;
	size_t len;
	int r;

	if (!s->established)
		return SC_ERR_STATE;
	if (sc_buf_avail(items) == 0)
		return 0;
	if (s->rl.recv_dead)
		return SC_ERR_STATE;
	if ((r = sc_op_item_get(items, &ct, &len)) != 0) {
		/* A bad item: the stream is out of step, nothing after it counts. */
		s->rl.recv_dead = true;
		return r;
	}
	if ((r = sc_record_open(&s->rl, ct, len, type, pl)) != 0)
		return r;
	return 1;
}

void
sc_hvc_wipe(struct sc_hvc_session *s)
{
	const struct sc_crypto *cp = s->cp;

	sc_noise_hs_wipe(&s->hs);
	if (s->established)
		sc_record_wipe(&s->rl);
	if (cp != NULL)
		cp->memzero(s, sizeof(*s));
}
