/*
 * handshake.c — prologue, HS1/HS2 payloads and op items (core/handshake.h).
 *
 * The gets decode from a private view of the unread bytes and skip them in
 * the caller's buffer only on success, so a failure changes nothing.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/wire.h"
#include "core/handshake.h"

#define HS1_LEN		SC_HS1_PAYLOAD_LEN
#define HS2_LEN		SC_HS2_PAYLOAD_LEN

int
sc_hs_prologue_put(struct sc_buf *b, const uint8_t uuid[SC_UUID_LEN],
    const uint8_t hv_pk[SC_KEY_LEN])
{
	if (sc_buf_room(b) < SC_HS_PROLOGUE_LEN)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_bytes(b, SC_PROTOCOL_ID, SC_PROTOCOL_ID_LEN) != 0 ||
	    sc_buf_put_bytes(b, uuid, SC_UUID_LEN) != 0 ||
	    sc_buf_put_bytes(b, hv_pk, SC_KEY_LEN) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

int
sc_hs_init(struct sc_noise_handshake *hs, const struct sc_crypto *cp,
    bool initiator, const uint8_t uuid[SC_UUID_LEN],
    const uint8_t hv_pk[SC_KEY_LEN], const uint8_t sk[SC_KEY_LEN],
    const uint8_t psk[SC_PSK_LEN])
{
	const struct sc_noise_pattern *pat;
	uint8_t mem[SC_HS_PROLOGUE_LEN];
	struct sc_buf pro;
	int r;

	if (uuid == NULL || hv_pk == NULL)
		return SC_ERR_INVAL;
	if ((pat = sc_noise_pattern_lookup(SC_NOISE_PROTOCOL)) == NULL)
		return SC_ERR_UNSUPPORTED;
	sc_buf_init(&pro, mem, sizeof(mem));
	if ((r = sc_hs_prologue_put(&pro, uuid, hv_pk)) != 0)
		return r;
	return sc_noise_hs_init(hs, cp, pat, initiator, pro.data, pro.len, sk,
	    initiator ? hv_pk : NULL, psk, 1);
}

/*
 * Both payloads start with version:u8 flags:u8.  Start one of len bytes:
 * check the room for all of it (so the put is all or nothing), write those.
 */
static int
payload_start(struct sc_buf *b, size_t len, uint8_t flags)
{
	if (sc_buf_room(b) < len)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_u8(b, SC_PROTOCOL_VERSION) != 0 ||
	    sc_buf_put_u8(b, flags) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

/* Make v a view of b's unread bytes and read version:u8 flags:u8 from it. */
static int
payload_open(const struct sc_buf *b, struct sc_buf *v, uint8_t *version,
    uint8_t *flags)
{
	int r;

	sc_buf_init_ro(v, sc_buf_rptr(b), sc_buf_avail(b));
	if ((r = sc_buf_get_u8(v, version)) != 0)
		return r;
	return sc_buf_get_u8(v, flags);
}

/*
 * A payload's fields were read from the view v of b's unread bytes (r: how
 * that went): refuse trailing bytes and another version.
 */
static int
payload_check(const struct sc_buf *v, uint8_t version, int r)
{
	if (r == 0)
		r = sc_buf_expect_end(v);
	if (r == 0 && version != SC_PROTOCOL_VERSION)
		r = SC_ERR_VERSION;
	return r;
}

int
sc_hs1_put(struct sc_buf *b, const struct sc_hs1 *m)
{
	int r;

	if ((r = payload_start(b, HS1_LEN, m->flags)) != 0)
		return r;
	return sc_buf_put_u32(b, m->history_wanted) != 0 ? SC_ERR_INTERNAL : 0;
}

int
sc_hs1_get(struct sc_buf *b, struct sc_hs1 *m)
{
	struct sc_buf v;
	uint8_t version = 0;
	int r;

	sc_memset(m, 0, sizeof(*m));
	if ((r = payload_open(b, &v, &version, &m->flags)) == 0)
		r = sc_buf_get_u32(&v, &m->history_wanted);
	if ((r = payload_check(&v, version, r)) == 0 &&
	    (m->flags & ~SC_HS1_F_KNOWN) != 0)
		r = SC_ERR_FORMAT;
	if (r == 0 && (r = sc_buf_skip(b, HS1_LEN)) == 0)
		return 0;
	sc_memset(m, 0, sizeof(*m));
	return r;
}

int
sc_hs2_put(struct sc_buf *b, const struct sc_hs2 *m)
{
	int r;

	if ((r = payload_start(b, HS2_LEN, m->flags)) != 0)
		return r;
	if (sc_buf_put_u32(b, m->history_kept) != 0 ||
	    sc_buf_put_u64(b, m->lost_bytes) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

int
sc_hs2_get(struct sc_buf *b, struct sc_hs2 *m)
{
	struct sc_buf v;
	uint8_t version = 0;
	int r;

	sc_memset(m, 0, sizeof(*m));
	if ((r = payload_open(b, &v, &version, &m->flags)) == 0 &&
	    (r = sc_buf_get_u32(&v, &m->history_kept)) == 0)
		r = sc_buf_get_u64(&v, &m->lost_bytes);
	if ((r = payload_check(&v, version, r)) == 0 &&
	    (r = sc_buf_skip(b, HS2_LEN)) == 0)
		return 0;
	sc_memset(m, 0, sizeof(*m));
	return r;
}

/* ---- op items ---- */

static int
item_len_check(size_t len)
{
	if (len < SC_RECORD_CT_MIN)
		return SC_ERR_TRUNCATED;
	if (len > SC_RECORD_CT_MAX)
		return SC_ERR_TOOLONG;
	return 0;
}

int
sc_op_item_put(struct sc_buf *b, const uint8_t *ct, size_t len)
{
	if (len == 0)
		return SC_ERR_TRUNCATED;
	if (len > SC_RECORD_CT_MAX)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(b) < SC_OP_ITEM_HDR_LEN + len)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_u16_le(b, (uint16_t)len) != 0 ||
	    sc_buf_put_bytes(b, ct, len) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

int
sc_op_item_len_get(struct sc_buf *b, size_t *len)
{
	struct sc_buf v;
	uint16_t l;
	int r;

	*len = 0;
	sc_buf_init_ro(&v, sc_buf_rptr(b), sc_buf_avail(b));
	if ((r = sc_buf_get_u16_le(&v, &l)) != 0 ||
	    (r = item_len_check(l)) != 0 ||
	    (r = sc_buf_skip(b, SC_OP_ITEM_HDR_LEN)) != 0)
		return r;
	*len = l;
	return 0;
}

int
sc_op_item_get(struct sc_buf *b, const uint8_t **ct, size_t *len)
{
	struct sc_buf v;
	size_t l;
	int r;

	*ct = NULL;
	*len = 0;
	sc_buf_init_ro(&v, sc_buf_rptr(b), sc_buf_avail(b));
	if ((r = sc_op_item_len_get(&v, &l)) != 0)
		return r;
	if (sc_buf_avail(&v) < l)
		return SC_ERR_TRUNCATED;
	*ct = sc_buf_rptr(&v);
	*len = l;
	return sc_buf_skip(b, SC_OP_ITEM_HDR_LEN + l);
}
