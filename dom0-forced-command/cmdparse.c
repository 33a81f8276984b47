/*
 * cmdparse.c — allowlist parser for sccrypt-console's command (see cmdparse.h).
 *
 * Contract: the parser only classifies; it never copies a byte of the input
 * into an error message and never hands anything to a shell.  Every word is
 * checked against the word charset before any comparison, so the grammar
 * below works on known-clean tokens.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "core/err.h"
#include "core/frame.h"
#include "cmdparse.h"
#include "shim.h"
#include "ctl.h"

#define USAGE_HINT \
	" (allowed: sccrypt-console [--armor] [--protect|--info] VM, " \
	"sccrypt-console --version|--help, xenconsole VM, xl console VM)"

struct words {
	char	w[SC_SHIM_WORDS_MAX][SC_SHIM_WORD_MAX + 1];
	size_t	n;
};

static bool
word_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Add one word of len bytes; checks charset and limits. */
static int
words_add(struct words *ws, const char *p, size_t len, const char **why)
{
	size_t i;

	if (ws->n >= SC_SHIM_WORDS_MAX) {
		*why = "too many words in command" USAGE_HINT;
		return SC_ERR_TOOLONG;
	}
	if (len > SC_SHIM_WORD_MAX) {
		*why = "word too long in command";
		return SC_ERR_TOOLONG;
	}
	for (i = 0; i < len; i++) {
		if (!word_char_ok((unsigned char)p[i])) {
			*why = "invalid character in command "
			    "(only letters, digits, '.', '_' and '-' are allowed)";
			return SC_ERR_FORMAT;
		}
	}
	memcpy(ws->w[ws->n], p, len);
	ws->w[ws->n][len] = '\0';
	ws->n++;
	return 0;
}

static int
vm_word(const char *w, struct sc_shim_cmd *cmd, const char **why)
{
	size_t len = strlen(w);

	if (w[0] == '-') {
		*why = "unknown option" USAGE_HINT;
		return SC_ERR_INVAL;
	}
	if (!sc_vmname_valid(w, len)) {
		*why = "invalid VM name (1-64 of [A-Za-z0-9._-], "
		    "not starting with '.' or '-')";
		return SC_ERR_FORMAT;
	}
	memcpy(cmd->vm, w, len + 1);
	return 0;
}

/* sccrypt-console [--armor] [--protect|--info] VM  |  --version | --help */
static int
parse_sccrypt_console(struct words *ws, size_t i, struct sc_shim_cmd *cmd,
    const char **why)
{
	bool armor = false;

	cmd->verb = SC_SHIM_CONSOLE;
	/* The informational flags, alone: they connect to nothing. */
	if (i < ws->n && (strcmp(ws->w[i], "--version") == 0 ||
	    strcmp(ws->w[i], "-V") == 0 || strcmp(ws->w[i], "--help") == 0 ||
	    strcmp(ws->w[i], "-h") == 0)) {
		if (i + 1 != ws->n) {
			*why = "--version and --help take no arguments";
			return SC_ERR_INVAL;
		}
		cmd->verb = ws->w[i][1] == 'V' || ws->w[i][2] == 'v' ?
		    SC_SHIM_VERSION : SC_SHIM_HELP;
		return 0;
	}
	for (; i < ws->n && ws->w[i][0] == '-'; i++) {
		if (strcmp(ws->w[i], "--armor") == 0 && !armor) {
			armor = true;
		} else if (strcmp(ws->w[i], "--protect") == 0 &&
		    cmd->verb == SC_SHIM_CONSOLE) {
			cmd->verb = SC_SHIM_PROTECT;
		} else if (strcmp(ws->w[i], "--info") == 0 &&
		    cmd->verb == SC_SHIM_CONSOLE) {
			cmd->verb = SC_SHIM_INFO;
		} else {
			*why = "unknown or repeated option" USAGE_HINT;
			return SC_ERR_INVAL;
		}
	}
	if (armor)
		cmd->encoding = SC_ENCODING_ARMOR;
	if (i + 1 != ws->n) {
		*why = i == ws->n ? "missing VM name" USAGE_HINT :
		    "too many arguments" USAGE_HINT;
		return SC_ERR_INVAL;
	}
	return vm_word(ws->w[i], cmd, why);
}

/* xenconsole VM  |  xl console VM: the remainder must be exactly one VM. */
static int
parse_compat(struct words *ws, size_t i, struct sc_shim_cmd *cmd, const char **why)
{
	cmd->verb = SC_SHIM_AUTO;
	if (i + 1 != ws->n) {
		*why = i == ws->n ? "missing VM name" USAGE_HINT :
		    "xenconsole options are not supported" USAGE_HINT;
		return SC_ERR_INVAL;
	}
	return vm_word(ws->w[i], cmd, why);
}

/*
 * Grammar over clean words.  from_string: the words came from
 * SSH_ORIGINAL_COMMAND (program name included); else progname stands in for
 * the program word.
 */
static int
parse_words(struct words *ws, bool from_string, const char *progname,
    struct sc_shim_cmd *cmd, const char **why)
{
	size_t i = 0;
	const char *prog;

	memset(cmd, 0, sizeof(*cmd));
	cmd->encoding = SC_ENCODING_BINARY;

	if (!from_string) {
		prog = progname;
	} else {
		if (ws->n == 0) {
			*why = "empty command" USAGE_HINT;
			return SC_ERR_INVAL;
		}
		if (strcmp(ws->w[0], "sudo") == 0)
			i++;
		if (i == ws->n) {
			*why = "missing command after sudo" USAGE_HINT;
			return SC_ERR_INVAL;
		}
		prog = ws->w[i];
		if (strcmp(prog, "sccrypt-console") == 0 ||
		    strcmp(prog, "xenconsole") == 0) {
			i++;
		} else if (strcmp(prog, "xl") == 0) {
			if (i + 1 >= ws->n || strcmp(ws->w[i + 1], "console") != 0) {
				*why = "only 'xl console VM' is allowed" USAGE_HINT;
				return SC_ERR_INVAL;
			}
			prog = "xenconsole";
			i += 2;
		} else {
			*why = "command not allowed" USAGE_HINT;
			return SC_ERR_INVAL;
		}
	}
	if (strcmp(prog, "xenconsole") == 0)
		return parse_compat(ws, i, cmd, why);
	if (!from_string && i == ws->n) {
		*why = "empty command" USAGE_HINT;
		return SC_ERR_INVAL;
	}
	return parse_sccrypt_console(ws, i, cmd, why);
}

int
sc_shim_parse_string(const char *s, size_t len, struct sc_shim_cmd *cmd,
    const char **why)
{
	struct words ws;
	size_t i, start;
	int r;

	memset(&ws, 0, sizeof(ws));
	memset(cmd, 0, sizeof(*cmd));
	if (s == NULL || len > SC_SHIM_CMD_MAX) {
		*why = "command too long";
		return SC_ERR_TOOLONG;
	}
	if (memchr(s, '\0', len) != NULL) {
		*why = "NUL byte in command";
		return SC_ERR_FORMAT;
	}
	for (i = 0; i < len; ) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		if ((r = words_add(&ws, s + start, i - start, why)) < 0)
			return r;
	}
	return parse_words(&ws, true, NULL, cmd, why);
}

int
sc_shim_parse_argv(const char *progname, int argc, char *const argv[],
    struct sc_shim_cmd *cmd, const char **why)
{
	struct words ws;
	int i, r;

	memset(&ws, 0, sizeof(ws));
	memset(cmd, 0, sizeof(*cmd));
	if (argc < 0 || (argc > 0 && argv == NULL)) {
		*why = "internal error";
		return SC_ERR_INVAL;
	}
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL) {
			*why = "internal error";
			return SC_ERR_INVAL;
		}
		if ((r = words_add(&ws, argv[i], strnlen(argv[i],
		    SC_SHIM_WORD_MAX + 1), why)) < 0)
			return r;
	}
	if (progname == NULL || strcmp(progname, "xenconsole") != 0)
		progname = "sccrypt-console";
	return parse_words(&ws, false, progname, cmd, why);
}

const char *
sc_shim_verb_name(int verb)
{
	switch (verb) {
	case SC_SHIM_CONSOLE:	return "console";
	case SC_SHIM_AUTO:	return "auto";
	case SC_SHIM_PROTECT:	return "protect";
	case SC_SHIM_INFO:	return "info";
	case SC_SHIM_VERSION:	return "version";
	case SC_SHIM_HELP:	return "help";
	}
	return "?";
}

int
sc_shim_exit_status(int ctl_status)
{
	switch (ctl_status) {
	case SC_CTL_OK:			return SC_SHIM_EXIT_OK;
	case SC_CTL_E_USAGE:		return SC_SHIM_EXIT_USAGE;
	case SC_CTL_E_PERM:		return SC_SHIM_EXIT_PERM;
	case SC_CTL_E_NODOMAIN:		return SC_SHIM_EXIT_NOVM;
	case SC_CTL_E_BUSY:		return SC_SHIM_EXIT_BUSY;
	case SC_CTL_E_UNAVAILABLE:	return SC_SHIM_EXIT_UNAVAILABLE;
	case SC_CTL_E_PROTECTED:	return SC_SHIM_EXIT_PROTECTED;
	}
	return SC_SHIM_EXIT_INTERNAL;
}
