/*
 * noise_pattern.h — the Noise pattern table inside lib/core (not part of the
 * API: core/noise.h is).  noise_pattern.c holds the table, the name lookup
 * and the per-message token lists; noise.c's HandshakeState engine walks
 * them.  Building noise_pattern.c with SC_NOISE_IKPSK2_ONLY leaves the one
 * protocol SCCrypt speaks (the hypervisor builds).
 *
 * Freestanding.
 */
#ifndef SC_CORE_NOISE_PATTERN_H
#define SC_CORE_NOISE_PATTERN_H

#include "core/compat.h"
#include "core/noise.h"

#define NAME_PREFIX	"Noise_"
#define NAME_SUFFIX	"_25519_ChaChaPoly_BLAKE2b"

enum token {
	T_END = 0,
	T_E,
	T_S,
	T_EE,
	T_ES,
	T_SE,
	T_SS,
	T_PSK,
};

#define MAX_MSGS	4	/* longest pattern in the table (X1K1, X1X1, ...) */
#define MAX_BASE_TOKENS	5	/* "e, ee, se, s, es" */
/* psk0 .. pskMAX_MSGS: one bit each in a variant's psk_mask. */
#define PSK_POSITIONS	(MAX_MSGS + 1)
#define NVARIANTS	(1u << PSK_POSITIONS)
/* A message: optional psk0, base tokens, optional pskN, T_END. */
#define MAX_MSG_TOKENS	(MAX_BASE_TOKENS + 3)

struct base_pattern {
	const char	*name;
	uint8_t		 pre_i;		/* initiator pre-message: T_S or T_END */
	uint8_t		 pre_r;		/* responder pre-message: T_S or T_END */
	uint8_t		 nmsgs;
	uint8_t		 msgs[MAX_MSGS][MAX_BASE_TOKENS + 1];	/* T_END-terminated */
};

/*
 * A supported protocol is a base pattern plus a set of psk modifiers.  The
 * lookup hands out pointers into this constant table, one entry per
 * (base, psk set); bit k of psk_mask is the modifier "pskk".
 */
struct sc_noise_pattern {
	uint8_t		base;
	uint8_t		psk_mask;
};

/* The base pattern of p. */
const struct base_pattern *sc_noise_base(const struct sc_noise_pattern *p);
/* The full protocol name of p into out[SC_NOISE_NAME_MAX]; returns its length. */
size_t	sc_noise_build_name(const struct sc_noise_pattern *p,
	    char out[SC_NOISE_NAME_MAX]);
/* The tokens of message m of p, psk modifiers applied (§9.2), T_END-terminated. */
void	sc_noise_msg_tokens(const struct sc_noise_pattern *p, unsigned m,
	    uint8_t out[MAX_MSG_TOKENS]);

#endif /* SC_CORE_NOISE_PATTERN_H */
