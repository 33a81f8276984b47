/*
 * log.h — leveled logging with the calling function's name.
 *
 * Output goes to stderr and/or syslog.  Every message is sanitised: bytes
 * outside printable ASCII are written as \xNN, so nothing a peer sends can
 * drive the operator's terminal.  Never pass key material or console bytes.
 */
#ifndef SC_LOG_H
#define SC_LOG_H

#include <stdarg.h>

enum sc_log_level {
	SC_LOG_QUIET = -1,
	SC_LOG_ERROR = 0,
	SC_LOG_WARN,
	SC_LOG_INFO,
	SC_LOG_VERBOSE,
	SC_LOG_DEBUG,
};

#define SC_LOG_TO_STDERR	0x01
#define SC_LOG_TO_SYSLOG	0x02

void	sc_log_init(const char *progname, int level, int flags);
void	sc_log_set_level(int level);
int	sc_log_get_level(void);
void	sc_log(int level, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	sc_logv(int level, const char *func, const char *fmt, va_list ap);
/* For main only: log and exit(status). */
void	sc_fatal(int status, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));
/* The same with ": " and sc_err(r) appended (OpenSSH's error_r/fatal_r). */
void	sc_log_r(int level, const char *func, int r, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	sc_fatal_r(int status, const char *func, int r, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5), noreturn));

#define sc_error(...)	sc_log(SC_LOG_ERROR, __func__, __VA_ARGS__)
#define sc_warn(...)	sc_log(SC_LOG_WARN, __func__, __VA_ARGS__)
#define sc_info(...)	sc_log(SC_LOG_INFO, __func__, __VA_ARGS__)
#define sc_verbose(...)	sc_log(SC_LOG_VERBOSE, __func__, __VA_ARGS__)
#define sc_debug(...)	sc_log(SC_LOG_DEBUG, __func__, __VA_ARGS__)
#define sc_die(status, ...) sc_fatal((status), __func__, __VA_ARGS__)
#define sc_error_r(r, ...)	sc_log_r(SC_LOG_ERROR, __func__, (r), __VA_ARGS__)
#define sc_warn_r(r, ...)	sc_log_r(SC_LOG_WARN, __func__, (r), __VA_ARGS__)
#define sc_info_r(r, ...)	sc_log_r(SC_LOG_INFO, __func__, (r), __VA_ARGS__)
#define sc_debug_r(r, ...)	sc_log_r(SC_LOG_DEBUG, __func__, (r), __VA_ARGS__)
#define sc_die_r(status, r, ...) sc_fatal_r((status), __func__, (r), __VA_ARGS__)
/*
 * A command-line program's message for its user: "prog: message", without
 * the function name, at every level but SC_LOG_QUIET (errors and refusals a
 * user acts on; diagnostics use sc_error and friends).
 */
#define sc_report(...)		sc_log(SC_LOG_ERROR, NULL, __VA_ARGS__)
#define sc_report_r(r, ...)	sc_log_r(SC_LOG_ERROR, NULL, (r), __VA_ARGS__)

/*
 * Every program's informational options and usage errors (their man pages
 * say so; tests/integration/prog-options.sh checks every installed one):
 * -h/--help prints the usage on stdout and exits 0; -V/--version prints
 * sc_print_version's line on stdout and exits 0; an unknown option, a
 * missing or malformed argument exits SC_EXIT_USAGE (sysexits' EX_USAGE).
 */
#define SC_EXIT_USAGE	64
/* "PROG (sccrypt) VERSION\n" on stdout. */
void	sc_print_version(const char *prog);

/* Copy src into dst (size dstsz, always NUL-terminated), escaping
 * non-printable bytes as \xNN.  Returns dst. */
char	*sc_sanitize(char *dst, size_t dstsz, const void *src, size_t len);

#endif /* SC_LOG_H */
