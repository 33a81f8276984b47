/*
 * confsect.h — the line syntax of sccrypt.conf(5) shared by the programs
 * that read it, and its sections.
 *
 * A file is lines of at most SC_CONFSECT_LINE_MAX printable ASCII bytes
 * (blank and tab included; a trailing CR is dropped).  A line whose first
 * non-blank byte is '#' is a comment; blank lines are ignored.  A line
 * "[NAME]" (NAME 1..SC_CONFSECT_NAME_MAX of [a-z0-9_]) starts a section
 * that runs to the next section line or the end of the file; the lines
 * before the first section line are the main part (sccrypt-consoled's
 * settings).  Every other line is split into at most SC_CONFSECT_WORDS
 * words on blanks.
 *
 * sc_confsect_parse checks the syntax of EVERY line (a malformed line in
 * another program's section is still an error: one file, one syntax) and
 * hands the words of the lines of one section to a callback.  Errors give
 * the 1-based line number and a constant reason, never the line's content.
 * Pure: no I/O, no allocation.  Fuzzed by tests/fuzz/fuzz_webgate.c.
 */
#ifndef SC_CONFSECT_H
#define SC_CONFSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_CONFSECT_LINE_MAX	1024
#define SC_CONFSECT_NAME_MAX	32
#define SC_CONFSECT_WORDS	4

/*
 * Called for each non-blank, non-comment line of the wanted section, with
 * its words (NUL-terminated, valid during the call only).  Returns 0 or a
 * negative SC_ERR_* with *why set to a constant.
 */
typedef int (*sc_confsect_fn)(void *arg, char *w[], size_t n, const char **why);

/*
 * Parse text[0..len): section = NULL for the main part, else the section's
 * name.  *found (if not NULL) says whether a "[section]" line was seen.
 * 0, or the first error with *errline (1-based) and *why.
 */
int	sc_confsect_parse(const char *text, size_t len, const char *section,
	    sc_confsect_fn fn, void *arg, bool *found, unsigned *errline,
	    const char **why) __attribute__((warn_unused_result));

/*
 * Split line in place into at most max words on blanks (space, tab): w[]
 * points into line, *n counts them.  SC_ERR_FORMAT if there are more.
 */
int	sc_confsect_words(char *line, char *w[], size_t max, size_t *n)
	    __attribute__((warn_unused_result));

/* Is line (one line, no LF) a section line?  Its name in name[]. */
bool	sc_confsect_header(const char *line, char name[SC_CONFSECT_NAME_MAX + 1]);

/* A decimal number, with an optional K/M/G suffix (powers of 1024) if
 * suffix; 0 or SC_ERR_FORMAT. */
int	sc_confsect_number(const char *s, bool suffix, uint64_t *out)
	    __attribute__((warn_unused_result));

/* "yes" / "no"; 0 or SC_ERR_FORMAT. */
int	sc_confsect_bool(const char *s, bool *out) __attribute__((warn_unused_result));

/* "error", "warn", "info", "verbose" or "debug": the SC_LOG_* level in
 * *level; 0 or SC_ERR_FORMAT (SC_CONFSECT_LOG_LEVEL_WHY says what is valid). */
#define SC_CONFSECT_LOG_LEVEL_WHY \
	"log_level must be error, warn, info, verbose or debug"
int	sc_confsect_log_level(const char *s, int *level)
	    __attribute__((warn_unused_result));

#endif /* SC_CONFSECT_H */
