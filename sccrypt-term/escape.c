/*
 * escape.c — ssh-style escape processor (see escape.h for the contract).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "escape.h"

void
esc_init(struct esc *e, int esc_char)
{
	e->esc_char = esc_char;
	e->state = ESC_ST_LINE_START;
}

static void
flush(const struct esc_sink *sink, const uint8_t *start, const uint8_t *end)
{
	if (end > start)
		sink->data(sink->ctx, start, (size_t)(end - start));
}

bool
esc_feed(struct esc *e, const uint8_t *in, size_t len,
    const struct esc_sink *sink)
{
	const uint8_t *run = in;	/* start of pending pass-through run */
	size_t i;

	if (e->esc_char == ESC_NONE) {
		if (len > 0)
			sink->data(sink->ctx, in, len);
		return true;
	}
	for (i = 0; i < len; i++) {
		uint8_t c = in[i];

		switch (e->state) {
		case ESC_ST_TEXT:
		case ESC_ST_LINE_START:
			if (e->state == ESC_ST_LINE_START && c == e->esc_char) {
				flush(sink, run, in + i);
				run = in + i + 1;
				e->state = ESC_ST_GOT_ESC;
				break;
			}
			e->state = (c == '\r' || c == '\n') ?
			    ESC_ST_LINE_START : ESC_ST_TEXT;
			break;
		case ESC_ST_GOT_ESC:
			run = in + i + 1;
			e->state = ESC_ST_TEXT;
			switch (c) {
			case '.':
				sink->cmd(sink->ctx, ESC_CMD_DISCONNECT, 0);
				e->state = ESC_ST_LINE_START;
				return false;
			case 'B':
				e->state = ESC_ST_BREAK_KEY;
				sink->cmd(sink->ctx, ESC_CMD_BREAK_PENDING, 0);
				break;
			case 'R':
				sink->cmd(sink->ctx, ESC_CMD_REKEY, 0);
				e->state = ESC_ST_LINE_START;
				break;
			case '#':
				sink->cmd(sink->ctx, ESC_CMD_INFO, 0);
				e->state = ESC_ST_LINE_START;
				break;
			case '?':
				sink->cmd(sink->ctx, ESC_CMD_HELP, 0);
				e->state = ESC_ST_LINE_START;
				break;
			case 'W':
				sink->cmd(sink->ctx, ESC_CMD_WINSIZE, 0);
				e->state = ESC_ST_LINE_START;
				break;
			case 'C':
				sink->cmd(sink->ctx, ESC_CMD_CMDLINE, 0);
				e->state = ESC_ST_LINE_START;
				break;
			case 0x1a:	/* ^Z */
				sink->cmd(sink->ctx, ESC_CMD_SUSPEND, 0);
				e->state = ESC_ST_LINE_START;
				break;
			default:
				if (c == e->esc_char) {
					/* ~~: one literal escape char. */
					run = in + i;
					break;
				}
				/* Not a command: send both bytes. */
				{
					uint8_t ec = (uint8_t)e->esc_char;

					sink->data(sink->ctx, &ec, 1);
				}
				run = in + i;
				e->state = (c == '\r' || c == '\n') ?
				    ESC_ST_LINE_START : ESC_ST_TEXT;
				break;
			}
			break;
		case ESC_ST_BREAK_KEY:
			run = in + i + 1;
			e->state = ESC_ST_LINE_START;
			if (c == 0x1b)
				sink->cmd(sink->ctx, ESC_CMD_BREAK_CANCEL, 0);
			else if (c == '\r' || c == '\n')
				sink->cmd(sink->ctx, ESC_CMD_BREAK, 0);
			else
				sink->cmd(sink->ctx, ESC_CMD_BREAK, c);
			break;
		}
	}
	flush(sink, run, in + len);
	return true;
}

int
esc_parse_char(const char *arg)
{
	if (arg == NULL)
		return -2;
	if (strcmp(arg, "none") == 0)
		return ESC_NONE;
	if (strlen(arg) == 1)
		return (unsigned char)arg[0];
	if (strlen(arg) == 2 && arg[0] == '^') {
		char c = arg[1];

		if (c >= '@' && c <= '_')
			return c & 0x1f;
		if (c >= 'a' && c <= 'z')
			return c & 0x1f;
		if (c == '?')
			return 0x7f;
	}
	return -2;
}

void
esc_help(const struct esc *e, char *out, size_t outsz)
{
	char ec[4];

	if (e->esc_char == ESC_NONE) {
		snprintf(out, outsz, "escape character disabled (-e none)\r\n");
		return;
	}
	if (e->esc_char < 0x20)
		snprintf(ec, sizeof(ec), "^%c", e->esc_char + '@');
	else if (e->esc_char == 0x7f)
		snprintf(ec, sizeof(ec), "^?");
	else
		snprintf(ec, sizeof(ec), "%c", e->esc_char);
	snprintf(out, outsz,
	    "Supported escape sequences (after a newline):\r\n"
	    " %s.   - disconnect\r\n"
	    " %sB   - send a break; the next key is the SysRq key (Enter: plain break)\r\n"
	    " %sR   - rekey the session\r\n"
	    " %s#   - session information\r\n"
	    " %sC   - command line (history N, log on|off FILE, rekey, status, acl ...)\r\n"
	    " %sW   - type 'stty rows R cols C' (this window's size) for the guest\r\n"
	    " %s^Z  - suspend sccrypt-term\r\n"
	    " %s?   - this help\r\n"
	    " %s%s  - send the escape character\r\n",
	    ec, ec, ec, ec, ec, ec, ec, ec, ec, ec);
}
