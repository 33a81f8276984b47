/*
 * transport.h — how sccrypt-term reaches dom0.  Every transport ends up as
 * a pair of file descriptors the loop polls (and optionally a descriptor
 * carrying the remote's stderr), so the session code never knows which one
 * it runs over:
 *
 *   pipe   a command with plain pipes (ProxyCommand-style, 8-bit clean)
 *   stdio  our own stdin/stdout (sccrypt-term --pipe without a command)
 *   wrap   any command under a pty we control (ssh -t ... xenconsole VM)
 *   ssh    the built-in libssh client (transport_ssh.c), pumped by a child
 *          process so that a crash there cannot take the terminal with it
 */
#ifndef SCCRYPT_TERM_TRANSPORT_H
#define SCCRYPT_TERM_TRANSPORT_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>
#include <sys/ioctl.h>

enum transport_kind {
	TRANSPORT_PIPE = 1,
	TRANSPORT_STDIO,
	TRANSPORT_WRAP,
	TRANSPORT_SSH,
};

struct transport {
	enum transport_kind kind;
	int		rfd, wfd;	/* read from / write to dom0 */
	int		efd;		/* remote stderr (clear), or -1 */
	int		cfd;		/* ssh: window sizes to the pump, or -1 */
	pid_t		pid;		/* child (command, or ssh pump), or -1 */
	int		status;		/* wait status once reaped */
	bool		reaped;
	char		host[256];	/* destination host name, if known */
};

/* ssh transport options (main fills these from the command line). */
struct ssh_opts {
	const char	*host;		/* destination as given (may include user@, :port) */
	const char	*user;		/* -l */
	int		port;		/* -p, 0 = default/config */
	const char	*identity;	/* -i */
	const char	*config;	/* -F, NULL = ~/.ssh/config */
	const char	*known_hosts;	/* -o UserKnownHostsFile */
	int		strict_host;	/* -o StrictHostKeyChecking: 0 ask, 1 yes, 2 no/accept-new */
	bool		batch;		/* -o BatchMode=yes: never prompt */
	int		connect_timeout; /* seconds, 0 = default */
	bool		want_pty;	/* -t */
	const char	*term;		/* TERM for the pty */
	int		verbose;
};

/* Start a command with pipes; argv NULL uses our stdin/stdout. */
int	transport_pipe_start(struct transport *t, char *const argv[])
	    __attribute__((warn_unused_result));
/* Start a command under a new pty, copying termios/winsize (either NULL).
 * tio NULL (no user terminal): the pty is raw from the start. */
int	transport_wrap_start(struct transport *t, char *const argv[],
	    const struct termios *tio, const struct winsize *ws)
	    __attribute__((warn_unused_result));
/* Connect, verify the host key, authenticate, run cmd.  Prompts on /dev/tty.
 * Returns 0, SC_ERR_UNTRUSTED/SC_ERR_PERM (host key / auth: exit 4) or
 * another SC_ERR_* (transport failure: exit 3); *msg gets a reason. */
int	transport_ssh_start(struct transport *t, const struct ssh_opts *o,
	    const char *cmd, char *msg, size_t msgsz)
	    __attribute__((warn_unused_result));

/* Wrap mode: put the pty in raw mode (the HELLO arrived). */
void	transport_set_raw(struct transport *t);
/* The user's window size changed: resize the wrap pty, or the remote pty of
 * an ssh session that asked for one (-t). */
void	transport_winch(struct transport *t, const struct winsize *ws);
/* Reap the child without blocking; true if it has exited. */
bool	transport_reap(struct transport *t);
/* Close descriptors and end the child (SIGTERM, then SIGKILL after a grace). */
void	transport_close(struct transport *t);

/* Split "[user@]host[:port]" (port also as [v6]:port).  Out buffers may
 * be NULL-sized... all three are required; *port 0 if absent. */
int	transport_parse_dest(const char *dest, char *user, size_t usz,
	    char *host, size_t hsz, int *port) __attribute__((warn_unused_result));

#endif /* SCCRYPT_TERM_TRANSPORT_H */
