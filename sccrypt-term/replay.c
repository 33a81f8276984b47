/*
 * replay.c — the replayed-history query filter (see replay.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "replay.h"

enum {
	RS_GROUND = 0,
	RS_ESC,		/* after ESC (held) */
	RS_CSI,		/* ESC [ ...: held in buf, or passing */
	RS_STR,		/* OSC / DCS: held in buf, or passing / dropping */
	RS_STR_ESC,	/* ESC inside a string */
};

#define ESC	0x1b

void
rplf_init(struct rplf *f)
{
	memset(f, 0, sizeof(*f));
}

void
rplf_end(struct rplf *f)
{
	if (f->state != RS_GROUND || f->len > 0)
		rplf_init(f);
}

static void
hold(struct rplf *f, uint8_t c)
{
	f->buf[f->len++] = c;
}

/* Is the complete CSI sequence in f->buf a request the terminal answers? */
static bool
csi_is_query(const struct rplf *f)
{
	const uint8_t *p = f->buf + 2, *end = f->buf + f->len - 1;
	uint8_t fin = *end, priv = 0, inter = 0;
	long first = -1;

	if (p < end && *p >= 0x3c && *p <= 0x3f)
		priv = *p++;
	if (p < end && *p >= '0' && *p <= '9')
		first = strtol((const char *)p, NULL, 10);	/* stops at ';' */
	for (; p < end; p++)
		if (*p >= 0x20 && *p <= 0x2f)
			inter = inter == 0 ? *p : 0xff;
	switch (fin) {
	case 'c':			/* DA1, DA2, DA3 */
	case 'n':			/* DSR, DECDSR */
		return true;
	case 'p':			/* DECRQM (CSI ? Ps $ p too) */
	case 'w':			/* DECRQPSR */
		return inter == '$';
	case 'y':			/* DECRQCRA */
		return inter == '*';
	case 'q':			/* XTVERSION */
		return priv == '>';
	case 'u':			/* keyboard protocol flags */
	case 'm':			/* XTQMODKEYS */
	case 'S':			/* XTSMGRAPHICS */
		return priv == '?';
	case 'x':			/* DECREQTPARM */
		return priv == 0 && inter == 0;
	case 't':			/* XTWINOPS reports */
		return priv == 0 && inter == 0 &&
		    (first == 11 || (first >= 13 && first <= 16) ||
		     (first >= 18 && first <= 21));
	default:
		return false;
	}
}

/* Is the held OSC or DCS string (so far) a request? */
static bool
str_is_query(const struct rplf *f)
{
	size_t i;

	if (f->buf[1] == ']')		/* OSC: colour / clipboard queries */
		return memchr(f->buf + 2, '?', f->len - 2) != NULL;
	for (i = 2; i < f->len; i++)	/* DCS: $ q (DECRQSS), + q (XTGETTCAP) */
		if (f->buf[i] >= 0x40 && f->buf[i] <= 0x7e)
			return f->buf[i] == 'q' && i > 2 &&
			    (f->buf[i - 1] == '$' || f->buf[i - 1] == '+');
	return false;
}

/* A DCS is classified at its final byte, an OSC only at its end. */
static bool
str_decided(const struct rplf *f)
{
	size_t i;

	if (f->buf[1] == ']')
		return false;
	for (i = 2; i < f->len; i++)
		if (f->buf[i] >= 0x40 && f->buf[i] <= 0x7e)
			return true;
	return false;
}

/* A held string ends (terminator not yet emitted): emit it unless a query. */
static bool
str_end(struct rplf *f, rplf_emit_fn emit, void *ctx)
{
	bool keep = f->passing || (!f->dropping && !str_is_query(f));

	if (!f->passing && keep && f->len > 0)
		emit(ctx, f->buf, f->len);
	f->len = 0;
	f->passing = f->dropping = false;
	f->state = RS_GROUND;
	return keep;
}

static void
one(struct rplf *f, uint8_t c, rplf_emit_fn emit, void *ctx)
{
	static const uint8_t esc = ESC;

	switch (f->state) {
	case RS_GROUND:
		if (c == ESC)
			f->state = RS_ESC;
		else if (c != 0x05)		/* ENQ: answerback */
			emit(ctx, &c, 1);
		return;
	case RS_ESC:
		f->len = 0;
		f->passing = f->dropping = false;
		if (c == '[' || c == ']' || c == 'P') {
			hold(f, ESC);
			hold(f, c);
			f->state = c == '[' ? RS_CSI : RS_STR;
		} else if (c == '_' || c == '^' || c == 'X') {
			f->dropping = true;	/* APC, PM, SOS */
			f->state = RS_STR;
		} else if (c == ESC) {
			emit(ctx, &esc, 1);	/* the first one is void */
		} else {
			f->state = RS_GROUND;
			if (c != 'Z') {		/* DECID */
				emit(ctx, &esc, 1);
				emit(ctx, &c, 1);
			}
		}
		return;
	case RS_CSI:
		if (c == 0x18 || c == 0x1a) {	/* cancelled: nothing to show */
			f->len = 0;
			f->passing = false;
			f->state = RS_GROUND;
			return;
		}
		if (c == ESC) {			/* abandoned: not a query */
			if (!f->passing)
				emit(ctx, f->buf, f->len);
			f->len = 0;
			f->passing = false;
			f->state = RS_ESC;
			return;
		}
		if (f->passing) {
			emit(ctx, &c, 1);
		} else if (f->len == RPLF_SEQ_MAX) {
			emit(ctx, f->buf, f->len);	/* too long to be ours */
			emit(ctx, &c, 1);
			f->passing = true;
		} else {
			hold(f, c);
		}
		if (c >= 0x40 && c <= 0x7e) {
			if (!f->passing && !csi_is_query(f))
				emit(ctx, f->buf, f->len);
			f->len = 0;
			f->passing = false;
			f->state = RS_GROUND;
		}
		return;
	case RS_STR:
		if (c == 0x18 || c == 0x1a) {
			f->len = 0;
			f->passing = f->dropping = false;
			f->state = RS_GROUND;
			return;
		}
		if (c == 0x07) {		/* BEL ends it */
			if (str_end(f, emit, ctx))
				emit(ctx, &c, 1);
			return;
		}
		if (c == ESC) {
			f->state = RS_STR_ESC;
			return;
		}
		if (f->dropping)
			return;
		if (f->passing) {
			emit(ctx, &c, 1);
			return;
		}
		if (f->len == RPLF_STR_MAX) {
			emit(ctx, f->buf, f->len);	/* too long to be a query */
			emit(ctx, &c, 1);
			f->len = 0;
			f->passing = true;
			return;
		}
		hold(f, c);
		if (str_decided(f)) {
			if (str_is_query(f)) {
				f->dropping = true;
			} else {
				emit(ctx, f->buf, f->len);
				f->passing = true;
			}
			f->len = 0;
		}
		return;
	case RS_STR_ESC:
		if (c == '\\') {		/* ST */
			if (str_end(f, emit, ctx)) {
				emit(ctx, &esc, 1);
				emit(ctx, &c, 1);
			}
			return;
		}
		/* ESC ends the string and starts a new sequence */
		(void)str_end(f, emit, ctx);
		f->state = RS_ESC;
		one(f, c, emit, ctx);
		return;
	default:
		f->state = RS_GROUND;
		return;
	}
}

void
rplf_filter(struct rplf *f, const uint8_t *in, size_t len, rplf_emit_fn emit,
    void *ctx)
{
	size_t i = 0, j;

	while (i < len) {
		if (f->state == RS_GROUND) {	/* text: one run at a time */
			for (j = i; j < len && in[j] != ESC && in[j] != 0x05; j++)
				;
			if (j > i) {
				emit(ctx, in + i, j - i);
				i = j;
				continue;
			}
		}
		one(f, in[i++], emit, ctx);
	}
}
