/*
 * fuzz_consoled_conf — the sccrypt.conf(5) parser, the policy matcher, the
 * shim's view of the file (ctlconf.c: it must agree with consoled's on every
 * file consoled accepts) and the consoled request/reply line parsers.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "confsect.h"
#include "ctl.h"
#include "ctlconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
any_line(void *arg, char *w[], size_t n, const char **why)
{
	(void)arg;
	(void)w;
	(void)n;
	(void)why;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sc_conf *c;
	struct sc_ctl_conf sh;
	struct sc_ctl_request rq;
	struct sc_ctl_reply rp;
	char line[SC_CTL_LINE_MAX + 1];
	size_t len;
	const char *why;
	unsigned errline;

	if (c == NULL && (c = malloc(sizeof(*c))) == NULL)
		return 0;
	sc_conf_defaults(c);
	if (sc_conf_parse(c, (const char *)data, size, &errline, &why) == 0) {
		if (c->nrules > SC_CONF_RULES_MAX || c->listen[0] != '/')
			abort();
		(void)sc_policy_allows(c, 1000, "vm1");
		(void)sc_policy_allows(c, 0, "web-01.prod");
		/* Where the file's syntax is good for every program (consoled
		 * does not judge other sections' lines), the shim must find
		 * consoled and wait as long as it stalls. */
		sc_ctl_conf_defaults(&sh);
		if (sc_confsect_parse((const char *)data, size, NULL, any_line,
		    NULL, NULL, &errline, &why) == 0 &&
		    (sc_ctl_conf_parse(&sh, (const char *)data, size, &errline,
		    &why) != 0 || strcmp(sh.listen, c->listen) != 0 ||
		    sh.stall_timeout != c->stall_timeout))
			abort();
	} else if (c->nerrs == 0 ||
	    memchr(c->errs, '\0', sizeof(c->errs)) == NULL ||
	    strpbrk(c->why_first, "\r\n\033") != NULL) {
		abort();	/* every failure reported, bounded, one line */
	}
	if (sc_ctl_request_parse((const char *)data, size, &rq) == 0) {
		if (sc_ctl_request_format(&rq, line, sizeof(line), &len) != 0)
			abort();
		if (len != size || memcmp(line, data, size) != 0)
			abort();	/* canonical: one accepted spelling per request */
	}
	if (sc_ctl_reply_parse((const char *)data, size, &rp) == 0 &&
	    strpbrk(rp.text, "\r\n\033") != NULL)
		abort();
	return 0;
}
