/*
 * cmdline.c — the ~C command line (readline editing and history) and its
 * verb table.  Runs in cooked mode with the session paused; no passphrase
 * is ever read here.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "app.h"
#include "core/err.h"
#include "log.h"
#include "term.h"
#include "io.h"
#include "pubkey.h"

#define ARGS_MAX	8

struct cmd {
	const char	*name;
	const char	*usage;
	int		min_args, max_args;
	void		(*fn)(struct app *a, int argc, char **argv);
};

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(rl_outstream ? rl_outstream : stdout, "[sccrypt] %s\n", line);
	fflush(rl_outstream ? rl_outstream : stdout);
}

static void cmd_help(struct app *a, int argc, char **argv);

static void
cmd_history(struct app *a, int argc, char **argv)
{
	unsigned long n;

	if (sc_parse_ulong(argv[1], 10, 1, 0xffffffffUL, &n) != 0) {
		say("history: N must be a positive number of bytes");
		return;
	}
	/*
	 * The PING makes the hv queue a PONG, and with it raise the output
	 * event that gets dom0 to collect the replay at once (hvsim does not
	 * raise one for a replay alone; it would wait for guest output).
	 */
	if (sess_history_req(&a->sess, (uint32_t)n) < 0 || sess_ping(&a->sess) < 0)
		say("history: no encrypted session");
	else
		say("asked the hypervisor to replay up to %lu bytes", n);
}

static void
cmd_log(struct app *a, int argc, char **argv)
{
	if (strcmp(argv[1], "off") == 0 && argc == 2) {
		if (a->log_fd >= 0)
			close(a->log_fd);
		a->log_fd = -1;
		say("console log off");
		return;
	}
	if (strcmp(argv[1], "on") != 0 || argc != 3) {
		say("usage: log on FILE | log off");
		return;
	}
	if (a->log_fd >= 0)
		close(a->log_fd);
	a->log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (a->log_fd < 0)
		say("log: %s: %s", argv[2], strerror(errno));
	else
		say("logging decrypted console output to %s (mode 0600)", argv[2]);
}

static void
cmd_rekey(struct app *a, int argc, char **argv)
{
	say(sess_rekey(&a->sess) < 0 ? "rekey: no encrypted session" :
	    "rekeyed (send direction)");
}

static void
cmd_status(struct app *a, int argc, char **argv)
{
	app_info(a);
}

static void
cmd_break(struct app *a, int argc, char **argv)
{
	uint8_t key = argc > 1 ? (uint8_t)argv[1][0] : 0;
	int r;

	if (argc > 1 && (strlen(argv[1]) != 1 || !sess_break_key_ok(key))) {
		say("break: the SysRq key is one printable character");
		return;
	}
	r = sess_send_break(&a->sess, key);
	say(r == SC_ERR_PERM ? "break: read-only viewer" :
	    r < 0 ? "break: no encrypted session" : "break sent");
}

int
app_parse_pubkey_arg(const char *arg, uint8_t pk[SC_KEY_LEN])
{
	if (strncmp(arg, SC_PUBKEY_PREFIX " ", strlen(SC_PUBKEY_PREFIX) + 1) == 0)
		return sc_pubkey_parse(SC_PUBKEY_PREFIX, arg, pk);
	if (access(arg, R_OK) == 0)
		return sc_pubkey_read_file(SC_PUBKEY_PREFIX, arg, pk);
	/* bare base64 */
	{
		char line[256];

		snprintf(line, sizeof(line), "%s %s", SC_PUBKEY_PREFIX, arg);
		return sc_pubkey_parse(SC_PUBKEY_PREFIX, line, pk);
	}
}

static void
cmd_acl(struct app *a, int argc, char **argv)
{
	uint8_t key[SC_KEY_LEN];
	uint8_t cmd, flags = 0;

	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		if (sess_owner_cmd(&a->sess, SC_OWNER_ACL_LIST, NULL, 0) < 0)
			say("acl: no encrypted session");
		return;
	}
	if (argc < 3) {
		say("usage: acl add KEY [owner] | acl del KEY | acl list");
		return;
	}
	if (strcmp(argv[1], "add") == 0)
		cmd = SC_OWNER_ACL_ADD;
	else if (strcmp(argv[1], "del") == 0)
		cmd = SC_OWNER_ACL_DEL;
	else {
		say("usage: acl add KEY [owner] | acl del KEY | acl list");
		return;
	}
	if (argc == 4 && strcmp(argv[3], "owner") == 0 && cmd == SC_OWNER_ACL_ADD)
		flags = SC_ACL_F_OWNER;
	else if (argc == 4) {
		say("usage: acl add KEY [owner] | acl del KEY | acl list");
		return;
	}
	if (app_parse_pubkey_arg(argv[2], key) < 0) {
		say("acl: '%s' is not a public key (sccrypt-x25519 BASE64, or a .pub file)",
		    argv[2]);
		return;
	}
	if (!(a->sess.hs2_flags & SC_HS2_F_OWNER))
		say("note: the hypervisor did not mark this session as an owner's");
	if (sess_owner_cmd(&a->sess, cmd, key, flags) < 0)
		say("acl: no encrypted session");
	else
		say("sent; the hypervisor's answer will be shown");
}

static const struct cmd cmds[] = {
	{ "help",	"help",				0, 0, cmd_help },
	{ "history",	"history N  (replay the last N bytes of console output)", 1, 1, cmd_history },
	{ "log",	"log on FILE | log off  (log decrypted output)", 1, 2, cmd_log },
	{ "rekey",	"rekey",			0, 0, cmd_rekey },
	{ "status",	"status  (same as ~#)",		0, 0, cmd_status },
	{ "break",	"break [KEY]  (plain break or SysRq KEY)", 0, 1, cmd_break },
	{ "acl",	"acl add KEY [owner] | acl del KEY | acl list  (owners)", 1, 3, cmd_acl },
};

static void
cmd_help(struct app *a, int argc, char **argv)
{
	size_t i;

	say("Commands:");
	for (i = 0; i < SC_NELEM(cmds); i++)
		say("  %s", cmds[i].usage);
}

/* Split on blanks; returns argc, or -1 if too many words. */
static int
split_words(char *line, char **argv)
{
	int argc = 0;
	char *save = NULL, *w;

	for (w = strtok_r(line, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (argc == ARGS_MAX)
			return -1;
		argv[argc++] = w;
	}
	return argc;
}

/* The readline callback interface: the line read, and how it ended. */
static struct {
	bool	done;
	bool	cancelled;
	char	*line;
} rd;

static void
on_line(char *line)
{
	rd.line = line;
	rd.done = true;
	rl_callback_handler_remove();
}

/* Ctrl-C (a key here, see prep_term): cancel the line, as ssh(1) does. */
static int
cancel_key(int count, int key)
{
	rd.cancelled = true;
	rl_done = 1;
	return 0;
}

/*
 * readline's terminal mode without ISIG: Ctrl-C and Ctrl-\ must not raise
 * signals here, which would also reach a transport command (ssh, in pipe
 * mode) in our process group and end the session.  rl_deprep_terminal
 * restores the mode readline saved, ISIG included.
 */
static void
prep_term(int meta)
{
	struct termios t;
	int fd = fileno(rl_instream);

	rl_prep_terminal(meta);
	if (tcgetattr(fd, &t) == 0) {
		t.c_lflag &= ~(tcflag_t)ISIG;
		(void)tcsetattr(fd, TCSADRAIN, &t);
	}
}

/*
 * Read one line with readline, in a poll loop that also watches the signal
 * pipe (a SIGINT from kill(1) cancels the line like the key).  Other
 * signals are left for the session loop.  Returns the line (malloc'd), or
 * NULL for EOF or a cancelled line (then *cancelled is set).
 */
static char *
read_line(FILE *in, bool *cancelled)
{
	unsigned later = 0;

	rd.done = rd.cancelled = false;
	rd.line = NULL;
	rl_callback_handler_install("sccrypt> ", on_line);
	while (!rd.done) {
		struct pollfd p[2] = {
			{ .fd = fileno(in), .events = POLLIN },
			{ .fd = tty_sigfd(), .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			unsigned sig = tty_take_signals();

			if (sig & TTY_SIG_WINCH)
				rl_resize_terminal();
			later |= sig & ~(unsigned)TTY_SIG_INT;
			if (sig & TTY_SIG_INT) {
				tty_cancel_interrupt();
				rd.cancelled = true;
				break;
			}
			if (sig & TTY_SIG_TERM)
				break;		/* the loop ends the session */
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			rl_callback_read_char();
	}
	if (!rd.done) {
		rl_free_line_state();
		rl_callback_sigcleanup();
		rl_callback_handler_remove();
	}
	tty_requeue_signals(later);
	*cancelled = rd.cancelled;
	if (rd.cancelled) {
		free(rd.line);
		rd.line = NULL;
	}
	return rd.line;
}

void
app_cmdline(struct app *a)
{
	static bool inited;
	static FILE *in, *out;
	bool was_raw = tty_is_raw(), cancelled;
	char *line, *argv[ARGS_MAX];
	int argc;
	size_t i;

	if (!inited) {
		int fi = dup(tty_in()), fo = dup(tty_out());

		in = fi >= 0 ? fdopen(fi, "r") : NULL;
		out = fo >= 0 ? fdopen(fo, "w") : NULL;
		if (in == NULL || out == NULL) {
			tty_notice("no terminal for the command line");
			return;
		}
		rl_instream = in;
		rl_outstream = out;
		rl_catch_signals = 0;
		rl_catch_sigwinch = 0;
		rl_prep_term_function = prep_term;
		rl_bind_key(0x03, cancel_key);
		using_history();
		stifle_history(100);
		inited = true;
	}
	tty_restore();
	tty_write("\r\n", 2);
	line = read_line(in, &cancelled);
	if (cancelled)
		tty_notice("command line cancelled");
	if (line != NULL && line[0] != '\0') {
		add_history(line);
		argc = split_words(line, argv);
		if (argc < 0)
			say("too many words");
		else if (argc > 0) {
			for (i = 0; i < SC_NELEM(cmds); i++) {
				if (strcmp(argv[0], cmds[i].name) != 0)
					continue;
				if (argc - 1 < cmds[i].min_args ||
				    argc - 1 > cmds[i].max_args)
					say("usage: %s", cmds[i].usage);
				else
					cmds[i].fn(a, argc, argv);
				break;
			}
			if (i == SC_NELEM(cmds))
				say("unknown command '%s' (try 'help')", argv[0]);
		}
	}
	free(line);
	if (was_raw)
		(void)!tty_raw();
	tty_status_redraw();
}
