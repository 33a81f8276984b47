/*
 * test_consoled_conf.c — sccrypt.conf error reporting (issue 18 item 12):
 * an unknown key is named with the nearest valid one, a bad value names its
 * key, every error of the file is reported (not only the first), and the
 * first error is still returned as before.  And the shim's view of the
 * file (lib/ctlconf.c, issue 19 item 2) agrees with consoled's on the
 * socket path and stall timeout.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "ctlconf.h"

static struct sc_conf C;

static int
parse(const char *text, unsigned *line, const char **why)
{
	sc_conf_defaults(&C);
	return sc_conf_parse(&C, text, strlen(text), line, why);
}

static void
test_unknown_key_suggests(void **state)
{
	unsigned line;
	const char *why;

	(void)state;
	assert_true(parse("# x\nlisten = /run/x.sock\nmax_client = 4\n", &line, &why) < 0);
	assert_int_equal(line, 3);
	assert_string_equal(why, "unknown key 'max_client'; did you mean 'max_clients'?");
	assert_true(parse("listn = /run/x.sock\n", &line, &why) < 0);
	assert_string_equal(why, "unknown key 'listn'; did you mean 'listen'?");
	/* nothing close: no suggestion */
	assert_true(parse("frobnicate_everything = 1\n", &line, &why) < 0);
	assert_string_equal(why, "unknown key 'frobnicate_everything' (see sccrypt.conf(5))");
	/* a word that is not a key name is never echoed */
	assert_true(parse("root:$6$secrethash:19000 = x\n", &line, &why) < 0);
	assert_string_equal(why, "unknown key");
}

static void
test_bad_value_names_key(void **state)
{
	unsigned line;
	const char *why;

	(void)state;
	assert_true(parse("backend = kvm\n", &line, &why) < 0);
	assert_int_equal(line, 1);
	assert_string_equal(why, "backend: backend must be sim or xen");
	assert_true(parse("max_clients = lots\n", &line, &why) < 0);
	assert_string_equal(why, "max_clients: invalid number");
}

static void
test_every_error_reported(void **state)
{
	unsigned line;
	const char *why;

	(void)state;
	assert_true(parse("listn = /x\nbackend = kvm\nok_line_missing\n"
	    "allow bad;user *\nlog_level = debug\n", &line, &why) < 0);
	/* the first error is the one returned */
	assert_int_equal(line, 1);
	assert_string_equal(why, "unknown key 'listn'; did you mean 'listen'?");
	assert_int_equal(C.nerrs, 4);
	assert_string_equal(C.errs,
	    "line 1: unknown key 'listn'; did you mean 'listen'?\n"
	    "line 2: backend: backend must be sim or xen\n"
	    "line 3: expected: key = value\n"
	    "line 4: invalid user in allow rule\n");
	/* a good file: no errors */
	assert_int_equal(parse("log_level = debug\nallow root *\n", &line, &why), 0);
	assert_int_equal(C.nerrs, 0);
	assert_string_equal(C.errs, "");
}

/* The shim connects where consoled listens, and waits as long as consoled
 * stalls, for every file consoled accepts; it rejects a bad listen or
 * stall_timeout as consoled does. */
static void
test_shim_view_agrees(void **state)
{
	static const char *const good[] = {
		"",
		"# only a comment\n",
		"listen = /run/other/cd.sock\n",
		"  listen\t=\t/run/x.sock  \r\nstall_timeout = 7\nallow * vm*\n",
		"stall_timeout = 86400\nbackend = xen\nlisten_mode = 0660\n",
		"allow root *\nlisten = /a\n[webgate]\nlisten = 127.0.0.1:1\n",
	};
	static const char *const bad[] = {
		"listen = run/relative.sock\n",
		"listen =\n",
		"listen = /a\nlisten = /b\n",
		"stall_timeout = 0\n",
		"stall_timeout = 86401\n",
		"stall_timeout = 1K\n",
		"stall_timeout = 5\nstall_timeout = 6\n",
		"listen /a\n",
		"listen = /a b\n",
		"listen = /\001\n",
		"[nosuch\n",
	};
	struct sc_ctl_conf sh;
	const char *why;
	unsigned line;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(good[i], &line, &why), 0);
		sc_ctl_conf_defaults(&sh);
		assert_int_equal(sc_ctl_conf_parse(&sh, good[i], strlen(good[i]),
		    &line, &why), 0);
		assert_string_equal(sh.listen, C.listen);
		assert_int_equal(sh.stall_timeout, C.stall_timeout);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(parse(bad[i], &line, &why) < 0);
		sc_ctl_conf_defaults(&sh);
		assert_true(sc_ctl_conf_parse(&sh, bad[i], strlen(bad[i]),
		    &line, &why) < 0);
		assert_true(strlen(why) > 0);
	}
	/* the line is named, its content is not */
	sc_ctl_conf_defaults(&sh);
	assert_true(sc_ctl_conf_parse(&sh, "\nlisten = secret\n", 17, &line,
	    &why) < 0);
	assert_int_equal(line, 2);
	assert_null(strstr(why, "secret"));
}

/* output_coalesce_ms: default 20, 0 (off) .. 1000, a plain number. */
static void
test_output_coalesce_bounds(void **state)
{
	unsigned line;
	const char *why;

	(void)state;
	assert_int_equal(parse("", &line, &why), 0);
	assert_int_equal(C.output_coalesce_ms, 20);
	assert_int_equal(parse("output_coalesce_ms = 0\n", &line, &why), 0);
	assert_int_equal(C.output_coalesce_ms, 0);
	assert_int_equal(parse("output_coalesce_ms = 1000\n", &line, &why), 0);
	assert_int_equal(C.output_coalesce_ms, 1000);
	assert_true(parse("output_coalesce_ms = 1001\n", &line, &why) < 0);
	assert_non_null(strstr(why, "output_coalesce_ms"));
	assert_true(parse("output_coalesce_ms = -1\n", &line, &why) < 0);
	assert_true(parse("output_coalesce_ms = 20ms\n", &line, &why) < 0);
	assert_true(parse("output_coalesce_ms = 5\noutput_coalesce_ms = 6\n",
	    &line, &why) < 0);
	assert_int_equal(line, 2);
	assert_true(parse("output_coalesce = 5\n", &line, &why) < 0);
	assert_string_equal(why,
	    "unknown key 'output_coalesce'; did you mean 'output_coalesce_ms'?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_key_suggests),
		cmocka_unit_test(test_bad_value_names_key),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_shim_view_agrees),
		cmocka_unit_test(test_output_coalesce_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
