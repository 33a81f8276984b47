/*
 * noise_pattern.c — the Noise rev. 34 pattern table (§7, §9, §18) and the
 * protocol-name lookup (contract in core/noise.h; internals in
 * core/noise_pattern.h).
 *
 * Freestanding: only core/ headers.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/noise.h"
#include "core/noise_pattern.h"

#ifdef SC_NOISE_IKPSK2_ONLY
/*
 * Hypervisor builds (sccrypt-hvsim, the Xen core): the one protocol SCCrypt
 * speaks, Noise_IKpsk2 (PROTOCOL.md §4), and nothing else, so the
 * hypervisor carries no handshake it never uses.  The vector runner and the
 * clients keep the full table below.
 */
static const struct base_pattern bases[] = {
	{ "IK",  T_END, T_S,   2, { { T_E, T_ES, T_S, T_SS }, { T_E, T_EE, T_SE } } },
};
#define ONLY_PSK_MASK	(1u << 2)	/* psk2 */
#else
/*
 * Noise rev. 34: one-way patterns (§7.4), fundamental interactive patterns
 * (§7.5) and deferred patterns (§18.1).  Message 0 is sent by the
 * initiator, then the sides alternate.  Pre-messages of "e" exist only in
 * the fallback patterns, which are not supported.
 */
static const struct base_pattern bases[] = {
	/* §7.4 one-way */
	{ "N",   T_END, T_S, 1, { { T_E, T_ES } } },
	{ "K",   T_S,   T_S, 1, { { T_E, T_ES, T_SS } } },
	{ "X",   T_END, T_S, 1, { { T_E, T_ES, T_S, T_SS } } },
	/* §7.5 interactive */
	{ "NN",  T_END, T_END, 2, { { T_E }, { T_E, T_EE } } },
	{ "NK",  T_END, T_S,   2, { { T_E, T_ES }, { T_E, T_EE } } },
	{ "NX",  T_END, T_END, 2, { { T_E }, { T_E, T_EE, T_S, T_ES } } },
	{ "KN",  T_S,   T_END, 2, { { T_E }, { T_E, T_EE, T_SE } } },
	{ "KK",  T_S,   T_S,   2, { { T_E, T_ES, T_SS }, { T_E, T_EE, T_SE } } },
	{ "KX",  T_S,   T_END, 2, { { T_E }, { T_E, T_EE, T_SE, T_S, T_ES } } },
	{ "XN",  T_END, T_END, 3, { { T_E }, { T_E, T_EE }, { T_S, T_SE } } },
	{ "XK",  T_END, T_S,   3, { { T_E, T_ES }, { T_E, T_EE }, { T_S, T_SE } } },
	{ "XX",  T_END, T_END, 3, { { T_E }, { T_E, T_EE, T_S, T_ES }, { T_S, T_SE } } },
	{ "IN",  T_END, T_END, 2, { { T_E, T_S }, { T_E, T_EE, T_SE } } },
	{ "IK",  T_END, T_S,   2, { { T_E, T_ES, T_S, T_SS }, { T_E, T_EE, T_SE } } },
	{ "IX",  T_END, T_END, 2, { { T_E, T_S }, { T_E, T_EE, T_SE, T_S, T_ES } } },
	/* §18.1 deferred */
	{ "NK1", T_END, T_S,   2, { { T_E }, { T_E, T_EE, T_ES } } },
	{ "NX1", T_END, T_END, 3, { { T_E }, { T_E, T_EE, T_S }, { T_ES } } },
	{ "X1N", T_END, T_END, 4, { { T_E }, { T_E, T_EE }, { T_S }, { T_SE } } },
	{ "X1K", T_END, T_S,   4, { { T_E, T_ES }, { T_E, T_EE }, { T_S }, { T_SE } } },
	{ "XK1", T_END, T_S,   3, { { T_E }, { T_E, T_EE, T_ES }, { T_S, T_SE } } },
	{ "X1K1", T_END, T_S,  4, { { T_E }, { T_E, T_EE, T_ES }, { T_S }, { T_SE } } },
	{ "X1X", T_END, T_END, 4, { { T_E }, { T_E, T_EE, T_S, T_ES }, { T_S }, { T_SE } } },
	{ "XX1", T_END, T_END, 3, { { T_E }, { T_E, T_EE, T_S }, { T_ES, T_S, T_SE } } },
	{ "X1X1", T_END, T_END, 4, { { T_E }, { T_E, T_EE, T_S }, { T_ES, T_S }, { T_SE } } },
	{ "K1N", T_S,   T_END, 3, { { T_E }, { T_E, T_EE }, { T_SE } } },
	{ "K1K", T_S,   T_S,   3, { { T_E, T_ES }, { T_E, T_EE }, { T_SE } } },
	{ "KK1", T_S,   T_S,   2, { { T_E }, { T_E, T_EE, T_SE, T_ES } } },
	{ "K1K1", T_S,  T_S,   3, { { T_E }, { T_E, T_EE, T_ES }, { T_SE } } },
	{ "K1X", T_S,   T_END, 3, { { T_E }, { T_E, T_EE, T_S, T_ES }, { T_SE } } },
	{ "KX1", T_S,   T_END, 3, { { T_E }, { T_E, T_EE, T_SE, T_S }, { T_ES } } },
	{ "K1X1", T_S,  T_END, 3, { { T_E }, { T_E, T_EE, T_S }, { T_SE, T_ES } } },
	{ "I1N", T_END, T_END, 3, { { T_E, T_S }, { T_E, T_EE }, { T_SE } } },
	{ "I1K", T_END, T_S,   3, { { T_E, T_ES, T_S }, { T_E, T_EE }, { T_SE } } },
	{ "IK1", T_END, T_S,   2, { { T_E, T_S }, { T_E, T_EE, T_SE, T_ES } } },
	{ "I1K1", T_END, T_S,  3, { { T_E, T_S }, { T_E, T_EE, T_ES }, { T_SE } } },
	{ "I1X", T_END, T_END, 3, { { T_E, T_S }, { T_E, T_EE, T_S, T_ES }, { T_SE } } },
	{ "IX1", T_END, T_END, 3, { { T_E, T_S }, { T_E, T_EE, T_SE, T_S }, { T_ES } } },
	{ "I1X1", T_END, T_END, 3, { { T_E, T_S }, { T_E, T_EE, T_S }, { T_SE, T_ES } } },
};
#endif
#define NBASES	SC_NELEM(bases)


#define V1(b, m)	{ (b), (m) }
#define V2(b, m)	V1(b, m), V1(b, (m) + 1)
#define V4(b, m)	V2(b, m), V2(b, (m) + 2)
#define V8(b, m)	V4(b, m), V4(b, (m) + 4)
#define V16(b, m)	V8(b, m), V8(b, (m) + 8)
#define ROW(b)		{ V16(b, 0), V16(b, 16) }

#ifdef SC_NOISE_IKPSK2_ONLY
static const struct sc_noise_pattern variants[][NVARIANTS] = { ROW(0) };
#else
static const struct sc_noise_pattern variants[][NVARIANTS] = {
	ROW(0), ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7),
	ROW(8), ROW(9), ROW(10), ROW(11), ROW(12), ROW(13), ROW(14), ROW(15),
	ROW(16), ROW(17), ROW(18), ROW(19), ROW(20), ROW(21), ROW(22), ROW(23),
	ROW(24), ROW(25), ROW(26), ROW(27), ROW(28), ROW(29), ROW(30), ROW(31),
	ROW(32), ROW(33), ROW(34), ROW(35), ROW(36), ROW(37),
};
#endif
_Static_assert(SC_NELEM(variants) == NBASES, "one variant row per base pattern");
_Static_assert(NVARIANTS == 32, "ROW() expands 32 variants");

static size_t
str_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

static bool
str_eq_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

const struct base_pattern *
sc_noise_base(const struct sc_noise_pattern *p)
{
	return &bases[p->base];
}

static unsigned
popcount8(unsigned v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

/*
 * "Noise_" BASE [ "psk" D { "+psk" D } ] "_25519_ChaChaPoly_BLAKE2b", where
 * the psk positions are strictly increasing and at most the number of
 * messages (§9.2).  Requiring that canonical order means the name can be
 * rebuilt exactly from the table entry for InitializeSymmetric.
 */
const struct sc_noise_pattern *
sc_noise_pattern_lookup(const char *name)
{
	const size_t plen = sizeof(NAME_PREFIX) - 1, slen = sizeof(NAME_SUFFIX) - 1;
	const char *s, *end;
	size_t len, blen, i;
	unsigned mask = 0;
	int last = -1;

	if (name == NULL)
		return NULL;
	for (len = 0; name[len] != '\0'; len++)
		if (len >= SC_NOISE_NAME_MAX)
			return NULL;
	if (len < plen + slen || !str_eq_n(name, NAME_PREFIX, plen) ||
	    !str_eq_n(name + len - slen, NAME_SUFFIX, slen))
		return NULL;
	s = name + plen;
	end = name + len - slen;
	/* The base name: upper-case letters and the deferral digit '1'. */
	for (blen = 0; s + blen < end &&
	    ((s[blen] >= 'A' && s[blen] <= 'Z') || s[blen] == '1'); blen++)
		;
	for (i = 0; i < NBASES; i++)
		if (str_len(bases[i].name) == blen && str_eq_n(bases[i].name, s, blen))
			break;
	if (i == NBASES)
		return NULL;
	s += blen;
	/* Modifiers: only psk0..psk4, '+'-separated, ascending. */
	while (s < end) {
		int pos;

		if (mask != 0) {
			if (*s != '+')
				return NULL;
			s++;
		}
		if (end - s < 4 || !str_eq_n(s, "psk", 3) || s[3] < '0' || s[3] > '9')
			return NULL;
		pos = s[3] - '0';
		if (pos > bases[i].nmsgs || pos <= last)
			return NULL;
		mask |= 1u << pos;
		last = pos;
		s += 4;
	}
	if (popcount8(mask) > SC_NOISE_MAX_PSKS)
		return NULL;
#ifdef ONLY_PSK_MASK
	if (mask != ONLY_PSK_MASK)
		return NULL;
#endif
	return &variants[i][mask];
}

unsigned
sc_noise_pattern_psks(const struct sc_noise_pattern *p)
{
	return p == NULL ? 0 : popcount8(p->psk_mask);
}

/* Does the given side send an "s" token in any message? */
static bool
sends_s(const struct base_pattern *b, bool initiator)
{
	unsigned m, t;

	for (m = 0; m < b->nmsgs; m++) {
		if (((m % 2) == 0) != initiator)
			continue;
		for (t = 0; b->msgs[m][t] != T_END; t++)
			if (b->msgs[m][t] == T_S)
				return true;
	}
	return false;
}

unsigned
sc_noise_pattern_needs(const struct sc_noise_pattern *p)
{
	const struct base_pattern *b;
	unsigned need = 0;

	if (p == NULL)
		return 0;
	b = sc_noise_base(p);
	if (b->pre_i == T_S || sends_s(b, true))
		need |= SC_NOISE_NEED_INIT_S;
	if (b->pre_r == T_S || sends_s(b, false))
		need |= SC_NOISE_NEED_RESP_S;
	if (b->pre_r == T_S)
		need |= SC_NOISE_NEED_INIT_RS;
	if (b->pre_i == T_S)
		need |= SC_NOISE_NEED_RESP_RS;
	return need;
}

/* The full protocol name of p into out[SC_NOISE_NAME_MAX]; returns its length. */
size_t
sc_noise_build_name(const struct sc_noise_pattern *p, char out[SC_NOISE_NAME_MAX])
{
	const char *bn = sc_noise_base(p)->name;
	size_t n = 0, i;
	unsigned pos;
	bool first = true;

#define APPEND(str) do {						\
		const char *a_ = (str);					\
		for (i = 0; a_[i] != '\0' && n < SC_NOISE_NAME_MAX; i++)	\
			out[n++] = a_[i];				\
	} while (0)
	APPEND(NAME_PREFIX);
	APPEND(bn);
	for (pos = 0; pos < PSK_POSITIONS; pos++) {
		char mod[6] = { '+', 'p', 's', 'k', (char)('0' + pos), '\0' };

		if ((p->psk_mask & (1u << pos)) == 0)
			continue;
		APPEND(first ? mod + 1 : mod);
		first = false;
	}
	APPEND(NAME_SUFFIX);
#undef APPEND
	return n;
}

/* The tokens of message m of p, psk modifiers applied (§9.2). */
void
sc_noise_msg_tokens(const struct sc_noise_pattern *p, unsigned m,
    uint8_t out[MAX_MSG_TOKENS])
{
	const struct base_pattern *b = sc_noise_base(p);
	unsigned n = 0, t;

	if (m == 0 && (p->psk_mask & 1u) != 0)
		out[n++] = T_PSK;
	for (t = 0; b->msgs[m][t] != T_END; t++)
		out[n++] = b->msgs[m][t];
	if ((p->psk_mask & (1u << (m + 1))) != 0)
		out[n++] = T_PSK;
	out[n] = T_END;
}
