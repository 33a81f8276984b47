/*
 * record.c — the record layer over a Noise transport (core/record.h,
 * PROTOCOL.md §5).
 *
 * A record's plaintext is type:u8 || length:u16 || payload || zeros, padded
 * to the smallest of SC_RECORD_PAD_1/2/3 and SC_RECORD_PT_MAX that holds
 * it, and is sealed as exactly one Noise transport message.  The nonce is the implicit counter, so records
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

static const size_t pad_sizes[] = {
	SC_RECORD_PAD_1, SC_RECORD_PAD_2, SC_RECORD_PAD_3, SC_RECORD_PT_MAX,
};

static bool
record_type_known(uint8_t type)
{
	return type >= SC_REC_DATA && type <= SC_REC_REKEY;
}

/* Padded plaintext size for a payload of len bytes; 0 if it is too long. */
static size_t
padded_len(size_t len)
{
	size_t i;

	if (len > SC_RECORD_PAYLOAD_MAX)
		return 0;
	for (i = 0; i < SC_NELEM(pad_sizes); i++)
		if (SC_RECORD_HDR_LEN + len <= pad_sizes[i])
			return pad_sizes[i];
	return 0;
}

static bool
is_padded_len(size_t ptlen)
{
	size_t i;

	for (i = 0; i < SC_NELEM(pad_sizes); i++)
		if (ptlen == pad_sizes[i])
			return true;
	return false;
}

size_t
sc_record_ct_len(size_t len)
{
	size_t p = padded_len(len);

	return p == 0 ? 0 : p + SC_TAG_LEN;
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
	uint8_t ptmem[SC_RECORD_PT_MAX];
	struct sc_buf pt;
	size_t saved, plen;
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
	plen = padded_len(len);
	if (sc_buf_room(out) < plen + SC_TAG_LEN)
		return SC_ERR_NOSPACE;

	saved = out->len;
	sc_memset(ptmem, 0, plen);		/* the padding */
	sc_buf_init(&pt, ptmem, plen);
	if ((r = sc_buf_put_u8(&pt, type)) != 0 ||
	    (r = sc_buf_put_u16(&pt, (uint16_t)len)) != 0 ||
	    (r = sc_buf_put_bytes(&pt, payload, len)) != 0)
		goto out;
	pt.len = plen;
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
	cp->memzero(ptmem, plen);	/* all that was written */
	return r;
}

/* Zero padding, checked without an early exit. */
static bool
pad_is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int
sc_record_open(struct sc_record_layer *rl, const uint8_t *ct, size_t len,
    uint8_t *type, struct sc_buf *payload_out)
{
	const struct sc_crypto *cp = rl->t.cp;
	uint8_t ptmem[SC_RECORD_PT_MAX];
	struct sc_buf pt;
	size_t ptlen;
	uint16_t plen;
	uint8_t t;
	int r;

	*type = 0;
	if (rl->dead || rl->recv_dead || cp == NULL)
		return SC_ERR_STATE;
	if (len > 0 && ct == NULL)
		return SC_ERR_INVAL;
	/* Sizes first: a record is one of the padded sizes plus a tag. */
	if (len < SC_RECORD_CT_MIN)
		return rl_recv_fail(rl, SC_ERR_TRUNCATED);
	if (len > SC_RECORD_CT_MAX)
		return rl_recv_fail(rl, SC_ERR_TOOLONG);
	ptlen = len - SC_TAG_LEN;
	if (!is_padded_len(ptlen))
		return rl_recv_fail(rl, SC_ERR_FORMAT);
	/*
	 * Refuse before decrypting, so the counter is not spent on a caller
	 * bug: the payload can be as long as the padded size allows.
	 */
	if (sc_buf_room(payload_out) < SC_MIN(ptlen - SC_RECORD_HDR_LEN,
	    (size_t)SC_RECORD_PAYLOAD_MAX))
		return SC_ERR_NOSPACE;

	sc_buf_init(&pt, ptmem, sizeof(ptmem));
	if ((r = sc_noise_decrypt(&rl->t, ct, len, &pt)) != 0) {
		r = rl_recv_fail(rl, r);
		goto out;
	}
	if ((r = sc_buf_get_u8(&pt, &t)) != 0 ||
	    (r = sc_buf_get_u16(&pt, &plen)) != 0 || pt.len != ptlen) {
		r = rl_recv_fail(rl, SC_ERR_INTERNAL);
		goto out;
	}
	/* The payload fits, the size is the smallest that holds it, the rest is zero. */
	if (plen > sc_buf_avail(&pt) || padded_len(plen) != ptlen ||
	    !pad_is_zero(sc_buf_rptr(&pt) + plen, sc_buf_avail(&pt) - plen)) {
		r = rl_recv_fail(rl, SC_ERR_FORMAT);
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
	cp->memzero(ptmem, ptlen);	/* decrypt writes [0, ptlen) at most */
	return r;
}

int
sc_record_seal_close(struct sc_record_layer *rl, uint8_t reason,
    const char *text, struct sc_buf *out)
{
	uint8_t mem[SC_CLOSE_FIXED_LEN + 1 + SC_CLOSE_TEXT_MAX];
	struct sc_buf b;
	size_t n = 0;
	int r;

	while (text != NULL && n < SC_CLOSE_TEXT_MAX && text[n] != '\0')
		n++;
	sc_buf_init(&b, mem, sizeof(mem));
	if ((r = sc_buf_put_u8(&b, reason)) != 0 ||
	    (r = sc_buf_put_u64(&b, rl->stats.records_sent)) != 0 ||
	    (r = sc_buf_put_u64(&b, rl->stats.records_recv)) != 0 ||
	    (r = sc_buf_put_str8(&b, text, n)) != 0)
		return r;
	return sc_record_seal(rl, SC_REC_CLOSE, mem, b.len, out);
}

int
sc_record_close_parse(const struct sc_record_layer *rl, const uint8_t *p,
    size_t len, struct sc_record_close *c)
{
	struct sc_buf b;
	int r;

	sc_memset(c, 0, sizeof(*c));
	sc_buf_init_ro(&b, p, len);
	if ((r = sc_buf_get_u8(&b, &c->reason)) != 0 ||
	    (r = sc_buf_get_u64(&b, &c->sent)) != 0 ||
	    (r = sc_buf_get_u64(&b, &c->recv)) != 0 ||
	    (r = sc_buf_get_str8(&b, &c->text, &c->text_len,
	    SC_CLOSE_TEXT_MAX)) != 0 ||
	    (r = sc_buf_expect_end(&b)) != 0) {
		sc_memset(c, 0, sizeof(*c));
		return r;
	}
	/* The CLOSE itself was the last record counted as received. */
	if (rl->stats.records_recv == 0 || c->sent != rl->stats.records_recv - 1 ||
	    c->recv > rl->stats.records_sent)
		return SC_ERR_MISMATCH;
	return 0;
}

bool
sc_record_need_rekey(const struct sc_record_layer *rl)
{
	return !rl->dead && rl->since_rekey_send >= SC_REKEY_AFTER_RECORDS;
}
