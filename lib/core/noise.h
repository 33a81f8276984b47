/*
 * noise.h — Noise protocol framework, revision 34, for 25519 / ChaChaPoly /
 * BLAKE2b (HASHLEN 64), with a pattern table (at least IK and IKpsk2; the
 * other fundamental and deferred patterns and psk modifiers where supported).
 *
 * Freestanding: all state is fixed-size and lives in the caller's struct;
 * every primitive goes through struct sc_crypto.  Secrets inside these
 * structs are wiped by sc_noise_hs_wipe()/sc_noise_transport_wipe(); callers
 * that copy them out own the wiping of their copies.
 */
#ifndef SC_CORE_NOISE_H
#define SC_CORE_NOISE_H

#include "core/compat.h"
#include "core/crypto.h"
#include "core/buf.h"

#define SC_NOISE_DHLEN		32
#define SC_NOISE_HASHLEN	64
#define SC_NOISE_KEYLEN		32
#define SC_NOISE_TAGLEN		16
#define SC_NOISE_PSKLEN		32
#define SC_NOISE_MSG_MAX	65535	/* Noise §3 */
#define SC_NOISE_MAX_PSKS	4
#define SC_NOISE_NAME_MAX	64
/* Nonce 2^64-1 is reserved (Noise §5.1): reaching it is a hard error. */
#define SC_NOISE_NONCE_MAX	UINT64_MAX

struct sc_noise_pattern;	/* opaque entry in the pattern table */

/*
 * Look a protocol up by its full name ("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b").
 * Returns NULL if the pattern, a modifier or a primitive is not supported.
 */
const struct sc_noise_pattern *sc_noise_pattern_lookup(const char *protocol_name);
/* Number of psk tokens in the pattern (0 if none). */
unsigned sc_noise_pattern_psks(const struct sc_noise_pattern *p);
/* Which statics each side needs: bit 0 = initiator s, bit 1 = responder s,
 * bit 2 = initiator knows rs before the handshake, bit 3 = responder knows rs. */
unsigned sc_noise_pattern_needs(const struct sc_noise_pattern *p);
#define SC_NOISE_NEED_INIT_S	0x01
#define SC_NOISE_NEED_RESP_S	0x02
#define SC_NOISE_NEED_INIT_RS	0x04	/* initiator has responder's static pre-message */
#define SC_NOISE_NEED_RESP_RS	0x08	/* responder has initiator's static pre-message */

struct sc_noise_cipher {
	uint8_t		k[SC_NOISE_KEYLEN];
	uint64_t	n;
	bool		has_key;
};

struct sc_noise_symmetric {
	uint8_t		ck[SC_NOISE_HASHLEN];
	uint8_t		h[SC_NOISE_HASHLEN];
	struct sc_noise_cipher cs;
};

struct sc_noise_handshake {
	const struct sc_crypto	*cp;
	const struct sc_noise_pattern *pattern;
	bool		initiator;
	unsigned	msg_index;	/* next message to write/read */
	unsigned	psk_index;	/* next psk to consume */
	struct sc_noise_symmetric ss;
	uint8_t		s_sk[SC_NOISE_DHLEN], s_pk[SC_NOISE_DHLEN];
	uint8_t		e_sk[SC_NOISE_DHLEN], e_pk[SC_NOISE_DHLEN];
	uint8_t		rs[SC_NOISE_DHLEN], re[SC_NOISE_DHLEN];
	uint8_t		psks[SC_NOISE_MAX_PSKS][SC_NOISE_PSKLEN];
	unsigned	npsks;
	bool		has_s, has_e, has_rs, has_re;
	bool		fixed_e;	/* test hook: e_sk preset, do not generate */
	bool		failed;		/* any error poisons the handshake */
};

/*
 * The result of a completed handshake: one cipher state per direction,
 * oriented for this side, plus the handshake hash for channel binding.
 */
struct sc_noise_transport {
	const struct sc_crypto	*cp;
	struct sc_noise_cipher	send;
	struct sc_noise_cipher	recv;
	uint8_t		handshake_hash[SC_NOISE_HASHLEN];
	uint8_t		remote_static[SC_NOISE_DHLEN];
	bool		has_remote_static;
};

/*
 * Initialize a handshake.  s_sk: this side's static private key (NULL if the
 * pattern gives this side none); rs: the peer's static public key if it is a
 * pre-message (NULL otherwise); psks: npsks keys of SC_NOISE_PSKLEN bytes, in
 * the order the psk tokens appear.  The prologue is MixHash'ed even if empty.
 */
int	sc_noise_hs_init(struct sc_noise_handshake *hs, const struct sc_crypto *cp,
	    const struct sc_noise_pattern *pattern, bool initiator,
	    const uint8_t *prologue, size_t prologue_len,
	    const uint8_t *s_sk, const uint8_t *rs,
	    const uint8_t *psks, unsigned npsks) SC_WUR;

/* Test hook: use this ephemeral private key instead of a random one. */
int	sc_noise_hs_set_fixed_ephemeral(struct sc_noise_handshake *hs,
	    const uint8_t e_sk[SC_NOISE_DHLEN]) SC_WUR;

/*
 * Write the next handshake message carrying payload, appending it to out.
 * Read the next handshake message, appending the decrypted payload to
 * payload_out.  On any error the handshake is poisoned (every further call
 * fails with SC_ERR_STATE) — Noise §5: a failed handshake is abandoned.
 */
int	sc_noise_hs_write(struct sc_noise_handshake *hs, const uint8_t *payload,
	    size_t payload_len, struct sc_buf *out) SC_WUR;
int	sc_noise_hs_read(struct sc_noise_handshake *hs, const uint8_t *msg,
	    size_t msg_len, struct sc_buf *payload_out) SC_WUR;

/* True once every message of the pattern has been written or read. */
bool	sc_noise_hs_complete(const struct sc_noise_handshake *hs);
/* True if it is this side's turn to write. */
bool	sc_noise_hs_my_turn(const struct sc_noise_handshake *hs);
/* Current handshake hash h (valid at any point; final after completion). */
const uint8_t *sc_noise_hs_hash(const struct sc_noise_handshake *hs);
/* The peer's static key, once learned (NULL before). */
const uint8_t *sc_noise_hs_remote_static(const struct sc_noise_handshake *hs);

/* Split a completed handshake into t, then wipe hs. */
int	sc_noise_hs_split(struct sc_noise_handshake *hs,
	    struct sc_noise_transport *t) SC_WUR;
void	sc_noise_hs_wipe(struct sc_noise_handshake *hs);

/*
 * Transport: encrypt/decrypt one message with zero-length AD (Noise §5).
 * out receives len + 16 (encrypt) or len - 16 (decrypt) bytes.  A failed
 * decrypt does not advance the counter.  SC_ERR_NONCE once n reaches 2^64-1.
 */
int	sc_noise_encrypt(struct sc_noise_transport *t, const uint8_t *pt,
	    size_t len, struct sc_buf *out) SC_WUR;
int	sc_noise_decrypt(struct sc_noise_transport *t, const uint8_t *ct,
	    size_t len, struct sc_buf *out) SC_WUR;
/* Noise §11.3 REKEY on one direction (does not reset n). */
int	sc_noise_rekey_send(struct sc_noise_transport *t) SC_WUR;
int	sc_noise_rekey_recv(struct sc_noise_transport *t) SC_WUR;
void	sc_noise_transport_wipe(struct sc_noise_transport *t);

/* Cipher-state primitives, exposed for the vector runner and self-tests. */
int	sc_noise_cipher_encrypt(const struct sc_crypto *cp, struct sc_noise_cipher *c,
	    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t len,
	    uint8_t *out) SC_WUR;
int	sc_noise_cipher_decrypt(const struct sc_crypto *cp, struct sc_noise_cipher *c,
	    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t len,
	    uint8_t *out) SC_WUR;

#endif /* SC_CORE_NOISE_H */
