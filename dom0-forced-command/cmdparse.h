/*
 * cmdparse.h — the strict allowlist grammar of sccrypt-console(8).
 *
 * The user's command comes either from SSH_ORIGINAL_COMMAND (sshd forced
 * command) or from argv (sudo, direct use).  It is split on spaces and tabs
 * only; every word must consist of [A-Za-z0-9._-] and start with a letter,
 * a digit, '-' (options) or '_' — no shell metacharacter, quote, slash,
 * control byte or NUL can ever pass.  The accepted forms are:
 *
 *   [sudo] sccrypt-console [--armor] [--protect | --info] VM
 *   [sudo] sccrypt-console --version | -V | --help | -h
 *   [sudo] xenconsole VM
 *   [sudo] xl console VM
 *
 * VM must satisfy sc_vmname_valid().  Nothing here executes anything: the
 * result is a verb, an encoding and a VM name for the consoled request.
 */
#ifndef SC_SHIM_CMDPARSE_H
#define SC_SHIM_CMDPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"

#define SC_SHIM_CMD_MAX		512	/* bytes of the whole command */
#define SC_SHIM_WORDS_MAX	6
#define SC_SHIM_WORD_MAX	64

enum sc_shim_verb {
	SC_SHIM_CONSOLE = 1,	/* framed session (sccrypt-console VM) */
	SC_SHIM_AUTO,		/* xenconsole/xl console: framed if protected, else plaintext */
	SC_SHIM_PROTECT,	/* framed, the client will send PROTECT */
	SC_SHIM_INFO,		/* one line of information about VM */
	SC_SHIM_VERSION,	/* print the version, no connection */
	SC_SHIM_HELP,		/* print the usage, no connection */
};

struct sc_shim_cmd {
	int		verb;			/* enum sc_shim_verb */
	uint8_t		encoding;		/* SC_ENCODING_BINARY or _ARMOR */
	char		vm[SC_VMNAME_MAX + 1];	/* empty for _VERSION, _HELP */
};

/*
 * Parse a command string of len bytes (SSH_ORIGINAL_COMMAND).  Embedded NUL
 * bytes are rejected.  Returns 0, or a negative SC_ERR_* code with *why set
 * to a constant one-line explanation (which never quotes the input).
 */
int	sc_shim_parse_string(const char *s, size_t len, struct sc_shim_cmd *cmd,
	    const char **why) __attribute__((warn_unused_result));

/*
 * Parse argv words (without argv[0]).  progname is the basename of argv[0]:
 * "xenconsole" selects the xenconsole form, anything else the
 * sccrypt-console form.
 */
int	sc_shim_parse_argv(const char *progname, int argc, char *const argv[],
	    struct sc_shim_cmd *cmd, const char **why) __attribute__((warn_unused_result));

const char *sc_shim_verb_name(int verb);

#endif /* SC_SHIM_CMDPARSE_H */
