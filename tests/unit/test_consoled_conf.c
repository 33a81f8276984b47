/*
 * test_consoled_conf.c — sccrypt.conf error reporting (issue 18 item 12):
 * an unknown key is named with the nearest valid one, a bad value names its
 * key, every error of the file is reported (not only the first), and the
 * first error is still returned as before.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_key_suggests),
		cmocka_unit_test(test_bad_value_names_key),
		cmocka_unit_test(test_every_error_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
