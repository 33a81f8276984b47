/*
 * screen.c — the status-line output filter (see screen.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "screen.h"

enum {
	ST_GROUND = 0,
	ST_ESC,		/* after ESC */
	ST_ESC_INTER,	/* ESC + intermediate bytes (0x20..0x2f) */
	ST_CSI,		/* ESC [ ..., buffered in seq */
	ST_STR,		/* OSC/DCS/APC/PM/SOS/screen-title string */
	ST_STR_ESC,	/* ESC inside a string (ST is ESC \) */
	ST_ESC_HASH,	/* ESC # */
};

#define PARAMS_MAX	8
#define PARAM_CLAMP	99999

void
scrf_init(struct scrf *s, int rows)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
}

void
scrf_set_rows(struct scrf *s, int rows)
{
	s->rows = rows;
}

void
scrf_forget_region(struct scrf *s)
{
	s->top = s->bottom = 0;
}

bool
scrf_idle(const struct scrf *s)
{
	return s->state == ST_GROUND && s->utf8_left == 0;
}

bool
scrf_can_draw(const struct scrf *s)
{
	return scrf_idle(s) && !s->saved;
}

void
scrf_region(const struct scrf *s, int *top0, int *bottom0)
{
	int last = s->rows - 1;		/* guest rows are 1..last */
	int t = s->top > 0 ? s->top : 1;
	int b = s->bottom > 0 && s->bottom < last ? s->bottom : last;

	if (t >= b) {			/* not a valid region: the whole area */
		t = 1;
		b = last;
	}
	*top0 = t - 1;
	*bottom0 = b - 1;
}

/*
 * Parse "n;n;..." (digits and ';' only) into v[].  Returns the count, or -1
 * if the parameters hold anything else (sub-parameters, too many).
 */
static int
parse_params(const uint8_t *p, size_t len, int v[PARAMS_MAX])
{
	int n = 0;
	size_t i;

	v[0] = 0;
	for (i = 0; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			if (v[n] < PARAM_CLAMP)
				v[n] = v[n] * 10 + (p[i] - '0');
			if (v[n] > PARAM_CLAMP)
				v[n] = PARAM_CLAMP;
		} else if (p[i] == ';') {
			if (++n == PARAMS_MAX)
				return -1;
			v[n] = 0;
		} else
			return -1;
	}
	return n + 1;
}

static bool
has_param(const int *v, int n, int want)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] == want)
			return true;
	return false;
}

/*
 * The terminal returns to its power-on state, or close to it (RIS, DECSTR,
 * DECCOLM): the scroll region is the whole screen again and the saved
 * cursor is gone, so the status row must be reserved and drawn again.
 */
static void
full_reset(struct scrf *s)
{
	s->redraw = true;
	s->saved = false;
	s->top = s->bottom = 0;
}

/* A complete CSI sequence in s->seq ("ESC [" ... final): act, then emit. */
static void
csi_done(struct scrf *s, scrf_emit_fn emit, void *ctx)
{
	const uint8_t *p = s->seq + 2;		/* after ESC [ */
	size_t plen = s->seq_len - 3;		/* without the final byte */
	uint8_t fin = s->seq[s->seq_len - 1];
	uint8_t priv = 0;
	int v[PARAMS_MAX], n, last = s->rows - 1;
	char out[SCR_SEQ_MAX + 32];
	size_t i;

	if (s->seq_len < 3)
		goto asis;
	if (plen > 0 && p[0] >= 0x3c && p[0] <= 0x3f) {
		priv = p[0];
		p++;
		plen--;
	}
	if (priv == 0 && fin == 'p' && plen == 1 && p[0] == '!') {
		full_reset(s);			/* DECSTR (soft reset) */
		goto asis;
	}
	for (i = 0; i < plen; i++)	/* intermediates: not ours */
		if (p[i] >= 0x20 && p[i] <= 0x2f)
			goto asis;
	if ((n = parse_params(p, plen, v)) < 0)
		goto asis;

	if (fin == 'J') {			/* ED / DECSED */
		s->redraw = true;
		goto asis;
	}
	if (priv == '?' && (fin == 'h' || fin == 'l')) {
		if (has_param(v, n, 3))		/* DECCOLM: clears, resets */
			full_reset(s);
		if (has_param(v, n, 47) || has_param(v, n, 1047) ||
		    has_param(v, n, 1049))
			s->redraw = true;
		goto asis;
	}
	if (priv != 0)
		goto asis;
	if (fin == 's' && plen == 0) {
		s->saved = true;
		goto asis;
	}
	if (fin == 'u' && plen == 0) {
		s->saved = false;
		goto asis;
	}
	if (s->rows < 3)
		goto asis;
	if (fin == 'r' && n <= 2) {		/* DECSTBM */
		s->top = v[0];
		s->bottom = n > 1 ? v[1] : 0;
		{
			int t = v[0] > 0 ? v[0] : 1;
			int b = n > 1 && v[1] > 0 ? v[1] : s->rows;

			if (b > last)
				b = last;
			snprintf(out, sizeof(out), "\x1b[%d;%dr", t, b);
		}
		emit(ctx, (const uint8_t *)out, strlen(out));
		return;
	}
	if ((fin == 'H' || fin == 'f') && n <= 2 && v[0] > last) {	/* CUP, HVP */
		if (n > 1)
			snprintf(out, sizeof(out), "\x1b[%d;%d%c", last, v[1], fin);
		else
			snprintf(out, sizeof(out), "\x1b[%d%c", last, fin);
		emit(ctx, (const uint8_t *)out, strlen(out));
		return;
	}
	if (fin == 'd' && n == 1 && v[0] > last) {			/* VPA */
		snprintf(out, sizeof(out), "\x1b[%dd", last);
		emit(ctx, (const uint8_t *)out, strlen(out));
		return;
	}
asis:
	emit(ctx, s->seq, s->seq_len);
}

static void
seq_add(struct scrf *s, uint8_t c, scrf_emit_fn emit, void *ctx)
{
	if (s->seq_overflow) {
		emit(ctx, &c, 1);
		return;
	}
	if (s->seq_len == sizeof(s->seq)) {
		/* Too long to be one we rewrite: let it through as it is. */
		emit(ctx, s->seq, s->seq_len);
		s->seq_len = 0;
		s->seq_overflow = true;
		emit(ctx, &c, 1);
		return;
	}
	s->seq[s->seq_len++] = c;
}

/* ESC arrived while a CSI was being collected: let the partial one go. */
static void
seq_abandon(struct scrf *s, scrf_emit_fn emit, void *ctx)
{
	if (!s->seq_overflow && s->seq_len > 0)
		emit(ctx, s->seq, s->seq_len);
	s->seq_len = 0;
	s->seq_overflow = false;
}

/* Start an escape: the ESC is held back until we know what follows. */
static void
esc_start(struct scrf *s)
{
	s->esc_held = true;
	s->utf8_left = 0;
	s->state = ST_ESC;
}

/* The held ESC is not the start of a CSI: let it through. */
static void
esc_release(struct scrf *s, scrf_emit_fn emit, void *ctx)
{
	static const uint8_t esc = 0x1b;

	if (s->esc_held)
		emit(ctx, &esc, 1);
	s->esc_held = false;
}

void
scrf_filter(struct scrf *s, const uint8_t *in, size_t len, scrf_emit_fn emit,
    void *ctx)
{
	size_t i, run = 0;	/* start of the pending pass-through run */

	for (i = 0; i < len; i++) {
		uint8_t c = in[i];

		switch (s->state) {
		case ST_GROUND:
			if (c == 0x1b) {
				if (i > run)
					emit(ctx, in + run, i - run);
				run = i + 1;
				esc_start(s);
			} else if (s->utf8_left > 0 && (c & 0xc0) == 0x80) {
				s->utf8_left--;
			} else if (c >= 0xc2 && c <= 0xdf) {
				s->utf8_left = 1;
			} else if (c >= 0xe0 && c <= 0xef) {
				s->utf8_left = 2;
			} else if (c >= 0xf0 && c <= 0xf4) {
				s->utf8_left = 3;
			} else {
				s->utf8_left = 0;
			}
			break;
		case ST_ESC:
			if (c == '[') {
				s->esc_held = false;
				s->seq[0] = 0x1b;
				s->seq[1] = '[';
				s->seq_len = 2;
				s->seq_overflow = false;
				s->state = ST_CSI;
				run = i + 1;
				break;
			}
			if (c == 0x1b) {	/* ESC ESC: the first one is void */
				esc_release(s, emit, ctx);
				s->esc_held = true;
				run = i + 1;
				break;
			}
			esc_release(s, emit, ctx);
			run = i;
			if (c == ']' || c == 'P' || c == '_' || c == '^' ||
			    c == 'X' || c == 'k') {
				s->state = ST_STR;
			} else if (c == '#') {
				s->state = ST_ESC_HASH;
			} else if (c >= 0x20 && c <= 0x2f) {
				s->state = ST_ESC_INTER;
			} else if (c < 0x20) {
				/* C0 inside an escape is executed and the escape
				 * goes on; the ESC has been passed on, so what
				 * follows passes through unchanged. */
				s->state = (c == 0x18 || c == 0x1a) ?
				    ST_GROUND : ST_ESC_INTER;
			} else {
				if (c == 'c') {		/* RIS */
					full_reset(s);
				} else if (c == '7') {
					s->saved = true;
				} else if (c == '8') {
					s->saved = false;
				}
				s->state = ST_GROUND;
			}
			break;
		case ST_ESC_HASH:
		case ST_ESC_INTER:
			if (c == 0x1b) {
				if (i > run)
					emit(ctx, in + run, i - run);
				run = i + 1;
				esc_start(s);
			} else if (c >= 0x20 && c <= 0x2f) {
				s->state = ST_ESC_INTER;
			} else if (c >= 0x30 && c <= 0x7e) {
				if (s->state == ST_ESC_HASH && c == '8')
					s->redraw = true;	/* DECALN */
				s->state = ST_GROUND;
			} else if (c == 0x18 || c == 0x1a) {
				s->state = ST_GROUND;
			}
			break;
		case ST_CSI:
			if (c >= 0x40 && c <= 0x7e) {
				if (!s->seq_overflow && s->seq_len == sizeof(s->seq)) {
					/* no room for the final byte: as it is */
					emit(ctx, s->seq, s->seq_len);
					s->seq_overflow = true;
				}
				if (s->seq_overflow) {
					/* passed through: c goes with the run */
					s->seq_overflow = false;
					s->seq_len = 0;
					run = i;
				} else {
					s->seq[s->seq_len++] = c;
					csi_done(s, emit, ctx);
					s->seq_len = 0;
					run = i + 1;
				}
				s->state = ST_GROUND;
			} else if (c == 0x1b) {
				seq_abandon(s, emit, ctx);
				run = i + 1;
				esc_start(s);
			} else if (c == 0x18 || c == 0x1a) {
				/* CAN/SUB: the terminal drops the sequence */
				seq_abandon(s, emit, ctx);
				run = i;
				s->state = ST_GROUND;
			} else {
				/* parameters, intermediates, and C0 (executed at
				 * once by terminals: kept in order, no rewrite) */
				seq_add(s, c, emit, ctx);
				run = i + 1;
			}
			break;
		case ST_STR:
			if (c == 0x07 || c == 0x18 || c == 0x1a)
				s->state = ST_GROUND;
			else if (c == 0x1b)
				s->state = ST_STR_ESC;
			break;
		case ST_STR_ESC:
			if (c == '\\')
				s->state = ST_GROUND;
			else if (c != 0x1b)
				s->state = ST_STR;
			break;
		default:
			s->state = ST_GROUND;
			break;
		}
	}
	if (len > run)
		emit(ctx, in + run, len - run);
}
