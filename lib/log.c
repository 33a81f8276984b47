/*
 * log.c — leveled, sanitised logging.
 *
 * Format on stderr:  "progname: func: message\n"  (warnings and errors are
 * not otherwise marked; debug lines say "debug:" after progname).
 * The whole formatted message, including every %s argument, is passed
 * through sc_sanitize() before it is written, so a peer-controlled string
 * can never put a control byte (ESC, CR, BEL, ...) on the operator's
 * terminal or forge a log line.  A message longer than SC_LOG_MSG_MAX
 * bytes is cut and ends in "...".
 *
 * The library never calls these with key material; callers must not either.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/err.h"
#include "log.h"

#define SC_LOG_MSG_MAX		1024			/* formatted message, before escaping */
#define SC_LOG_OUT_MAX		(SC_LOG_MSG_MAX * 4 + 1)	/* worst case: every byte \xNN */
#define SC_LOG_PROGNAME_MAX	64

static char	log_progname[SC_LOG_PROGNAME_MAX] = "sccrypt";
static int	log_level = SC_LOG_INFO;
static int	log_flags = SC_LOG_TO_STDERR;

static int
sc_isprint_ascii(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/*
 * Copy src into dst escaping every byte outside printable ASCII (0x20-0x7e)
 * as \xNN (so UTF-8 is escaped too: logs stay 7-bit).  An escape sequence is
 * never split: if dst fills up, the output stops before the item that does
 * not fit.  dst is always NUL-terminated when dstsz > 0.
 */
char *
sc_sanitize(char *dst, size_t dstsz, const void *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t i, o = 0;

	if (dst == NULL || dstsz == 0)
		return dst;
	for (i = 0; i < len && s != NULL; i++) {
		if (sc_isprint_ascii(s[i])) {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)s[i];
		} else {
			if (o + 4 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[s[i] >> 4];
			dst[o++] = hex[s[i] & 0x0f];
		}
	}
	dst[o] = '\0';
	return dst;
}

void
sc_log_init(const char *progname, int level, int flags)
{
	const char *p;

	if (progname != NULL) {
		if ((p = strrchr(progname, '/')) != NULL && p[1] != '\0')
			progname = p + 1;
		sc_sanitize(log_progname, sizeof(log_progname), progname,
		    strlen(progname));
	}
	sc_log_set_level(level);
	if ((log_flags & SC_LOG_TO_SYSLOG) && !(flags & SC_LOG_TO_SYSLOG))
		closelog();
	log_flags = flags;
	if (log_flags & SC_LOG_TO_SYSLOG)
		openlog(log_progname, LOG_PID, LOG_DAEMON);
}

void
sc_log_set_level(int level)
{
	if (level < SC_LOG_QUIET)
		level = SC_LOG_QUIET;
	if (level > SC_LOG_DEBUG)
		level = SC_LOG_DEBUG;
	log_level = level;
}

int
sc_log_get_level(void)
{
	return log_level;
}

static int
sc_log_syslog_prio(int level)
{
	switch (level) {
	case SC_LOG_ERROR:
		return LOG_ERR;
	case SC_LOG_WARN:
		return LOG_WARNING;
	case SC_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* fmt is checked at every call site through sc_log's format attribute. */
void	sc_logv(int level, const char *func, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));

/*
 * Format, sanitise and emit one message.  Errors are always emitted unless
 * the level is QUIET; errno is preserved so callers can log then inspect it.
 */
void
sc_logv(int level, const char *func, const char *fmt, va_list ap)
{
	char msg[SC_LOG_MSG_MAX];
	char out[SC_LOG_OUT_MAX];
	char fn[128];
	int saved_errno = errno;
	int n;
	size_t mlen;

	if (level > log_level || log_level == SC_LOG_QUIET)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0) {
		snprintf(msg, sizeof(msg), "(unformattable message)");
		n = (int)strlen(msg);
	}
	mlen = strlen(msg);
	if ((size_t)n >= sizeof(msg) && mlen >= 3)
		memcpy(msg + mlen - 3, "...", 3);
	sc_sanitize(out, sizeof(out), msg, mlen);
	if (func != NULL)
		sc_sanitize(fn, sizeof(fn), func, strlen(func));
	else
		fn[0] = '\0';

	if (log_flags & SC_LOG_TO_STDERR) {
		fprintf(stderr, "%s: %s%s%s%s\n", log_progname,
		    level >= SC_LOG_DEBUG ? "debug: " : "",
		    fn, fn[0] != '\0' ? ": " : "", out);
		fflush(stderr);
	}
	if (log_flags & SC_LOG_TO_SYSLOG)
		syslog(sc_log_syslog_prio(level), "%s%s%s", fn,
		    fn[0] != '\0' ? ": " : "", out);
	errno = saved_errno;
}

void
sc_log(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_logv(level, func, fmt, ap);
	va_end(ap);
}

void
sc_print_version(const char *prog)
{
	printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
}

void
sc_fatal(int status, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sc_logv(SC_LOG_ERROR, func, fmt, ap);
	va_end(ap);
	exit(status);
}

/* fmt's message, then ": " and the text of error code r. */
static void log_r(int, const char *, int, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static void
log_r(int level, const char *func, int r, const char *fmt, va_list ap)
{
	char msg[SC_LOG_MSG_MAX];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");
	sc_log(level, func, "%s: %s", msg, sc_err(r));
}

void
sc_log_r(int level, const char *func, int r, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level || log_level == SC_LOG_QUIET)
		return;
	va_start(ap, fmt);
	log_r(level, func, r, fmt, ap);
	va_end(ap);
}

void
sc_fatal_r(int status, const char *func, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_r(SC_LOG_ERROR, func, r, fmt, ap);
	va_end(ap);
	exit(status);
}
