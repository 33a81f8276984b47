/*
 * test_io.c — I/O helpers: full reads/writes on non-blocking pipes,
 * descriptor flags, capped whole-file reads, atomic writes.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "io.h"

static char tmpdir[256];

static void
path_in(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s", tmpdir, name);
}

/* Entries in tmpdir other than . and .. */
static int
count_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

#define BIG	(1024 * 1024 + 7)

/* 1 MiB through a non-blocking pipe (forces EAGAIN + poll on both ends). */
static void
test_write_read_all_nonblocking(void **state)
{
	int fds[2], status;
	unsigned char *src, *dst;
	pid_t pid;
	size_t i;

	(void)state;
	src = malloc(BIG);
	dst = malloc(BIG);
	assert_non_null(src);
	assert_non_null(dst);
	for (i = 0; i < BIG; i++)
		src[i] = (unsigned char)(i * 7 + (i >> 9));
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(sc_set_nonblock(fds[0], 1), 0);
	assert_int_equal(sc_set_nonblock(fds[1], 1), 0);
	assert_true(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(sc_write_all(fds[1], src, BIG) == 0 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(sc_read_all(fds[0], dst, BIG), 0);
	assert_memory_equal(src, dst, BIG);
	/* Writer is gone: EOF. */
	assert_int_equal(sc_read_all(fds[0], dst, 1), SC_ERR_EOF);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(src);
	free(dst);
}

static void
test_short_and_closed(void **state)
{
	int fds[2];
	char buf[8];
	void (*old)(int);

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(sc_write_all(fds[1], "abc", 3), 0);
	close(fds[1]);
	/* Only 3 of 8 bytes: EOF. */
	assert_int_equal(sc_read_all(fds[0], buf, 8), SC_ERR_EOF);
	close(fds[0]);
	/* Writing to a pipe without reader. */
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	old = signal(SIGPIPE, SIG_IGN);
	assert_int_equal(sc_write_all(fds[1], "abc", 3), SC_ERR_CLOSED);
	signal(SIGPIPE, old);
	close(fds[1]);
	/* Bad descriptor. */
	assert_int_equal(sc_write_all(-1, "abc", 3), SC_ERR_SYSTEM);
	assert_int_equal(sc_read_all(-1, buf, 3), SC_ERR_SYSTEM);
	assert_int_equal(sc_set_nonblock(-1, 1), SC_ERR_SYSTEM);
	assert_int_equal(sc_set_cloexec(-1), SC_ERR_SYSTEM);
	/* Zero-length operations succeed trivially. */
	assert_int_equal(sc_write_all(-1, "", 0), 0);
}

static void
test_flags(void **state)
{
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_false(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sc_set_cloexec(fds[0]), 0);
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(sc_set_nonblock(fds[0], 1), 0);
	assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	assert_int_equal(sc_set_nonblock(fds[0], 0), 0);
	assert_false(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	close(fds[0]);
	close(fds[1]);
}

static void
test_read_file_cap(void **state)
{
	char path[512];
	unsigned char *data = NULL;
	size_t len = 0;

	(void)state;
	path_in(path, sizeof(path), "f");
	assert_int_equal(sc_write_file_atomic(path, "0123456789", 10, 0644), 0);
	assert_int_equal(sc_read_file(path, 10, &data, &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(data, "0123456789", 10);
	assert_int_equal(data[10], '\0');	/* terminated for text use */
	free(data);
	data = (unsigned char *)1;
	assert_int_equal(sc_read_file(path, 9, &data, &len), SC_ERR_TOOLONG);
	assert_null(data);
	assert_int_equal(sc_read_file(path, 0, &data, &len), SC_ERR_TOOLONG);
	/* Empty file. */
	assert_int_equal(sc_write_file_atomic(path, "", 0, 0644), 0);
	assert_int_equal(sc_read_file(path, 0, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(data[0], '\0');
	free(data);
	unlink(path);
	/* Missing, directory, non-regular. */
	path_in(path, sizeof(path), "missing");
	assert_int_equal(sc_read_file(path, 100, &data, &len), SC_ERR_NOTFOUND);
	assert_int_equal(sc_read_file(tmpdir, 100, &data, &len), SC_ERR_TYPE);
	assert_int_equal(sc_read_file("/dev/null", 100, &data, &len), SC_ERR_TYPE);
	/* A FIFO planted where a file should be: refused, not waited on. */
	path_in(path, sizeof(path), "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);	/* a hang kills the test */
	assert_int_equal(sc_read_file(path, 100, &data, &len), SC_ERR_TYPE);
	alarm(0);
	unlink(path);
}

static void
test_write_atomic_modes(void **state)
{
	char path[512];
	struct stat st;
	unsigned char *data;
	size_t len;
	mode_t old;

	(void)state;
	path_in(path, sizeof(path), "atomic");
	/* Exactly the requested mode, whatever the umask. */
	old = umask(077);
	assert_int_equal(sc_write_file_atomic(path, "one", 3, 0644), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	umask(0);
	assert_int_equal(sc_write_file_atomic(path, "two!", 4, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(old);
	/* The content was replaced as a whole. */
	assert_int_equal(sc_read_file(path, 100, &data, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "two!", 4);
	free(data);
	/* No temporary files are left behind. */
	assert_int_equal(count_entries(), 1);
	unlink(path);
}

static void
test_write_atomic_failures(void **state)
{
	char path[1024], sub[512];

	(void)state;
	/* Missing directory. */
	path_in(path, sizeof(path), "nodir/file");
	assert_int_equal(sc_write_file_atomic(path, "x", 1, 0600), SC_ERR_NOTFOUND);
	/* Target is a directory: rename fails, the directory stays, no temp left. */
	path_in(sub, sizeof(sub), "adir");
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/inner", sub);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(sc_write_file_atomic(sub, "x", 1, 0600) < 0);
	assert_int_equal(count_entries(), 1);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(sc_write_file_atomic("", "x", 1, 0600), SC_ERR_INVAL);
	assert_int_equal(sc_write_file_atomic(NULL, "x", 1, 0600), SC_ERR_INVAL);
	/* Read-only directory (not enforced for root). */
	if (geteuid() != 0) {
		path_in(sub, sizeof(sub), "ro");
		assert_int_equal(mkdir(sub, 0500), 0);
		snprintf(path, sizeof(path), "%s/f", sub);
		assert_int_equal(sc_write_file_atomic(path, "x", 1, 0600), SC_ERR_PERM);
		assert_int_equal(rmdir(sub), 0);
	}
	assert_int_equal(count_entries(), 0);
}

static void
test_now_ms(void **state)
{
	unsigned long long a, b;

	(void)state;
	a = sc_now_ms();
	b = sc_now_ms();
	assert_true(a > 0);
	assert_true(b >= a);
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sccrypt-test_io.XXXXXX",
	    t != NULL && t[0] == '/' ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Whole-string, bounded, unsigned: what every option parser relies on. */
static void
test_parse_ulong(void **state)
{
	unsigned long v = 7;

	(void)state;
	assert_int_equal(sc_parse_ulong("65536", 10, 0, 70000, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(sc_parse_ulong("0x10", 0, 0, 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(sc_parse_ulong("0", 10, 0, 0, &v), 0);
	assert_int_equal(v, 0);
	v = 7;
	assert_int_equal(sc_parse_ulong("", 10, 0, 100, &v), SC_ERR_FORMAT);
	assert_int_equal(sc_parse_ulong("abc", 10, 0, 100, &v), SC_ERR_FORMAT);
	assert_int_equal(sc_parse_ulong("12x", 10, 0, 100, &v), SC_ERR_FORMAT);
	assert_int_equal(sc_parse_ulong("-1", 10, 0, ULONG_MAX, &v), SC_ERR_FORMAT);
	assert_int_equal(sc_parse_ulong("+1", 10, 0, 100, &v), SC_ERR_FORMAT);
	assert_int_equal(sc_parse_ulong(" 1", 10, 0, 100, &v), SC_ERR_FORMAT);
	assert_int_equal(sc_parse_ulong("0x10", 10, 0, 100, &v), SC_ERR_FORMAT);
	assert_int_equal(sc_parse_ulong("101", 10, 0, 100, &v), SC_ERR_TOOLONG);
	assert_int_equal(sc_parse_ulong("4", 10, 5, 100, &v), SC_ERR_TOOLONG);
	assert_int_equal(sc_parse_ulong("99999999999999999999999", 10, 0,
	    ULONG_MAX, &v), SC_ERR_TOOLONG);
	assert_int_equal(v, 7);		/* failures leave *out alone */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_all_nonblocking),
		cmocka_unit_test(test_short_and_closed),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_read_file_cap),
		cmocka_unit_test(test_write_atomic_modes),
		cmocka_unit_test(test_write_atomic_failures),
		cmocka_unit_test(test_now_ms),
		cmocka_unit_test(test_parse_ulong),
	};

	return cmocka_run_group_tests_name("io", tests, setup, teardown);
}
