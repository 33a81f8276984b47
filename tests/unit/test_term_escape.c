/*
 * test_term_escape.c — the ssh-style escape processor of sccrypt-term.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../sccrypt-term/escape.h"

#define SC_NELEM_T(a) (sizeof(a) / sizeof((a)[0]))

struct cap {
	uint8_t		data[1024];
	size_t		len;
	int		cmds[64];
	uint8_t		args[64];
	size_t		ncmds;
	size_t		data_calls;
};

static void
cap_data(void *ctx, const uint8_t *p, size_t len)
{
	struct cap *c = ctx;

	assert_true(len > 0);
	assert_true(c->len + len <= sizeof(c->data));
	memcpy(c->data + c->len, p, len);
	c->len += len;
	c->data_calls++;
}

static void
cap_cmd(void *ctx, enum esc_cmd cmd, uint8_t arg)
{
	struct cap *c = ctx;

	assert_true(c->ncmds < SC_NELEM_T(c->cmds));
	c->cmds[c->ncmds] = (int)cmd;
	c->args[c->ncmds] = arg;
	c->ncmds++;
}

static struct cap cap;
static struct esc_sink sink = { &cap, cap_data, cap_cmd };

static bool
feed_str(struct esc *e, const char *s)
{
	return esc_feed(e, (const uint8_t *)s, strlen(s), &sink);
}

/* Feed one byte at a time: the result must not depend on chunking. */
static bool
feed_bytewise(struct esc *e, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!esc_feed(e, (const uint8_t *)s + i, 1, &sink))
			return false;
	return true;
}

static int
setup(void **state)
{
	memset(&cap, 0, sizeof(cap));
	return 0;
}

static void
test_plain_text_passes(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_true(feed_str(&e, "ls -l a~b\r"));
	assert_int_equal(cap.len, 10);
	assert_memory_equal(cap.data, "ls -l a~b\r", 10);
	assert_int_equal(cap.ncmds, 0);
}

static void
test_disconnect_at_start_and_after_newline(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_false(feed_str(&e, "~.more"));
	assert_int_equal(cap.len, 0);
	assert_int_equal(cap.ncmds, 1);
	assert_int_equal(cap.cmds[0], ESC_CMD_DISCONNECT);

	memset(&cap, 0, sizeof(cap));
	esc_init(&e, '~');
	assert_false(feed_str(&e, "echo hi\r~.x"));
	assert_int_equal(cap.len, 8);
	assert_memory_equal(cap.data, "echo hi\r", 8);
	assert_int_equal(cap.cmds[0], ESC_CMD_DISCONNECT);

	/* \n also starts a line */
	memset(&cap, 0, sizeof(cap));
	esc_init(&e, '~');
	assert_false(feed_bytewise(&e, "a\n~."));
	assert_int_equal(cap.len, 2);
}

static void
test_tilde_mid_line_is_data(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_true(feed_str(&e, "x~.\r"));
	assert_int_equal(cap.ncmds, 0);
	assert_int_equal(cap.len, 4);
	assert_memory_equal(cap.data, "x~.\r", 4);
}

static void
test_double_tilde_is_literal(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_true(feed_bytewise(&e, "~~.\r"));
	assert_int_equal(cap.ncmds, 0);
	/* "~~" -> "~", then ".\r": the line did not start with a command */
	assert_int_equal(cap.len, 3);
	assert_memory_equal(cap.data, "~.\r", 3);
}

static void
test_unknown_escape_sends_both(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_true(feed_str(&e, "~x~y"));
	assert_int_equal(cap.ncmds, 0);
	assert_int_equal(cap.len, 4);
	assert_memory_equal(cap.data, "~x~y", 4);

	/* "~\r": both sent, and the next byte is at a line start again */
	memset(&cap, 0, sizeof(cap));
	esc_init(&e, '~');
	assert_false(feed_str(&e, "~\r~."));
	assert_int_equal(cap.len, 2);
	assert_memory_equal(cap.data, "~\r", 2);
	assert_int_equal(cap.cmds[0], ESC_CMD_DISCONNECT);
}

static void
test_commands(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_true(feed_str(&e, "~R~#~?~C\x7e\x1a~W"));
	assert_int_equal(cap.ncmds, 6);
	assert_int_equal(cap.cmds[0], ESC_CMD_REKEY);
	assert_int_equal(cap.cmds[1], ESC_CMD_INFO);
	assert_int_equal(cap.cmds[2], ESC_CMD_HELP);
	assert_int_equal(cap.cmds[3], ESC_CMD_CMDLINE);
	assert_int_equal(cap.cmds[4], ESC_CMD_SUSPEND);
	assert_int_equal(cap.cmds[5], ESC_CMD_WINSIZE);
	assert_int_equal(cap.len, 0);
}

static void
test_break_and_sysrq(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_true(feed_bytewise(&e, "~Bs~B\r~B\x1b" "a"));
	assert_int_equal(cap.ncmds, 6);
	assert_int_equal(cap.cmds[0], ESC_CMD_BREAK_PENDING);
	assert_int_equal(cap.cmds[1], ESC_CMD_BREAK);
	assert_int_equal(cap.args[1], 's');
	assert_int_equal(cap.cmds[2], ESC_CMD_BREAK_PENDING);
	assert_int_equal(cap.cmds[3], ESC_CMD_BREAK);
	assert_int_equal(cap.args[3], 0);
	assert_int_equal(cap.cmds[4], ESC_CMD_BREAK_PENDING);
	assert_int_equal(cap.cmds[5], ESC_CMD_BREAK_CANCEL);
	/* the SysRq key is consumed, never sent as data */
	assert_int_equal(cap.len, 1);
	assert_int_equal(cap.data[0], 'a');
}

static void
test_escape_split_across_chunks(void **state)
{
	struct esc e;

	esc_init(&e, '~');
	assert_true(feed_str(&e, "abc\r~"));
	assert_int_equal(cap.len, 4);
	assert_false(feed_str(&e, ".zzz"));
	assert_int_equal(cap.len, 4);
	assert_int_equal(cap.cmds[0], ESC_CMD_DISCONNECT);
}

static void
test_none_disables(void **state)
{
	struct esc e;

	esc_init(&e, ESC_NONE);
	assert_true(feed_str(&e, "~.~B\r~."));
	assert_int_equal(cap.ncmds, 0);
	assert_int_equal(cap.len, 7);
}

static void
test_other_escape_char(void **state)
{
	struct esc e;
	int c = esc_parse_char("^]");

	assert_int_equal(c, 0x1d);
	esc_init(&e, c);
	assert_true(feed_str(&e, "~."));
	assert_int_equal(cap.len, 2);
	assert_false(feed_str(&e, "\r\x1d."));
	assert_int_equal(cap.cmds[0], ESC_CMD_DISCONNECT);
	assert_int_equal(esc_parse_char("none"), ESC_NONE);
	assert_int_equal(esc_parse_char("%"), '%');
	assert_int_equal(esc_parse_char("^a"), 1);
	assert_int_equal(esc_parse_char("ab"), -2);
	assert_int_equal(esc_parse_char(""), -2);
}

static void
test_help_mentions_escape(void **state)
{
	struct esc e;
	char help[1024];

	esc_init(&e, '%');
	esc_help(&e, help, sizeof(help));
	assert_non_null(strstr(help, "%."));
	assert_non_null(strstr(help, "%B"));
	assert_non_null(strstr(help, "%C"));
}

/* Every input byte is either data, or accounted for by a command. */
static void
test_conservation_random(void **state)
{
	struct esc e;
	uint8_t in[512];
	unsigned seed = 12345, round, i;

	for (round = 0; round < 200; round++) {
		size_t off = 0;

		memset(&cap, 0, sizeof(cap));
		esc_init(&e, '~');
		for (i = 0; i < 400; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = "~\r\na.B#?C~\x1b"[(seed >> 16) % 11];
			if (in[i] == '.')
				in[i] = 'x';	/* no disconnect in this test */
		}
		while (off < 400) {
			seed = seed * 1103515245u + 12345u;
			size_t n = 1 + (seed >> 16) % 17;

			if (n > 400 - off)
				n = 400 - off;
			assert_true(esc_feed(&e, in + off, n, &sink));
			off += n;
		}
		/* data bytes never exceed input bytes */
		assert_true(cap.len <= 400);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_plain_text_passes, setup),
		cmocka_unit_test_setup(test_disconnect_at_start_and_after_newline, setup),
		cmocka_unit_test_setup(test_tilde_mid_line_is_data, setup),
		cmocka_unit_test_setup(test_double_tilde_is_literal, setup),
		cmocka_unit_test_setup(test_unknown_escape_sends_both, setup),
		cmocka_unit_test_setup(test_commands, setup),
		cmocka_unit_test_setup(test_break_and_sysrq, setup),
		cmocka_unit_test_setup(test_escape_split_across_chunks, setup),
		cmocka_unit_test_setup(test_none_disables, setup),
		cmocka_unit_test_setup(test_other_escape_char, setup),
		cmocka_unit_test_setup(test_help_mentions_escape, setup),
		cmocka_unit_test_setup(test_conservation_random, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
