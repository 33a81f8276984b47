/*
 * test_term_screen.c — the status-line output filter of sccrypt-term
 * (sccrypt-term/screen.c): guest output passes unchanged except scroll
 * regions and absolute rows that would reach the status row; erasing and
 * screen switches ask for a redraw; a saved cursor holds it back; any
 * chunking gives the same bytes.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../sccrypt-term/cleartext.h"
#include "../../sccrypt-term/replay.h"
#include "../../sccrypt-term/screen.h"

static char out[8192];
static size_t out_len;

static void
cap(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	assert_true(out_len + len < sizeof(out));
	memcpy(out + out_len, p, len);
	out_len += len;
	out[out_len] = '\0';
}

/* Filter s in chunks of `chunk` bytes (0: at once) with a fresh filter. */
static const char *
run(struct scrf *f, int rows, const char *s, size_t chunk)
{
	size_t len = strlen(s), off = 0;

	scrf_init(f, rows);
	out_len = 0;
	out[0] = '\0';
	while (off < len) {
		size_t n = chunk ? (len - off < chunk ? len - off : chunk) : len - off;

		scrf_filter(f, (const uint8_t *)s + off, n, cap, NULL);
		off += n;
	}
	return out;
}

static void
same_any_chunking(int rows, const char *in, const char *want)
{
	struct scrf f;
	size_t c;

	for (c = 0; c <= 7; c++)
		assert_string_equal(run(&f, rows, in, c), want);
}

static void
test_passthrough(void **state)
{
	static const char *const keep[] = {
		"hello, world\r\n",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\r\n",
		"\x1b[1;31mred\x1b[0m \x1b[?25l\x1b[?25h \x1b[2K \x1b[10;5H",
		"\x1b]0;window title\x07 \x1b]2;x\x1b\\ \x1bP+q544e\x1b\\",
		"\x1b(B\x1b)0\x1b=\x1b>\x1bM\x1b[?1;2;3$p",
		"\x1b[38:2:1:2:3mcolon\x1b[m",	/* sub-parameters */
		"\x1b[?6r\x1b[>4;2m",		/* private: not DECSTBM */
		"\x1b[1\n;2H",			/* C0 inside: executed, unchanged */
		"\x1b[1;2\x18tail",		/* CAN aborts */
		"\x1b\x1b[0m",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		same_any_chunking(40, keep[i], keep[i]);
	/* rows < 3: nothing is rewritten at all */
	same_any_chunking(2, "\x1b[r\x1b[99;1H", "\x1b[r\x1b[99;1H");
}

static void
test_scroll_region(void **state)
{
	struct scrf f;
	int t, b;

	(void)state;
	same_any_chunking(40, "\x1b[r", "\x1b[1;39r");
	same_any_chunking(40, "a\x1b[1;40rb", "a\x1b[1;39rb");
	same_any_chunking(40, "\x1b[5;30r", "\x1b[5;30r");
	same_any_chunking(40, "\x1b[;r", "\x1b[1;39r");
	same_any_chunking(40, "\x1b[3r", "\x1b[3;39r");
	/* the guest's region is remembered, clamped for redraws */
	run(&f, 40, "\x1b[5;30r", 0);
	scrf_region(&f, &t, &b);
	assert_int_equal(t, 4);
	assert_int_equal(b, 29);
	run(&f, 40, "\x1b[r", 0);
	scrf_region(&f, &t, &b);
	assert_int_equal(t, 0);
	assert_int_equal(b, 38);
	run(&f, 40, "\x1b[2;60r", 0);
	scrf_region(&f, &t, &b);
	assert_int_equal(t, 1);
	assert_int_equal(b, 38);
	/* a resize re-clamps */
	run(&f, 40, "\x1b[5;30r", 0);
	scrf_set_rows(&f, 20);
	scrf_region(&f, &t, &b);
	assert_int_equal(t, 4);
	assert_int_equal(b, 18);
	/* a resize of the terminal resets its region: so is the guest's
	 * (issue 17: vi's 1;29 region, reapplied at 36 rows, left the cursor
	 * below it and output walked into the status row) */
	run(&f, 40, "\x1b[1;29r", 0);
	scrf_set_rows(&f, 36);
	scrf_region(&f, &t, &b);
	assert_int_equal(b, 28);
	scrf_forget_region(&f);
	scrf_region(&f, &t, &b);
	assert_int_equal(t, 0);
	assert_int_equal(b, 34);
	/* RIS forgets it */
	run(&f, 40, "\x1b[5;30r\x1b" "c", 0);
	scrf_region(&f, &t, &b);
	assert_int_equal(t, 0);
	assert_int_equal(b, 38);
}

static void
test_rows_clamped(void **state)
{
	(void)state;
	same_any_chunking(40, "\x1b[45;3H", "\x1b[39;3H");
	same_any_chunking(40, "\x1b[40f", "\x1b[39f");
	same_any_chunking(40, "\x1b[99d", "\x1b[39d");
	same_any_chunking(40, "\x1b[39;3H\x1b[1;1H\x1b[H", "\x1b[39;3H\x1b[1;1H\x1b[H");
}

static void
test_redraw_and_saved_cursor(void **state)
{
	static const char *const erase[] = {
		"\x1b[2J", "\x1b[J", "\x1b[0J", "\x1b[?2J", ("\x1b" "c"), "\x1b#8",
		"\x1b[?1049h", "\x1b[?1049l", "\x1b[?47h", "\x1b[?1;1047h",
	};
	struct scrf f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(erase) / sizeof(erase[0]); i++) {
		run(&f, 40, erase[i], 1);
		assert_true(f.redraw);
		assert_true(scrf_can_draw(&f));
	}
	run(&f, 40, "\x1b[2K\x1b[1;1H\x1b[?25l", 0);
	assert_false(f.redraw);
	/* a saved cursor: no drawing until it is restored */
	run(&f, 40, "\x1b" "7\x1b[2J", 0);
	assert_true(f.redraw);
	assert_false(scrf_can_draw(&f));
	scrf_filter(&f, (const uint8_t *)"\x1b" "8", 2, cap, NULL);
	assert_true(scrf_can_draw(&f));
	run(&f, 40, "\x1b[s", 0);
	assert_false(scrf_can_draw(&f));
	scrf_filter(&f, (const uint8_t *)"\x1b[u", 3, cap, NULL);
	assert_true(scrf_can_draw(&f));
}

static void
test_idle(void **state)
{
	struct scrf f;

	(void)state;
	run(&f, 40, "abc", 0);
	assert_true(scrf_idle(&f));
	run(&f, 40, "\xe2\x82", 0);		/* inside a UTF-8 character */
	assert_false(scrf_idle(&f));
	scrf_filter(&f, (const uint8_t *)"\xac", 1, cap, NULL);
	assert_true(scrf_idle(&f));
	run(&f, 40, "\x1b[1;3", 0);		/* inside a CSI: held back */
	assert_false(scrf_idle(&f));
	assert_int_equal(out_len, 0);
	scrf_filter(&f, (const uint8_t *)"1r", 2, cap, NULL);
	assert_true(scrf_idle(&f));
	assert_string_equal(out, "\x1b[1;31r");
	run(&f, 40, "\x1b]0;t", 0);		/* inside an OSC string */
	assert_false(scrf_idle(&f));
	run(&f, 40, "\x1b", 0);			/* a lone ESC is held */
	assert_false(scrf_idle(&f));
	assert_int_equal(out_len, 0);
	scrf_filter(&f, (const uint8_t *)"=", 1, cap, NULL);
	assert_string_equal(out, "\x1b=");
	assert_true(scrf_idle(&f));
}

/*
 * Issue 12 item 3: the resets that give the scroll region back to the whole
 * screen (RIS, DECSTR "CSI ! p", DECCOLM "CSI ? 3 h/l") are full resets:
 * the guest's region and saved cursor are forgotten and a redraw is due,
 * whatever was set before.  Before, DECSTR passed unnoticed.
 */
static void
test_full_resets(void **state)
{
	static const char *const resets[] = {
		"\033c", "\x1b[!p", "\x1b[?3h", "\x1b[?3l", "\x1b[?1;3h",
	};
	struct scrf f;
	size_t i;
	int t, b;

	(void)state;
	for (i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
		char in[64];

		snprintf(in, sizeof(in), "\x1b[5;30r\x1b" "7%s", resets[i]);
		run(&f, 40, in, 1);
		assert_true(f.redraw);
		assert_false(f.saved);
		assert_true(scrf_can_draw(&f));
		scrf_region(&f, &t, &b);
		assert_int_equal(t, 0);
		assert_int_equal(b, 38);
		/* passed on unchanged */
		assert_non_null(strstr(out, resets[i]));
	}
	/* other sequences with "!" or "?" are not resets */
	run(&f, 40, "\x1b[5;30r\x1b[!q\x1b[?4h", 0);
	assert_false(f.redraw);
	scrf_region(&f, &t, &b);
	assert_int_equal(t, 4);
}

/* ---- the clear-phase filter (cleartext.h) ---- */

static void
mark(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx; (void)p; (void)len;
	cap(NULL, (const uint8_t *)"<M>", 3);
}

/* Filter s with a fresh clrf (cols wide, marker 3 columns) in chunks. */
static const char *
clear_run(int cols, const char *s, size_t len, size_t chunk)
{
	struct clrf c;
	size_t off = 0;

	clrf_init(&c, cols, 3);
	out_len = 0;
	out[0] = '\0';
	while (off < len) {
		size_t n = chunk ? (len - off < chunk ? len - off : chunk) : len - off;

		clrf_filter(&c, (const uint8_t *)s + off, n, cap, mark, NULL);
		off += n;
	}
	clrf_flush(&c, cap, mark, NULL);
	return out;
}

static void
clear_same(int cols, const char *in, size_t len, const char *want)
{
	size_t c;

	for (c = 0; c <= 5; c++)
		assert_string_equal(clear_run(cols, in, len, c), want);
}
#define CLEAR(cols, in, want) clear_same(cols, in, sizeof(in) - 1, want)

static void
test_clear_inert_and_marked(void **state)
{
	size_t i;

	(void)state;
	/* lines are marked; CR LF, LF and CR each end one line */
	CLEAR(80, "login: ", "<M>login: ");
	CLEAR(80, "a\r\nb\nc\rd", "<M>a\r\n<M>b\r\n<M>c\r\n<M>d");
	CLEAR(80, "\r\n\r\nx", "\r\n\r\n<M>x");
	/* the spoof: a fake status line, a fake notice, login: -- no escape
	 * sequence survives, and the fake notice does not start a row */
	CLEAR(80, "\x1b" "7\x1b[40;1H\x1b[7m sccrypt: vm1 | encrypted\x1b[m\x1b" "8"
	    "\r\n\x1b[7m[sccrypt] encrypted console to vm1\x1b[m\r\nlogin: ",
	    "<M>^[7^[[40;1H^[[7m sccrypt: vm1 | encrypted^[[m^[8\r\n"
	    "<M>^[[7m[sccrypt] encrypted console to vm1^[[m\r\n<M>login: ");
	/* C0, DEL, 8-bit C1, OSC, invalid UTF-8 */
	CLEAR(80, "\a\b\x7f\x9b" "2J\x9d" "0;t\x07", "<M>^G^H^?\\x9b2J\\x9d0;t^G");
	CLEAR(80, "\x1b]0;title\x1b\\", "<M>^[]0;title^[\\");
	CLEAR(80, "\xc3(\xe2\x82", "<M>\\xc3(\\xe2\\x82");
	CLEAR(80, "\xc0\xaf\xed\xa0\x80\xf4\x90", "<M>\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90");
	/* C1 as UTF-8 (U+009B CSI) and bidi overrides are inert too */
	CLEAR(80, "\xc2\x9b" "2J\xe2\x80\xae", "<M>\\xc2\\x9b2J\\xe2\\x80\\xae");
	/* valid UTF-8 passes */
	CLEAR(80, "caf\xc3\xa9 \xe2\x82\xac", "<M>caf\xc3\xa9 \xe2\x82\xac");
	/* a tab becomes spaces */
	CLEAR(80, "a\tb", "<M>a    b");
	/* nothing in the output is a control other than the CR LF it wrote */
	{
		char all[256];

		for (i = 0; i < 256; i++)
			all[i] = (char)i;
		clear_run(80, all, sizeof(all), 3);
		for (i = 0; i < out_len; i++) {
			unsigned char ch = (unsigned char)out[i];

			assert_false(ch == 0x1b || (ch < 0x20 && ch != '\r' &&
			    ch != '\n') || ch == 0x7f || (ch >= 0x80 && ch < 0xa0));
		}
	}
}

/* Lines are broken before the terminal would wrap them: dom0's text can
 * never reach the start of a row without the marker. */
static void
test_clear_line_breaks(void **state)
{
	char in[128];

	(void)state;
	memset(in, 'x', sizeof(in));
	/* 20 columns, marker 3: 17 characters per row */
	clear_same(20, in, 17, "<M>xxxxxxxxxxxxxxxxx");
	clear_same(20, in, 18, "<M>xxxxxxxxxxxxxxxxx\r\n<M>x");
	/* padding with spaces to push a fake notice to the next row */
	CLEAR(20, "                 [sccrypt] x",
	    "<M>                 \r\n<M>[sccrypt] x");
	/* escapes count at their shown width; non-ASCII as two columns */
	CLEAR(20, "aaaaaaaaaaaaaaaa\x1b", "<M>aaaaaaaaaaaaaaaa\r\n<M>^[");
	CLEAR(20, "aaaaaaaaaaaaaaaa\xc3\xa9", "<M>aaaaaaaaaaaaaaaa\r\n<M>\xc3\xa9");
	/* a narrower width is taken as CLRF_COLS_MIN, unknown as the default */
	clear_same(5, in, 18, "<M>xxxxxxxxxxxxxxxxx\r\n<M>x");
	clear_same(0, in, 77, "<M>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

/* ---- the replayed-history query filter (replay.h) ---- */

static void
replay_same(const char *in, size_t len, const char *want)
{
	struct rplf f;
	size_t c, off;

	for (c = 0; c <= 5; c++) {
		rplf_init(&f);
		out_len = 0;
		out[0] = '\0';
		for (off = 0; off < len; ) {
			size_t n = c ? (len - off < c ? len - off : c) : len - off;

			rplf_filter(&f, (const uint8_t *)in + off, n, cap, NULL);
			off += n;
		}
		rplf_end(&f);
		assert_int_equal(out_len, strlen(want));
		assert_memory_equal(out, want, out_len);
	}
}
#define REPLAY(in, want) replay_same(in, sizeof(in) - 1, want)

/*
 * Issue 18 item 1: replayed output keeps everything but the requests a
 * terminal answers (what vim sends at start-up among them).
 */
static void
test_replay_queries_removed(void **state)
{
	static const char *const keep[] = {
		"plain text\r\n", "\x1b[1;31mred\x1b[m\x1b[2J\x1b[10;5H\x1b[?1049h",
		"\x1b[!p\x1b[5;30r\x1b[2 q\x1b[>4;2m\x1b[8;24;80t\x1b[22;0t",
		"\x1b]0;title\x07\x1b]2;t\x1b\\\x1bP0;1;0q#0;2;0;0;0\x1b\\",
		"\x1b(B\x1b=\0337\0338\033c", "caf\xc3\xa9",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		replay_same(keep[i], strlen(keep[i]), keep[i]);
	/* vim's start-up probes, and the rest of the family */
	REPLAY("a\x1b[6nb\x1b[5nc\x1b[?6nd\x1b[ce\x1b[0cf\x1b[>cg\x1b[=ch",
	    "abcdefgh");
	REPLAY("a\x1b[?1;2$pb\x1b[2$pc\x1b[>qd\x1b[?ue\x1b[?4mf\x1b[xg\x1b[1;1;1;1;1*yh",
	    "abcdefgh");
	REPLAY("a\x1b[14tb\x1b[18tc\x1b[21td\x1b[11te\x1b[1$wf\x1b[?1;1Sg", "abcdefg");
	REPLAY("a\x1bP$qm\x1b\\b\x1bP+q544e\x1b\\c", "abc");
	REPLAY("a\x1b]11;?\x07" "b\x1b]4;1;?\x1b\\c\x1b]52;c;?\x07" "d", "abcd");
	REPLAY("a\x1b_Gi=1,a=q;\x1b\\b\x1b^pm\x1b\\c\x1bXsos\x07" "d\x05" "e\x1bZf", "abcdef");
	/* cancelled and abandoned sequences */
	REPLAY("a\x1b[6\x18" "b", "ab");
	REPLAY("a\x1b[1\x1b[6nb", "a\x1b[1b");
	/* a query cut off at the end of the replay is dropped */
	REPLAY("a\x1b[6", "a");
}

static void
test_long_sequence(void **state)
{
	char in[300], want[300];

	(void)state;
	/* longer than the buffer: passes through unchanged, even DECSTBM */
	memcpy(in, "\x1b[", 2);
	memset(in + 2, '1', 200);
	memcpy(in + 202, ";2r", 4);
	memcpy(want, in, sizeof(in));
	same_any_chunking(40, in, want);
	/* the final byte arriving when the buffer is exactly full (fuzzer) */
	for (size_t n = SCR_SEQ_MAX - 4; n <= SCR_SEQ_MAX + 2; n++) {
		memset(in, 0, sizeof(in));
		memcpy(in, "\x1b[", 2);
		memset(in + 2, '1', n - 2);
		in[n] = 'r';
		memcpy(want, in, sizeof(in));
		if (n <= SCR_SEQ_MAX - 1)	/* fits: a DECSTBM, clamped */
			snprintf(want, sizeof(want), "\x1b[%d;39r", 99999);
		same_any_chunking(40, in, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_scroll_region),
		cmocka_unit_test(test_rows_clamped),
		cmocka_unit_test(test_redraw_and_saved_cursor),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_long_sequence),
		cmocka_unit_test(test_full_resets),
		cmocka_unit_test(test_clear_inert_and_marked),
		cmocka_unit_test(test_clear_line_breaks),
		cmocka_unit_test(test_replay_queries_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
