/*
 * fuzz_shim_cmd — sccrypt-console's command parser (SSH_ORIGINAL_COMMAND and
 * argv forms).  Invariants checked on every accepted input: the VM name is
 * valid, contains no shell metacharacter, and the request line built from it
 * parses back to the same request.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "cmdparse.h"
#include "ctl.h"

static void
check(const struct sc_shim_cmd *cmd)
{
	struct sc_ctl_request rq, back;
	char line[SC_CTL_LINE_MAX + 1];
	size_t len;

	if (cmd->verb == SC_SHIM_VERSION || cmd->verb == SC_SHIM_HELP)
		return;		/* no VM, nothing sent */
	if (!sc_vmname_valid(cmd->vm, strlen(cmd->vm)))
		abort();
	if (strpbrk(cmd->vm, ";|&$`'\"\\/ \t\n<>(){}*?~#") != NULL)
		abort();
	memset(&rq, 0, sizeof(rq));
	rq.verb = cmd->verb == SC_SHIM_AUTO ? SC_CTL_AUTO :
	    cmd->verb == SC_SHIM_PROTECT ? SC_CTL_PROTECT :
	    cmd->verb == SC_SHIM_INFO ? SC_CTL_INFO : SC_CTL_CONSOLE;
	memcpy(rq.vm, cmd->vm, sizeof(rq.vm));
	rq.encoding = cmd->encoding;
	if (sc_ctl_request_format(&rq, line, sizeof(line), &len) != 0)
		abort();
	if (sc_ctl_request_parse(line, len, &back) != 0 || back.verb != rq.verb ||
	    strcmp(back.vm, rq.vm) != 0 || back.encoding != rq.encoding)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_shim_cmd cmd;
	const char *why;
	char *copy, *argv[16];
	int argc = 0;
	size_t i, start;

	if (sc_shim_parse_string((const char *)data, size, &cmd, &why) == 0)
		check(&cmd);

	/* The same bytes as an argv vector, words separated by NUL. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (i = 0, start = 0; i <= size && argc < 16; i++) {
		if (copy[i] == '\0') {
			argv[argc++] = copy + start;
			start = i + 1;
		}
	}
	if (argc > 0 && sc_shim_parse_argv(argv[0], argc - 1, argv + 1, &cmd, &why) == 0)
		check(&cmd);
	free(copy);
	return 0;
}
