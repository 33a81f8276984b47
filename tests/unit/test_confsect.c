/*
 * test_confsect.c — sccrypt.conf(5) sections (lib/confsect.c) and the
 * [webgate] settings (webgate/conf.c): which lines reach which reader,
 * syntax errors anywhere in the file, strict keys and values.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confsect.h"
#include "core/err.h"
#include "conf.h"

struct seen {
	size_t	n;
	char	first[8][32];
};

static int
collect(void *arg, char *w[], size_t n, const char **why)
{
	struct seen *s = arg;

	(void)why;
	assert_true(n >= 1 && n <= SC_CONFSECT_WORDS);
	if (s->n < 8)
		snprintf(s->first[s->n], sizeof(s->first[0]), "%s", w[0]);
	s->n++;
	return 0;
}

static int
parse(const char *text, const char *section, struct seen *s, bool *found,
    unsigned *line, const char **why)
{
	memset(s, 0, sizeof(*s));
	return sc_confsect_parse(text, strlen(text), section, collect, s, found, line, why);
}

static const char FILE1[] =
    "# main\n"
    "listen = /run/x.sock\n"
    "allow alice vm1\n"
    "\n"
    " [webgate]  \n"
    "tokens = /t\n"
    "[other_1]\n"
    "foo = bar\n";

static void
test_sections(void **state)
{
	struct seen s;
	const char *why;
	unsigned line;
	bool found;

	(void)state;
	assert_int_equal(parse(FILE1, NULL, &s, &found, &line, &why), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.first[0], "listen");
	assert_string_equal(s.first[1], "allow");
	assert_false(found);
	assert_int_equal(parse(FILE1, "webgate", &s, &found, &line, &why), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.first[0], "tokens");
	assert_true(found);
	assert_int_equal(parse(FILE1, "other_1", &s, &found, &line, &why), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.first[0], "foo");
	assert_int_equal(parse(FILE1, "nosuch", &s, &found, &line, &why), 0);
	assert_int_equal(s.n, 0);
	assert_false(found);
}

static void
test_syntax_everywhere(void **state)
{
	static const struct { const char *text; unsigned line; } bad[] = {
		{ "a = b\n[webgate]\nx = \001\n", 3 },		/* control byte */
		{ "a = \xc3\xa9\n[webgate]\n", 1 },		/* non-ASCII */
		{ "[webgate]\na b c d e\n", 2 },		/* five words */
		{ "[Webgate]\n", 1 },				/* upper case */
		{ "[web gate]\n", 1 },
		{ "[]\n", 1 },
		{ "[webgate] x\n", 1 },
		{ "[webgate\n", 1 },
		{ "[webgate]\n[webgate]\n", 2 },		/* twice */
	};
	struct seen s;
	const char *why;
	unsigned line;
	size_t i;
	char longl[SC_CONFSECT_LINE_MAX + 8];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* An error in any section is an error whichever is read. */
		assert_true(parse(bad[i].text, "webgate", &s, NULL, &line, &why) < 0);
		assert_int_equal(line, bad[i].line);
		assert_true(why[0] != '\0');
	}
	/* A section read twice is an error only for its own reader. */
	assert_int_equal(parse("[webgate]\n[webgate]\n", NULL, &s, NULL, &line, &why), 0);
	memset(longl, 'a', sizeof(longl) - 1);
	longl[sizeof(longl) - 1] = '\0';
	assert_int_equal(parse(longl, NULL, &s, NULL, &line, &why), SC_ERR_TOOLONG);
}

static void
test_webgate_conf(void **state)
{
	static const char ok[] =
	    "listen = /run/x.sock\n"
	    "[webgate]\n"
	    "listen = 0.0.0.0:9443\r\n"
	    "consoled_socket = /run/c.sock\n"
	    "tokens = /etc/t\n"
	    "tls_certificate = /etc/c.pem\n"
	    "tls_key = /etc/k.pem\n"
	    "origin = https://a.example\n"
	    "origin = http://127.0.0.1:*\n"
	    "allow_no_origin = yes\n"
	    "max_clients = 10\n"
	    "max_per_user = 2\n"
	    "idle_timeout = 60\n"
	    "log_level = debug\n";
	static const struct { const char *text; unsigned line; } bad[] = {
		{ "[webgate]\ntokenz = /t\n", 2 },
		{ "[webgate]\ntokens = t\n", 2 },
		{ "[webgate]\ntokens = /t\ntokens = /u\n", 3 },
		{ "[webgate]\nlisten = 127.0.0.1\n", 2 },
		{ "[webgate]\nlisten = 127.0.0.1:0\n", 2 },
		{ "[webgate]\nlisten = 127.0.0.1:65536\n", 2 },
		{ "[webgate]\nidle_timeout = 86401\n", 2 },
		{ "[webgate]\nmax_clients = 0\n", 2 },
		{ "[webgate]\nplaintext = true\n", 2 },
		{ "[webgate]\ntokens =\n", 2 },
		{ "[webgate]\ntokens = /t extra\n", 2 },
		{ "[webgate]\nallow alice vm1\n", 2 },
		{ "[webgate]\nconsoled_socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 2 },
		{ "listen = /x\n", 0 },				/* no section */
	};
	struct wg_conf c;
	const char *why;
	unsigned line;
	size_t i;
	char many[2048];
	int n = 0;

	(void)state;
	wg_conf_defaults(&c);
	assert_int_equal(wg_conf_parse(&c, ok, strlen(ok), &line, &why), 0);
	assert_string_equal(c.iface, "0.0.0.0");
	assert_int_equal(c.port, 9443);
	assert_string_equal(c.consoled, "/run/c.sock");
	assert_string_equal(c.tokens, "/etc/t");
	assert_string_equal(c.cert, "/etc/c.pem");
	assert_string_equal(c.key, "/etc/k.pem");
	assert_int_equal(c.norigins, 2);
	assert_string_equal(c.origins[1], "http://127.0.0.1:*");
	assert_true(c.allow_no_origin);
	assert_false(c.plaintext);
	assert_int_equal(c.max_clients, 10);
	assert_int_equal(c.max_per_user, 2);
	assert_int_equal(c.idle, 60);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wg_conf_defaults(&c);
		assert_true(wg_conf_parse(&c, bad[i].text, strlen(bad[i].text), &line, &why) < 0);
		assert_int_equal(line, bad[i].line);
	}
	/* origin adds up, to WG_ORIGINS_MAX lines. */
	n = snprintf(many, sizeof(many), "[webgate]\n");
	for (i = 0; i <= WG_ORIGINS_MAX; i++)
		n += snprintf(many + n, sizeof(many) - (size_t)n, "origin = null\n");
	wg_conf_defaults(&c);
	assert_int_equal(wg_conf_parse(&c, many, (size_t)n, &line, &why), SC_ERR_LIMIT);
	assert_int_equal(line, WG_ORIGINS_MAX + 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_syntax_everywhere),
		cmocka_unit_test(test_webgate_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
