/*
 * test_hv_conf.c — sccrypt-hvsim's configuration parser: the documented
 * format is accepted, defaults and automatic domids are right, and every
 * kind of mistake is refused with the file and line in the message.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "hv/sim/conf.h"

static struct hvsim_conf c;
static char err[512];

static int
parse(const char *text)
{
	hvsim_conf_defaults(&c);
	err[0] = '\0';
	return hvsim_conf_parse(&c, text, strlen(text), "t.conf", err, sizeof(err));
}

static void
test_valid(void **state)
{
	static const uint8_t u1[16] = { 0x6f, 0x1c, 0x1f, 0x02, 0x2b, 0x83, 0x4b, 0x8f,
	    0x9a, 0x51, 0x0d, 0x3f, 0x6c, 0x2b, 0x9e, 0x11 };

	(void)state;
	assert_int_equal(parse(
	    "# comment\n"
	    "socket = /run/x.sock\n"
	    "socket-mode = 0660\r\n"
	    "  tpm-tcti =   swtpm:host=127.0.0.1,port=2321  \n"
	    "pcr = 14\n"
	    "history = 4096\n"
	    "owner-ca = 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n"
	    "\n"
	    "[domain vm1]\n"
	    "uuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11\n"
	    "domid = 2\n"
	    "disk = /var/lib/vm1.img\n"
	    "command = /bin/bash -l\n"
	    "input-log = /tmp/in.log\n"
	    "user = vm1-con_sole.x\n"
	    "[domain b.2]\n"
	    "uuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e12\n"
	    "history = 8192\n"
	    "[domain c_3]\n"
	    "uuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e13\n"), 0);
	assert_string_equal(c.socket, "/run/x.sock");
	assert_int_equal(c.socket_mode, 0660);
	assert_string_equal(c.tcti, "swtpm:host=127.0.0.1,port=2321");
	assert_int_equal(c.pcr, 14);
	assert_int_equal(c.history, 4096);
	assert_true(c.owner_ca_set);
	assert_int_equal(c.owner_ca[0], 0x00);
	assert_int_equal(c.owner_ca[10], 0xaa);
	assert_int_equal(c.owner_ca[31], 0xff);
	assert_int_equal(c.ndomains, 3);
	assert_string_equal(c.dom[0].name, "vm1");
	assert_memory_equal(c.dom[0].uuid, u1, 16);
	assert_int_equal(c.dom[0].domid, 2);
	assert_string_equal(c.dom[0].disk, "/var/lib/vm1.img");
	assert_string_equal(c.dom[0].command, "/bin/bash -l");
	assert_string_equal(c.dom[0].input_log, "/tmp/in.log");
	assert_string_equal(c.dom[0].user, "vm1-con_sole.x");
	assert_string_equal(c.dom[1].user, "");		/* hvsim's own user */
	/* Automatic domids: the lowest free ones, skipping 2. */
	assert_int_equal(c.dom[1].domid, 1);
	assert_int_equal(c.dom[1].history, 8192);
	assert_int_equal(c.dom[2].domid, 3);
	assert_int_equal(c.dom[2].history, 0);		/* global default applies */
	assert_string_equal(c.dom[2].command, "");	/* built-in default applies */
}

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(c.pcr, 15);
	assert_int_equal(c.socket_mode, 0600);
	assert_int_equal(c.history, 65536);
	assert_false(c.owner_ca_set);
	assert_int_equal(c.ndomains, 0);
}

static void
bad(const char *text, const char *msg_part, unsigned line)
{
	char where[32];

	assert_int_equal(parse(text), SC_ERR_FORMAT);
	if (strstr(err, msg_part) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, msg_part);
	if (line > 0) {
		snprintf(where, sizeof(where), "t.conf:%u:", line);
		if (strncmp(err, where, strlen(where)) != 0)
			fail_msg("error \"%s\" does not start with %s", err, where);
	}
}

static void
test_errors(void **state)
{
	char longline[4000];

	(void)state;
	bad("pcr = 16\n", "can be reset", 1);
	bad("pcr = 23\n", "can be reset", 1);
	bad("pcr = 24\n", "0..23", 1);
	bad("pcr = -1\n", "0..23", 1);
	bad("\nfoo = 1\n", "unknown key", 2);
	bad("socket = relative\n", "absolute", 1);
	bad("socket-mode = 0666\n", "world", 1);
	bad("history = 100\n", "history", 1);
	bad("owner-ca = 0011\n", "owner-ca", 1);
	bad("owner-ca = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\n",
	    "owner-ca", 1);
	bad("owner-ca = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\n",
	    "owner-ca", 1);
	bad("owner-ca =\n", "owner-ca", 1);
	bad("[domain vm1]\nuuid = nope\n", "uuid", 2);
	bad("[domain vm1]\n", "has no uuid", 0);
	bad("[domain -x]\n", "invalid domain name", 1);
	bad("[dom vm1]\n", "[domain NAME]", 1);
	bad("[domain vm1]\nuuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11\n"
	    "[domain vm1]\n", "defined twice", 3);
	bad("[domain a]\nuuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11\n"
	    "[domain b]\nuuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11\n", "same uuid", 0);
	bad("[domain a]\nuuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11\ndomid = 3\n"
	    "[domain b]\nuuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e12\ndomid = 3\n",
	    "same domid", 0);
	bad("[domain a]\ndomid = 0\n", "domid", 2);
	bad("[domain a]\nbogus = 1\n", "unknown key 'bogus' in [domain a]", 2);
	bad("[domain a]\ncommand =\n", "command", 2);
	bad("novalue\n", "key = value", 1);
	/* user: a login name, nothing a shell or getpwnam could misread. */
	bad("[domain a]\nuser = -root\n", "user: login name", 2);
	bad("[domain a]\nuser = a b\n", "user: login name", 2);
	bad("[domain a]\nuser = a;id\n", "user: login name", 2);
	bad("[domain a]\nuser = ../x\n", "user: login name", 2);
	bad("[domain a]\nuser =\n", "user: login name", 2);
	bad("[domain a]\nuser = abcdefghijabcdefghijabcdefghijabc\n",
	    "user: login name", 2);
	bad("user = nobody\n", "unknown key", 1);
	assert_int_equal(hvsim_conf_parse(&c, "pcr = 1\0\n", 9, "t.conf", err,
	    sizeof(err)), SC_ERR_FORMAT);
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	bad(longline, "too long", 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
