/*
 * hints.c — help for the user at the keyboard (app.h): the read-only
 * viewer's typing notice and ~W's `stty rows R cols C`.
 *
 * A viewer's keystrokes are dropped (the hv ignores them anyway); saying so
 * once at the start is not enough when the user types a minute later, and
 * saying it per keystroke would bury the console.  So: one notice each time
 * typing starts again after APP_VIEWER_HINT_PAUSE_MS without any.
 *
 * A serial console has no window-size channel: the guest's tty stays at
 * what its getty set (usually 24x80).  ~W types the command that fixes it
 * for the user, with this terminal's size, as if the user had typed it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "app.h"
#include "io.h"
#include "term.h"

void
app_viewer_typed(struct app *a)
{
	unsigned long long now;

	if (a->sess.state != SESS_OPEN || !(a->sess.hs2_flags & SC_HS2_F_VIEWER))
		return;
	now = sc_now_ms();
	if (a->viewer_typed_ms == 0 ||
	    now - a->viewer_typed_ms >= APP_VIEWER_HINT_PAUSE_MS)
		tty_notice("read-only viewer: what you type is not sent "
		    "(attach with --takeover to type)");
	a->viewer_typed_ms = now;
}

void
app_type_winsize(struct app *a)
{
	struct winsize ws;
	char cmd[64], line[128];
	int n;

	if (a->sess.state != SESS_OPEN) {
		tty_notice("no encrypted session: window size not sent");
		return;
	}
	if (a->sess.hs2_flags & SC_HS2_F_VIEWER) {
		tty_notice("read-only viewer: window size not sent");
		return;
	}
	if (tty_winsize(&ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) {
		tty_notice("the window size is unknown (not a terminal): "
		    "nothing sent");
		return;
	}
	/* --status keeps the bottom row for itself */
	if (a->status_line && ws.ws_row > 1)
		ws.ws_row--;
	n = snprintf(cmd, sizeof(cmd), "stty rows %u cols %u\r",
	    (unsigned)ws.ws_row, (unsigned)ws.ws_col);
	snprintf(line, sizeof(line), "typing for the guest: %.*s", n - 1, cmd);
	tty_notice(line);
	if (sess_user_input(&a->sess, (const uint8_t *)cmd, (size_t)n) < 0)
		tty_notice("the session failed: window size not sent");
}
