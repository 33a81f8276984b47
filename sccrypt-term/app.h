/*
 * app.h — sccrypt-term's program state, shared by main.c (options and
 * verbs), loop.c (the interactive session's poll loop), sinks.c (what the
 * session and the escape processor ask of it), info.c (~I), hints.c and
 * cmdline.c (~C).  Calls go one way: loop.c -> sinks.c -> cmdline.c,
 * hints.c, info.c; none of those calls back into loop.c.
 */
#ifndef SCCRYPT_TERM_APP_H
#define SCCRYPT_TERM_APP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/wire.h"
#include "vmfile.h"
#include "escape.h"
#include "outq.h"
#include "log.h"
#include "policy.h"
#include "session.h"
#include "transport.h"

/* Exit codes (PROTOCOL.md §10, sccrypt-term(1)). */
#define EXIT_OK_		0
#define EXIT_LOCAL		1
#define EXIT_USAGE		SC_EXIT_USAGE	/* 64, as every program (log.h) */
#define EXIT_TRANSPORT		3
#define EXIT_VERIFY		4
#define EXIT_PROTOCOL		5
#define EXIT_RELAY		6

/* After a non-terminal stdin ends: quiet time before closing (--linger). */
#define APP_LINGER_MS		1000
#define APP_LINGER_MAX_MS	86400000UL
/* After our CLOSE: how long to wait for the hv's (the close handshake). */
#define APP_CLOSE_WAIT_MS	15000
/* Remote stderr after the HELLO: at most this many bytes per notice. */
#define APP_STDERR_LINE_MAX	200
/* A read-only viewer's typing: one notice per burst after this pause. */
#define APP_VIEWER_HINT_PAUSE_MS	2000

enum app_mode {
	MODE_SSH = 0,		/* built-in libssh transport */
	MODE_PIPE,		/* --pipe [-- CMD...] */
	MODE_WRAP,		/* --wrap VM -- CMD... */
};

/* What to do once the session is open, without a user at the keyboard. */
enum app_batch {
	BATCH_NONE = 0,
	BATCH_ACL,		/* send one owner command, print the result */
};

struct app {
	/* options */
	enum app_mode	mode;
	const char	*vmname;
	const char	*dest;		/* [user@]host[:port] */
	char		**cmd;		/* transport command (pipe/wrap) */
	const char	*remote_cmd;	/* -c */
	struct ssh_opts	ssh;
	int		esc_char;
	bool		quiet;
	int		verbose;
	bool		status_line;
	uint32_t	history;
	bool		viewer, takeover;
	const char	*host;		/* --host */
	const char	*trust_fp;
	bool		strict_hv;
	const char	*user_key_path;	/* --key */
	unsigned long	linger_ms;	/* --linger */
	char		keystore[PATH_MAX];

	/* batch actions */
	enum app_batch	batch;
	uint8_t		batch_cmd;
	uint8_t		batch_key[SC_KEY_LEN];
	uint8_t		batch_flags;
	int		batch_status;
	bool		batch_done;

	/* runtime */
	struct transport tr;
	struct sess	sess;
	struct esc	esc;
	struct outq	outq;		/* bytes for the transport */
	uint8_t		errline[APP_STDERR_LINE_MAX];	/* remote stderr */
	size_t		errline_len;	/* a partial line, waiting */
	struct policy	pol;
	uint8_t		*user_sk;	/* sc_secure_alloc'd */
	struct sc_vmfile *vm;		/* sc_secure_alloc'd */
	bool		user_input;	/* there is a user side to read */
	bool		read_user;	/* the user's side is being read */
	bool		user_eof;	/* a non-terminal stdin ended */
	unsigned long long last_output_ms;
	unsigned long long close_deadline_ms;	/* our CLOSE sent: wait until */
	unsigned long long clear_out_ms;	/* last clear text shown */
	bool		interactive;
	bool		quitting;
	bool		interrupted;	/* Ctrl-C before the session opened */
	int		log_fd;
	time_t		opened_at;
	uint64_t	typed, shown;
	unsigned long long viewer_typed_ms;	/* last dropped keystroke */
};

/* loop.c */
int	app_run_session(struct app *a, enum sess_mode mode,
	    const struct sess_config *extra);
int	app_exit_code(enum sess_exit x);

/* sinks.c */
void	app_sess_sink(struct app *a, struct sess_sink *sink);
void	app_esc_sink(struct app *a, struct esc_sink *sink);
/* Clear output settles SESS_CLEAR_SETTLE_MS after the last of it: the poll
 * timeout until then (-1: nothing in flight). */
int	app_settle_clear(struct app *a);
/* Start reading the user's side (a terminal goes raw). */
void	app_start_reading_user(struct app *a);
/* Our CLOSE, then wait APP_CLOSE_WAIT_MS for the hv's. */
void	app_close(struct app *a);
void	app_update_status(struct app *a);

/* info.c */
void	app_info(struct app *a);
const char *app_host_for_policy(const struct app *a);

/* hints.c */
/* The user typed in a read-only session: a notice after a pause. */
void	app_viewer_typed(struct app *a);
/* ~W: type `stty rows R cols C` (this terminal's size) for the guest. */
void	app_type_winsize(struct app *a);

/* cmdline.c */
void	app_cmdline(struct app *a);
int	app_parse_pubkey_arg(const char *arg, uint8_t pk[SC_KEY_LEN])
	    __attribute__((warn_unused_result));

#endif /* SCCRYPT_TERM_APP_H */
