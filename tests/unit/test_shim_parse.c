/*
 * test_shim_parse — sccrypt-console's allowlist grammar (cmdparse.c).
 *
 * Every hostile command in the rejection table must be refused with a
 * negative code and a constant explanation that does not quote the input;
 * the accepted forms must produce exactly the expected verb, encoding and VM.
 * (That nothing is executed and nothing reaches consoled is checked
 * end-to-end with the real binary in tests/integration/dom0-shim-reject.sh.)
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "cmdparse.h"
#include "shim.h"
#include "ctl.h"

struct reject {
	const char	*cmd;
	size_t		 len;	/* 0: strlen */
};

#define R(s)		{ s, 0 }
#define RN(s)		{ s, sizeof(s) - 1 }	/* with embedded NUL */

static const struct reject rejects[] = {
	R("sccrypt-console vm1; rm -rf /"),
	R("; rm -rf /"),
	R("sccrypt-console $(id)"),
	R("sccrypt-console $(touch /tmp/pwned)"),
	R("sccrypt-console `id`"),
	R("xenconsole `touch /tmp/pwned`"),
	R("sccrypt-console vm1\nid"),
	R("sccrypt-console vm1\rid"),
	R("sccrypt-console vm1 && id"),
	R("sccrypt-console vm1 | sh"),
	R("sccrypt-console vm1 > /etc/passwd"),
	R("sccrypt-console ../etc/passwd"),
	R("sccrypt-console ../../vm1"),
	R("sccrypt-console .."),
	R("sccrypt-console ."),
	R("sccrypt-console .hidden"),
	R("sccrypt-console /usr/bin/id"),
	R("/usr/sbin/xenconsole vm1"),
	R("sccrypt-console 'vm1'"),
	R("sccrypt-console \"vm1\""),
	R("sccrypt-console vm\\1"),
	R("sccrypt-console vm1*"),
	R("sccrypt-console vm?"),
	R("sccrypt-console ~root"),
	R("sccrypt-console vm1#"),
	R("sccrypt-console {vm1,vm2}"),
	R("sccrypt-console vm1=x"),
	R("sccrypt-console -vm1"),
	R("sccrypt-console --armor"),
	R("sccrypt-console --armor --armor vm1"),
	R("sccrypt-console --protect --info vm1"),
	R("sccrypt-console --shell vm1"),
	R("sccrypt-console --version vm1"),
	R("sccrypt-console --help vm1"),
	R("sccrypt-console vm1 --help"),
	R("sccrypt-console -h -V"),
	R("sccrypt-console vm1 vm2"),
	R("sccrypt-console vm1 --armor"),
	R("sccrypt-console"),
	R("xenconsole"),
	R("xenconsole --num=1 vm1"),
	R("xenconsole -t pv vm1"),
	R("xenconsole vm1 vm2"),
	R("xl list"),
	R("xl destroy vm1"),
	R("xl console"),
	R("xl"),
	R("sudo"),
	R("sudo -s"),
	R("sudo -u root xenconsole vm1"),
	R("sudo sudo xenconsole vm1"),
	R("sudo sh -c id"),
	R("bash"),
	R("sh -c id"),
	R("scp -t /tmp"),
	R("rsync --server . /"),
	R("sftp-server"),
	R("internal-sftp x"),
	R("id"),
	R("vm1"),		/* a bare word is an unknown verb, not a VM */
	R("ls -la"),
	R(""),
	R("   "),
	R("\t"),
	R("sccrypt-console vm1\xc3\xa9"),
	R("sccrypt-console vm\x7f"),
	R("sccrypt-console vm\x1b[2J"),
	RN("sccrypt-console vm1\0; id"),
	RN("\0"),
	RN("sccrypt-console \0vm1"),
	/* 65-character VM name: one over SC_VMNAME_MAX */
	R("sccrypt-console aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	R("sccrypt-console a b c d e f g"),
};

static void
test_rejection_table(void **state)
{
	struct sc_shim_cmd cmd;
	const char *why;
	size_t i, len;
	int r;

	(void)state;
	for (i = 0; i < SC_NELEM(rejects); i++) {
		len = rejects[i].len ? rejects[i].len : strlen(rejects[i].cmd);
		why = NULL;
		r = sc_shim_parse_string(rejects[i].cmd, len, &cmd, &why);
		if (r >= 0)
			fail_msg("accepted hostile command #%zu", i);
		assert_non_null(why);
		/* The explanation is a constant: it never quotes the input. */
		assert_null(strstr(why, "rm -rf"));
		assert_null(strstr(why, "$("));
		assert_null(strstr(why, "`"));
		assert_null(strchr(why, '\n'));
	}
}

static void
test_overlong_command(void **state)
{
	char big[SC_SHIM_CMD_MAX + 2];
	struct sc_shim_cmd cmd;
	const char *why;

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(sc_shim_parse_string(big, sizeof(big), &cmd, &why),
	    SC_ERR_TOOLONG);
	/* Many blanks around a valid command are still bounded by length. */
	memset(big, ' ', sizeof(big));
	memcpy(big + 10, "xenconsole vm1", 14);
	assert_true(sc_shim_parse_string(big, SC_SHIM_CMD_MAX, &cmd, &why) == 0);
	assert_true(sc_shim_parse_string(big, sizeof(big), &cmd, &why) < 0);
}

struct accept {
	const char	*cmd;
	int		 verb;
	uint8_t		 enc;
	const char	*vm;
};

static const struct accept accepts[] = {
	{ "sccrypt-console vm1", SC_SHIM_CONSOLE, 'B', "vm1" },
	{ "  sccrypt-console\tvm1  ", SC_SHIM_CONSOLE, 'B', "vm1" },
	{ "sccrypt-console --armor vm1", SC_SHIM_CONSOLE, 'A', "vm1" },
	{ "sccrypt-console --protect vm1", SC_SHIM_PROTECT, 'B', "vm1" },
	{ "sccrypt-console --armor --protect web-01.prod", SC_SHIM_PROTECT, 'A', "web-01.prod" },
	{ "sccrypt-console --protect --armor web_2", SC_SHIM_PROTECT, 'A', "web_2" },
	{ "sccrypt-console --info vm1", SC_SHIM_INFO, 'B', "vm1" },
	{ "sccrypt-console --version", SC_SHIM_VERSION, 'B', "" },
	{ "sccrypt-console -V", SC_SHIM_VERSION, 'B', "" },
	{ "sccrypt-console --help", SC_SHIM_HELP, 'B', "" },
	{ "sccrypt-console -h", SC_SHIM_HELP, 'B', "" },
	{ "sudo sccrypt-console vm1", SC_SHIM_CONSOLE, 'B', "vm1" },
	{ "xenconsole vm1", SC_SHIM_AUTO, 'B', "vm1" },
	{ "sudo xenconsole vm1", SC_SHIM_AUTO, 'B', "vm1" },
	{ "xl console vm1", SC_SHIM_AUTO, 'B', "vm1" },
	{ "sudo xl console vm1", SC_SHIM_AUTO, 'B', "vm1" },
	{ "sccrypt-console 0", SC_SHIM_CONSOLE, 'B', "0" },
	{ "sccrypt-console aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    SC_SHIM_CONSOLE, 'B',
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
};

static void
test_accepted_forms(void **state)
{
	struct sc_shim_cmd cmd;
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < SC_NELEM(accepts); i++) {
		if (sc_shim_parse_string(accepts[i].cmd, strlen(accepts[i].cmd),
		    &cmd, &why) != 0)
			fail_msg("rejected valid command #%zu: %s", i, why);
		assert_int_equal(cmd.verb, accepts[i].verb);
		assert_int_equal(cmd.encoding, accepts[i].enc);
		assert_string_equal(cmd.vm, accepts[i].vm);
	}
}

static void
test_argv_forms(void **state)
{
	struct sc_shim_cmd cmd;
	const char *why;
	char *a1[] = { "vm1" };
	char *a2[] = { "--armor", "vm1" };
	char *a3[] = { "--version" };
	char *bad1[] = { "vm1;id" };
	char *bad2[] = { "vm1", "vm2" };
	char *bad3[] = { "xenconsole", "vm1" };	/* prog word only from the string */
	char *bad4[] = { "--num=1", "vm1" };
	char *bad5[] = { "" };
	char *bad6[] = { "--protect", "../x" };

	(void)state;
	assert_int_equal(sc_shim_parse_argv("sccrypt-console", 1, a1, &cmd, &why), 0);
	assert_int_equal(cmd.verb, SC_SHIM_CONSOLE);
	assert_string_equal(cmd.vm, "vm1");
	assert_int_equal(sc_shim_parse_argv("xenconsole", 1, a1, &cmd, &why), 0);
	assert_int_equal(cmd.verb, SC_SHIM_AUTO);
	assert_int_equal(sc_shim_parse_argv("sccrypt-console", 2, a2, &cmd, &why), 0);
	assert_int_equal(cmd.encoding, SC_ENCODING_ARMOR);
	assert_int_equal(sc_shim_parse_argv("sccrypt-console", 1, a3, &cmd, &why), 0);
	assert_int_equal(cmd.verb, SC_SHIM_VERSION);
	/* An unknown program name behaves as sccrypt-console. */
	assert_int_equal(sc_shim_parse_argv("anything", 1, a1, &cmd, &why), 0);
	assert_int_equal(cmd.verb, SC_SHIM_CONSOLE);

	assert_true(sc_shim_parse_argv("sccrypt-console", 0, NULL, &cmd, &why) < 0);
	assert_true(sc_shim_parse_argv("xenconsole", 0, NULL, &cmd, &why) < 0);
	assert_true(sc_shim_parse_argv("sccrypt-console", 1, bad1, &cmd, &why) < 0);
	assert_true(sc_shim_parse_argv("sccrypt-console", 2, bad2, &cmd, &why) < 0);
	assert_true(sc_shim_parse_argv("sccrypt-console", 2, bad3, &cmd, &why) < 0);
	assert_true(sc_shim_parse_argv("xenconsole", 2, bad4, &cmd, &why) < 0);
	assert_true(sc_shim_parse_argv("sccrypt-console", 1, bad5, &cmd, &why) < 0);
	assert_true(sc_shim_parse_argv("sccrypt-console", 2, bad6, &cmd, &why) < 0);
}

/* Every verb the shim can produce maps onto a valid consoled request line. */
static void
test_request_line(void **state)
{
	struct sc_ctl_request rq, back;
	char line[SC_CTL_LINE_MAX + 1];
	size_t len;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	rq.verb = SC_CTL_AUTO;
	strcpy(rq.vm, "vm1");
	rq.encoding = SC_ENCODING_BINARY;
	rq.has_as = 1;
	rq.as_uid = 1000;
	assert_int_equal(sc_ctl_request_format(&rq, line, sizeof(line), &len), 0);
	assert_int_equal(len, strlen("SCCRYPT/1 auto vm1 B as=1000\n"));
	assert_memory_equal(line, "SCCRYPT/1 auto vm1 B as=1000\n", len);
	assert_int_equal(sc_ctl_request_parse(line, len, &back), 0);
	assert_int_equal(back.verb, SC_CTL_AUTO);
	assert_string_equal(back.vm, "vm1");
	assert_int_equal(back.as_uid, 1000);
	/* The formatter refuses an invalid VM name rather than send it. */
	strcpy(rq.vm, "a;b");
	assert_true(sc_ctl_request_format(&rq, line, sizeof(line), &len) < 0);
}

static void
test_exit_statuses(void **state)
{
	(void)state;
	assert_int_equal(sc_shim_exit_status(SC_CTL_OK), 0);
	assert_int_equal(sc_shim_exit_status(SC_CTL_E_USAGE), 64);
	assert_int_equal(sc_shim_exit_status(SC_CTL_E_PERM), 77);
	assert_int_equal(sc_shim_exit_status(SC_CTL_E_NODOMAIN), 68);
	assert_int_equal(sc_shim_exit_status(SC_CTL_E_BUSY), 75);
	assert_int_equal(sc_shim_exit_status(SC_CTL_E_UNAVAILABLE), 69);
	assert_int_equal(sc_shim_exit_status(SC_CTL_E_PROTECTED), 65);
	assert_int_equal(sc_shim_exit_status(SC_CTL_E_INTERNAL), 70);
	assert_int_equal(sc_shim_exit_status(99), 70);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejection_table),
		cmocka_unit_test(test_overlong_command),
		cmocka_unit_test(test_accepted_forms),
		cmocka_unit_test(test_argv_forms),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_exit_statuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
