/*
 * readpass.c — read a passphrase from the terminal with echo off.
 *
 * Modelled on OpenBSD's readpassphrase(3) as used by OpenSSH:
 *   - the prompt goes to, and the answer comes from, /dev/tty (never stdin,
 *     which may be a pipe carrying data, and never readline, which would
 *     keep history);
 *   - ECHO is switched off for the read and restored on every path: normal
 *     return, error, and the signals SIGALRM, SIGHUP, SIGINT, SIGPIPE,
 *     SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN and SIGTTOU.  A caught signal is
 *     re-raised after the terminal is restored and our handlers are removed,
 *     so its normal effect happens; after a stop signal (SIGTSTP, SIGTTIN,
 *     SIGTTOU) the prompt starts over when the process continues, otherwise
 *     (if the process survives) sc_readpass fails with SC_ERR_CANCELLED;
 *   - the answer is kept only in sc_secure_alloc memory.
 *
 * $SCCRYPT_PASSPHRASE_FD=N: read the passphrase as one line from descriptor
 * N instead, without prompting (for the test suite and for automation that
 * keeps passphrases in a pipe, never on a command line or in the
 * environment).  Each call reads exactly one line; SC_RP_CONFIRM reads no
 * second line.  The descriptor is not closed.
 *
 * Errors (*err): SC_ERR_NOTFOUND no terminal (and no SC_RP_ALLOW_STDIN),
 * SC_ERR_TOOLONG a line of SC_PASS_MAX bytes or more, SC_ERR_EOF end of
 * input before any byte, SC_ERR_MISMATCH confirmation differs,
 * SC_ERR_CANCELLED interrupted by a signal, SC_ERR_ALLOC, SC_ERR_SYSTEM,
 * SC_ERR_INVAL bad $SCCRYPT_PASSPHRASE_FD.
 */
#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/compat.h"
#include "core/err.h"
#include "io.h"
#include "readpass.h"
#include "secmem.h"

#define RP_CONFIRM_PROMPT	"Enter same passphrase again: "

static volatile sig_atomic_t rp_signo[NSIG];

static const int rp_signals[] = {
	SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN,
	SIGTTOU,
};

static void
rp_handler(int s)
{
	if (s > 0 && s < NSIG)
		rp_signo[s] = 1;
}

/*
 * Read one line from fd into buf (SC_PASS_MAX bytes), byte by byte so that
 * nothing after the newline is consumed.  A final "\r" is dropped.  If
 * stop_on_signal, a caught signal ends the read (SC_ERR_CANCELLED).
 */
static int
rp_read_line(int fd, char *buf, int stop_on_signal)
{
	size_t n = 0;
	int toolong = 0, any = 0, err = 0;
	ssize_t r;
	char c = 0;
	int i;

	for (;;) {
		if (stop_on_signal)
			for (i = 1; i < NSIG; i++)
				if (rp_signo[i]) {
					err = SC_ERR_CANCELLED;
					goto out;
				}
		r = read(fd, &c, 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;	/* signals are checked at the top */
			err = SC_ERR_SYSTEM;
			goto out;
		}
		if (r == 0) {
			if (!any)
				err = SC_ERR_EOF;
			break;
		}
		any = 1;
		if (c == '\n')
			break;
		if (n + 1 >= SC_PASS_MAX) {
			toolong = 1;	/* keep consuming the rest of the line */
			continue;
		}
		buf[n++] = c;
	}
	if (err == 0 && toolong)
		err = SC_ERR_TOOLONG;
	if (err == 0) {
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		buf[n] = '\0';
	}
 out:
	/* One exit: the last byte read is part of the passphrase. */
	sc_memzero(&c, sizeof(c));
	if (err != 0)
		sc_memzero(buf, SC_PASS_MAX);
	return err;
}

/* $SCCRYPT_PASSPHRASE_FD: 1 and *fd set if present and valid. */
static int
rp_env_fd(int *fd)
{
	const char *s = getenv("SCCRYPT_PASSPHRASE_FD");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX ||
	    fcntl((int)v, F_GETFD) == -1)
		return SC_ERR_INVAL;
	*fd = (int)v;
	return 1;
}

/*
 * One prompt on the terminal.  Returns 0, a negative error, or 1 when a
 * stop signal interrupted the read and the prompt must be repeated.
 */
static int
rp_tty_once(int ttyfd, const char *prompt, char *buf)
{
	struct sigaction sa, saved[SC_NELEM(rp_signals)];
	struct termios oterm, term;
	int have_term, r, i, restart = 0, e;
	size_t k;

	for (i = 0; i < NSIG; i++)
		rp_signo[i] = 0;
	have_term = tcgetattr(ttyfd, &oterm) == 0;

	/* Catch the signals first, so none can leave echo off. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: read() must return EINTR */
	sa.sa_handler = rp_handler;
	for (k = 0; k < SC_NELEM(rp_signals); k++)
		(void)sigaction(rp_signals[k], &sa, &saved[k]);

	if (have_term) {
		term = oterm;
		term.c_lflag &= ~(ECHO | ECHONL);
		while (tcsetattr(ttyfd, TCSAFLUSH, &term) == -1 && errno == EINTR &&
		    !rp_signo[SIGTTOU])
			continue;
	}
	r = 0;
	if (prompt != NULL && *prompt != '\0')
		r = sc_write_all(ttyfd, prompt, strlen(prompt));
	if (r == 0)
		r = rp_read_line(ttyfd, buf, 1);
	e = errno;

	/* Restore the terminal, then print the newline echo swallowed. */
	if (have_term) {
		if (memcmp(&term, &oterm, sizeof(term)) != 0) {
			while (tcsetattr(ttyfd, TCSAFLUSH, &oterm) == -1 &&
			    errno == EINTR && !rp_signo[SIGTTOU])
				continue;
		}
		if (sc_write_all(ttyfd, "\n", 1) < 0) {
			/* cosmetic only */
		}
	}
	for (k = 0; k < SC_NELEM(rp_signals); k++)
		(void)sigaction(rp_signals[k], &saved[k], NULL);

	/* Deliver what we caught, now that the terminal is sane again. */
	for (i = 1; i < NSIG; i++) {
		if (!rp_signo[i])
			continue;
		(void)kill(getpid(), i);
		if (i == SIGTSTP || i == SIGTTIN || i == SIGTTOU)
			restart = 1;
	}
	if (r == SC_ERR_CANCELLED) {
		sc_memzero(buf, SC_PASS_MAX);
		if (restart) {
			for (i = 1; i < NSIG; i++)
				if (rp_signo[i] && i != SIGTSTP && i != SIGTTIN &&
				    i != SIGTTOU)
					restart = 0;
			if (restart)
				return 1;
		}
	}
	errno = e;
	return r;
}

/* Prompt and read one answer from the terminal (or stdin fallback). */
static int
rp_read_one(const char *prompt, int flags, char *buf)
{
	int ttyfd, r;

	ttyfd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ttyfd == -1) {
		if (!(flags & SC_RP_ALLOW_STDIN))
			return SC_ERR_NOTFOUND;
		if (prompt != NULL && *prompt != '\0')
			if (sc_write_all(STDERR_FILENO, prompt, strlen(prompt)) < 0) {
				/* reading still works without a prompt */
			}
		return rp_read_line(STDIN_FILENO, buf, 0);
	}
	do {
		r = rp_tty_once(ttyfd, prompt, buf);
	} while (r == 1);
	close(ttyfd);
	return r;
}

char *
sc_readpass(const char *prompt, int flags, int *err)
{
	char *buf = NULL, *again = NULL;
	int r, fd = -1, dummy;

	if (err == NULL)
		err = &dummy;
	*err = 0;
	if ((buf = sc_secure_alloc(SC_PASS_MAX)) == NULL) {
		r = SC_ERR_ALLOC;
		goto fail;
	}
	memset(buf, 0, SC_PASS_MAX);
	if ((r = rp_env_fd(&fd)) < 0)
		goto fail;
	if (r == 1) {
		if ((r = rp_read_line(fd, buf, 0)) < 0)
			goto fail;
		return buf;
	}
	if ((r = rp_read_one(prompt, flags, buf)) < 0)
		goto fail;
	if (flags & SC_RP_CONFIRM) {
		if ((again = sc_secure_alloc(SC_PASS_MAX)) == NULL) {
			r = SC_ERR_ALLOC;
			goto fail;
		}
		memset(again, 0, SC_PASS_MAX);
		if ((r = rp_read_one(RP_CONFIRM_PROMPT, flags, again)) < 0)
			goto fail;
		/* Both buffers are NUL-padded to SC_PASS_MAX: compare all of it. */
		if (sc_memeq_ct(buf, again, SC_PASS_MAX) != 0) {
			r = SC_ERR_MISMATCH;
			goto fail;
		}
		sc_secure_free(again);
	}
	return buf;
 fail:
	sc_secure_free(again);
	sc_secure_free(buf);
	*err = r;
	return NULL;
}
