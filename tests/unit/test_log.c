/*
 * test_log.c — the sanitiser and the log line format.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "log.h"

static void
test_sanitize_basic(void **state)
{
	char out[256];

	(void)state;
	assert_string_equal(sc_sanitize(out, sizeof(out), "hello, world", 12),
	    "hello, world");
	/* Every printable ASCII byte passes through unchanged. */
	{
		char in[95];
		int i;

		for (i = 0; i < 95; i++)
			in[i] = (char)(0x20 + i);
		sc_sanitize(out, sizeof(out), in, sizeof(in));
		assert_int_equal(strlen(out), 95);
		assert_memory_equal(out, in, 95);
	}
	assert_string_equal(sc_sanitize(out, sizeof(out), "", 0), "");
}

static void
test_sanitize_control(void **state)
{
	char out[256];

	(void)state;
	/* ESC sequences (clear screen, OSC title, colours) are defanged. */
	assert_string_equal(sc_sanitize(out, sizeof(out), "\x1b[2J\x1b]0;pwn\x07", 12),
	    "\\x1b[2J\\x1b]0;pwn\\x07");
	assert_string_equal(sc_sanitize(out, sizeof(out), "a\r\nb\tc\x7f", 7),
	    "a\\x0d\\x0ab\\x09c\\x7f");
	/* NUL inside the input does not end it. */
	assert_string_equal(sc_sanitize(out, sizeof(out), "a\0b", 3), "a\\x00b");
	/* C1 controls and UTF-8 are escaped byte by byte: logs stay 7-bit. */
	assert_string_equal(sc_sanitize(out, sizeof(out), "\xc2\x9b" "31m", 5),
	    "\\xc2\\x9b31m");
	assert_string_equal(sc_sanitize(out, sizeof(out), "caf\xc3\xa9", 5),
	    "caf\\xc3\\xa9");
	assert_string_equal(sc_sanitize(out, sizeof(out), "\xff\x80", 2), "\\xff\\x80");
	/* Output never contains a byte outside printable ASCII. */
	{
		unsigned char in[256];
		char big[256 * 4 + 1];
		size_t i;

		for (i = 0; i < 256; i++)
			in[i] = (unsigned char)i;
		sc_sanitize(big, sizeof(big), in, sizeof(in));
		assert_int_equal(strlen(big), 95 + 161 * 4);
		for (i = 0; big[i] != '\0'; i++)
			assert_true(big[i] >= 0x20 && big[i] <= 0x7e);
	}
}

static void
test_sanitize_truncation(void **state)
{
	char out[8], canary[4];
	char long_in[5000];

	(void)state;
	memset(canary, 'Z', sizeof(canary));
	/* Fits exactly 7 characters plus NUL. */
	assert_string_equal(sc_sanitize(out, sizeof(out), "abcdefghij", 10), "abcdefg");
	/* An escape is never split: "ab" + "\x1b" needs 6, "\x1b" again would need 10. */
	assert_string_equal(sc_sanitize(out, sizeof(out), "ab\x1b\x1b", 4), "ab\\x1b");
	assert_string_equal(sc_sanitize(out, 4, "\x1b", 1), "");
	assert_string_equal(sc_sanitize(out, 5, "\x1b", 1), "\\x1b");
	assert_string_equal(sc_sanitize(out, 1, "abc", 3), "");
	/* dstsz 0: nothing written. */
	out[0] = 'Q';
	sc_sanitize(out, 0, "abc", 3);
	assert_int_equal(out[0], 'Q');
	assert_memory_equal(canary, "ZZZZ", 4);
	/* Long input into a large buffer: bounded and terminated. */
	memset(long_in, '\x01', sizeof(long_in));
	{
		char big[1001];

		sc_sanitize(big, sizeof(big), long_in, sizeof(long_in));
		assert_int_equal(strlen(big), 1000);
	}
}

/* Capture what sc_log writes to stderr. */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/sccrypt-test_log.XXXXXX";
	static char buf[16384];
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void
log_hostile(void)
{
	const char *peer = "evil\x1b[2J\r\nsccrypt: fake line";

	sc_log_init("/usr/bin/sccrypt-test", SC_LOG_INFO, SC_LOG_TO_STDERR);
	sc_error("peer said \"%s\" (%d)", peer, 42);
}

static void
test_log_format(void **state)
{
	char *out;

	(void)state;
	out = capture(log_hostile);
	assert_string_equal(out, "sccrypt-test: log_hostile: peer said "
	    "\"evil\\x1b[2J\\x0d\\x0asccrypt: fake line\" (42)\n");
}

static void
log_levels(void)
{
	sc_log_init("t", SC_LOG_WARN, SC_LOG_TO_STDERR);
	sc_info("hidden");
	sc_debug("hidden");
	sc_warn("shown %d", 1);
	sc_log_set_level(SC_LOG_DEBUG);
	sc_debug("dbg");
	sc_verbose("verb");
	sc_log_set_level(SC_LOG_QUIET);
	sc_error("hidden");
	sc_log_set_level(99);	/* clamped to DEBUG */
	sc_debug("clamped");
}

static void
test_log_levels(void **state)
{
	char *out;

	(void)state;
	out = capture(log_levels);
	assert_string_equal(out, "t: log_levels: shown 1\n"
	    "t: debug: log_levels: dbg\n"
	    "t: log_levels: verb\n"
	    "t: debug: log_levels: clamped\n");
	assert_int_equal(sc_log_get_level(), SC_LOG_DEBUG);
}

static void
log_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sc_log_init("t", SC_LOG_INFO, SC_LOG_TO_STDERR);
	errno = EBADF;
	sc_info("%s", big);
	/* errno survives logging */
	assert_int_equal(errno, EBADF);
	memset(big, '\x1b', sizeof(big) - 1);
	sc_info("%s", big);
}

static void
test_log_truncation(void **state)
{
	char *out, *nl;

	(void)state;
	out = capture(log_long);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	/* "t: log_long: " + 1023 bytes of message ending in "..." */
	assert_int_equal(nl - out, (long)strlen("t: log_long: ") + 1023);
	assert_memory_equal(nl - 3, "...", 3);
	/* The second line: every ESC escaped, the whole message bounded. */
	nl = strchr(nl + 1, '\n');
	assert_non_null(nl);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "\\x1b\\x1b"));
}

static void
log_with_code(void)
{
	sc_log_init("t", SC_LOG_WARN, SC_LOG_TO_STDERR);
	sc_error_r(SC_ERR_NOTFOUND, "keystore %s", "/k");
	sc_warn_r(SC_ERR_PERM, "plain");
	sc_info_r(SC_ERR_PERM, "hidden below the level");
}

/* sc_error_r & co: the message, ": ", then sc_err(r); levels still apply. */
static void
test_log_r(void **state)
{
	char *out, want[256];

	(void)state;
	out = capture(log_with_code);
	snprintf(want, sizeof(want), "t: log_with_code: keystore /k: %s\n"
	    "t: log_with_code: plain: %s\n", sc_err(SC_ERR_NOTFOUND),
	    sc_err(SC_ERR_PERM));
	assert_string_equal(out, want);
}

static void
test_fatal(void **state)
{
	int fds[2], status;
	pid_t pid;
	char buf[256];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		sc_log_init("fatal-test", SC_LOG_INFO, SC_LOG_TO_STDERR);
		sc_die(7, "cannot go on: %s", "reason");
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	assert_string_equal(buf, "fatal-test: test_fatal: cannot go on: reason\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_basic),
		cmocka_unit_test(test_sanitize_control),
		cmocka_unit_test(test_sanitize_truncation),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_truncation),
		cmocka_unit_test(test_log_r),
		cmocka_unit_test(test_fatal),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
