/*
 * test_readpass.c — passphrase input.
 *
 * $SCCRYPT_PASSPHRASE_FD is tested in-process.  Terminal behaviour is tested
 * on a real pty (openpty): a "session leader" child makes the pty its
 * controlling terminal and runs a grandchild in its own foreground process
 * group (like a shell would), which calls sc_readpass.  The test plays the
 * user on the master side and inspects the pty's termios while the
 * grandchild reads: ECHO must be off while reading and back on afterwards,
 * also after SIGINT, after SIGTERM caught by the program, and while stopped
 * by SIGTSTP.  Every wait has a timeout; children are killed on failure.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#ifdef HAVE_PTY_H
#include <pty.h>
#endif
#ifdef HAVE_UTIL_H
#include <util.h>
#endif

#include <cmocka.h>

#include "core/err.h"
#include "readpass.h"
#include "secmem.h"

#define TIMEOUT_MS	10000

/* ---- $SCCRYPT_PASSPHRASE_FD ------------------------------------------ */

static int
feed(const char *data, size_t len)
{
	int fds[2];
	char num[16];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], data, len), (ssize_t)len);
	close(fds[1]);
	snprintf(num, sizeof(num), "%d", fds[0]);
	assert_int_equal(setenv("SCCRYPT_PASSPHRASE_FD", num, 1), 0);
	return fds[0];
}

static void
test_fd_lines(void **state)
{
	char *p;
	int err = 1, fd;
	static const char input[] = "hunter2\nsecond\r\n\nlast-no-newline";

	(void)state;
	fd = feed(input, sizeof(input) - 1);
	p = sc_readpass("unused: ", 0, &err);
	assert_non_null(p);
	assert_int_equal(err, 0);
	assert_string_equal(p, "hunter2");
	sc_secure_free(p);
	/* CONFIRM reads no second line from the descriptor. */
	p = sc_readpass("unused: ", SC_RP_CONFIRM, &err);
	assert_non_null(p);
	assert_string_equal(p, "second");	/* CR dropped */
	sc_secure_free(p);
	p = sc_readpass(NULL, 0, &err);
	assert_non_null(p);
	assert_string_equal(p, "");		/* empty line: empty passphrase */
	sc_secure_free(p);
	p = sc_readpass(NULL, 0, &err);
	assert_non_null(p);
	assert_string_equal(p, "last-no-newline");
	sc_secure_free(p);
	p = sc_readpass(NULL, 0, &err);
	assert_null(p);
	assert_int_equal(err, SC_ERR_EOF);
	close(fd);
	unsetenv("SCCRYPT_PASSPHRASE_FD");
}

static void
test_fd_limits(void **state)
{
	char *line, *p;
	int err, fd;

	(void)state;
	/* SC_PASS_MAX - 1 bytes fit; one more is refused, and the rest of
	 * that line is consumed so the next line is read correctly. */
	line = malloc(2 * SC_PASS_MAX + 16);
	assert_non_null(line);
	memset(line, 'a', SC_PASS_MAX - 1);
	line[SC_PASS_MAX - 1] = '\n';
	memset(line + SC_PASS_MAX, 'b', SC_PASS_MAX);
	line[2 * SC_PASS_MAX] = '\n';
	memcpy(line + 2 * SC_PASS_MAX + 1, "ok\n", 3);
	fd = feed(line, 2 * SC_PASS_MAX + 4);
	p = sc_readpass(NULL, 0, &err);
	assert_non_null(p);
	assert_int_equal(strlen(p), SC_PASS_MAX - 1);
	sc_secure_free(p);
	p = sc_readpass(NULL, 0, &err);
	assert_null(p);
	assert_int_equal(err, SC_ERR_TOOLONG);
	p = sc_readpass(NULL, 0, &err);
	assert_non_null(p);
	assert_string_equal(p, "ok");
	sc_secure_free(p);
	close(fd);
	free(line);

	/* Bad values of the variable. */
	assert_int_equal(setenv("SCCRYPT_PASSPHRASE_FD", "abc", 1), 0);
	assert_null(sc_readpass(NULL, 0, &err));
	assert_int_equal(err, SC_ERR_INVAL);
	assert_int_equal(setenv("SCCRYPT_PASSPHRASE_FD", "-1", 1), 0);
	assert_null(sc_readpass(NULL, 0, &err));
	assert_int_equal(err, SC_ERR_INVAL);
	assert_int_equal(setenv("SCCRYPT_PASSPHRASE_FD", "987", 1), 0);	/* closed */
	assert_null(sc_readpass(NULL, 0, &err));
	assert_int_equal(err, SC_ERR_INVAL);
	unsetenv("SCCRYPT_PASSPHRASE_FD");
}

/* ---- no terminal ------------------------------------------------------- */

/* In a new session without a controlling terminal, with stdin a pipe. */
static void
run_no_tty(int flags, const char *input, char *res, size_t ressz)
{
	int in[2], out[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	/* Queue the input first: the child may exit without reading it. */
	assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
	close(in[1]);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *p;
		int err = 0;

		close(out[0]);
		if (setsid() == -1 || dup2(in[0], 0) != 0 ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(2);
		unsetenv("SCCRYPT_PASSPHRASE_FD");
		p = sc_readpass("prompt: ", flags, &err);
		if (p != NULL)
			dprintf(out[1], "OK:%s", p);
		else
			dprintf(out[1], "ERR:%d", err);
		sc_secure_free(p);
		_exit(0);
	}
	close(in[0]);
	close(out[1]);
	n = read(out[0], res, ressz - 1);
	assert_true(n > 0);
	res[n] = '\0';
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_no_tty(void **state)
{
	char res[256];

	(void)state;
	run_no_tty(0, "pw\n", res, sizeof(res));
	assert_string_equal(res, "ERR:-19");	/* SC_ERR_NOTFOUND */
	run_no_tty(SC_RP_ALLOW_STDIN, "from stdin\n", res, sizeof(res));
	assert_string_equal(res, "OK:from stdin");
	run_no_tty(SC_RP_ALLOW_STDIN | SC_RP_CONFIRM, "a\nb\n", res, sizeof(res));
	assert_string_equal(res, "ERR:-28");	/* SC_ERR_MISMATCH */
	run_no_tty(SC_RP_ALLOW_STDIN | SC_RP_CONFIRM, "same\nsame\n", res, sizeof(res));
	assert_string_equal(res, "OK:same");
}

/* ---- real pty ---------------------------------------------------------- */

enum gc_mode { GC_PLAIN, GC_TERM_HANDLER };

struct pty_run {
	int	master, slave;	/* the test keeps the slave open to read termios */
	pid_t	leader, gc;
	int	note;		/* leader -> test: 'P' pid, 'S' stopped, 'X' status */
	int	res;		/* grandchild -> test: "OK:..." / "ERR:n[:h]" */
	char	out[8192];	/* everything the grandchild wrote to the pty */
	size_t	outlen;
};

static volatile sig_atomic_t gc_got_term;

static void
gc_term_handler(int s)
{
	(void)s;
	gc_got_term = 1;
}

static void
grandchild(struct pty_run *r, int resfd, int syncfd, int flags, enum gc_mode mode)
{
	char c, *p;
	int err = 0;

	alarm(60);	/* never outlive a failed test */
	/* Wait until the leader made our group the foreground one. */
	if (read(syncfd, &c, 1) != 1)
		_exit(3);
	close(syncfd);
	unsetenv("SCCRYPT_PASSPHRASE_FD");
	if (mode == GC_TERM_HANDLER) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = gc_term_handler;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
	}
	p = sc_readpass("Passphrase: ", flags, &err);
	if (p != NULL)
		dprintf(resfd, "OK:%s", p);
	else
		dprintf(resfd, "ERR:%d:%d", err, (int)gc_got_term);
	sc_secure_free(p);
	(void)r;
	_exit(0);
}

static void
leader(struct pty_run *r, int notefd, int resfd, int flags, enum gc_mode mode)
{
	int sync[2], status;
	pid_t gc;
	char c = 'g';

	alarm(60);
	close(r->master);
	if (setsid() == -1 || ioctl(r->slave, TIOCSCTTY, 0) == -1)
		_exit(2);
	if (pipe(sync) == -1)
		_exit(2);
	gc = fork();
	if (gc == -1)
		_exit(2);
	if (gc == 0) {
		close(sync[1]);
		close(notefd);
		setpgid(0, 0);
		grandchild(r, resfd, sync[0], flags, mode);
	}
	close(sync[0]);
	close(resfd);
	setpgid(gc, gc);
	signal(SIGTTOU, SIG_IGN);
	if (tcsetpgrp(r->slave, gc) == -1)
		_exit(2);
	if (write(notefd, "P", 1) != 1 || write(notefd, &gc, sizeof(gc)) != sizeof(gc) ||
	    write(sync[1], &c, 1) != 1)
		_exit(2);
	close(sync[1]);
	for (;;) {
		if (waitpid(gc, &status, WUNTRACED) == -1) {
			if (errno == EINTR)
				continue;
			_exit(2);
		}
		if (WIFSTOPPED(status)) {
			if (write(notefd, "S", 1) != 1)
				_exit(2);
			continue;
		}
		if (write(notefd, "X", 1) != 1 ||
		    write(notefd, &status, sizeof(status)) != sizeof(status))
			_exit(2);
		_exit(0);
	}
}

/* Read exactly n bytes from fd within the timeout, draining the master. */
static void
pump(struct pty_run *r, int fd, void *buf, size_t n)
{
	struct pollfd pfd[2];
	size_t have = 0;
	int waited = 0;
	ssize_t k;

	while (have < n) {
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = r->master;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, 100) < 0) {
			assert_int_equal(errno, EINTR);
			continue;
		}
		if (pfd[1].revents & POLLIN) {
			k = read(r->master, r->out + r->outlen,
			    sizeof(r->out) - 1 - r->outlen);
			if (k > 0) {
				r->outlen += (size_t)k;
				r->out[r->outlen] = '\0';
			}
		}
		if (fd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP))) {
			k = read(fd, (char *)buf + have, n - have);
			if (k <= 0)
				fail_msg("pipe closed early (%zd)", k);
			have += (size_t)k;
			continue;
		}
		if ((waited += 100) > TIMEOUT_MS)
			fail_msg("timed out; pty output so far: \"%s\"", r->out);
	}
}

/* Count occurrences of s in the pty output. */
static int
out_count(struct pty_run *r, const char *s)
{
	const char *p = r->out;
	int n = 0;

	while ((p = strstr(p, s)) != NULL) {
		n++;
		p += strlen(s);
	}
	return n;
}

/* Drain the master until the prompt has appeared n times in total. */
static void
wait_prompt(struct pty_run *r, int n)
{
	int waited = 0;

	while (out_count(r, "Passphrase: ") + out_count(r, "again: ") < n) {
		struct pollfd pfd = { .fd = r->master, .events = POLLIN };
		ssize_t k;

		if (poll(&pfd, 1, 100) > 0) {
			k = read(r->master, r->out + r->outlen,
			    sizeof(r->out) - 1 - r->outlen);
			if (k > 0) {
				r->outlen += (size_t)k;
				r->out[r->outlen] = '\0';
			}
		} else if ((waited += 100) > TIMEOUT_MS)
			fail_msg("no prompt; pty output so far: \"%s\"", r->out);
	}
}

static int
echo_on(struct pty_run *r)
{
	struct termios t;

	assert_int_equal(tcgetattr(r->slave, &t), 0);
	return (t.c_lflag & ECHO) != 0;
}

static void
start(struct pty_run *r, int flags, enum gc_mode mode)
{
	int note[2], res[2];
	char c;

	memset(r, 0, sizeof(*r));
	assert_int_equal(openpty(&r->master, &r->slave, NULL, NULL, NULL), 0);
	assert_true(echo_on(r));	/* the pty starts in cooked mode with echo */
	assert_int_equal(pipe(note), 0);
	assert_int_equal(pipe(res), 0);
	r->leader = fork();
	assert_true(r->leader >= 0);
	if (r->leader == 0) {
		/*
		 * The tests rely on the default actions of the job-control
		 * signals; a test run started in the background by a shell
		 * without job control inherits SIGINT and SIGQUIT ignored.
		 */
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		close(note[0]);
		close(res[0]);
		leader(r, note[1], res[1], flags, mode);
		_exit(2);
	}
	close(note[1]);
	close(res[1]);
	r->note = note[0];
	r->res = res[0];
	pump(r, r->note, &c, 1);
	assert_int_equal(c, 'P');
	pump(r, r->note, &r->gc, sizeof(r->gc));
}

/* Wait for the grandchild's end; returns its wait status. */
static int
finish(struct pty_run *r, char *res, size_t ressz)
{
	char c;
	int status, lstatus;
	ssize_t n;

	pump(r, r->note, &c, 1);
	assert_int_equal(c, 'X');
	pump(r, r->note, &status, sizeof(status));
	assert_int_equal(waitpid(r->leader, &lstatus, 0), r->leader);
	assert_true(WIFEXITED(lstatus) && WEXITSTATUS(lstatus) == 0);
	n = read(r->res, res, ressz - 1);
	res[n > 0 ? n : 0] = '\0';
	close(r->note);
	close(r->res);
	return status;
}

static void
cleanup(struct pty_run *r)
{
	close(r->master);
	close(r->slave);
}

static void
type_line(struct pty_run *r, const char *s)
{
	assert_int_equal(write(r->master, s, strlen(s)), (ssize_t)strlen(s));
}

static void
test_pty_echo_off(void **state)
{
	struct pty_run r;
	char res[256];
	int st;

	(void)state;
	start(&r, 0, GC_PLAIN);
	wait_prompt(&r, 1);
	assert_false(echo_on(&r));
	type_line(&r, "s3cret pass\n");
	st = finish(&r, res, sizeof(res));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(res, "OK:s3cret pass");
	assert_true(echo_on(&r));
	/* The passphrase never appeared on the terminal. */
	assert_null(strstr(r.out, "s3cret"));
	cleanup(&r);
}

static void
test_pty_confirm(void **state)
{
	struct pty_run r;
	char res[256];

	(void)state;
	start(&r, SC_RP_CONFIRM, GC_PLAIN);
	wait_prompt(&r, 1);
	assert_false(echo_on(&r));
	type_line(&r, "abc\n");
	wait_prompt(&r, 2);
	assert_false(echo_on(&r));
	type_line(&r, "abc\n");
	finish(&r, res, sizeof(res));
	assert_string_equal(res, "OK:abc");
	assert_true(echo_on(&r));
	cleanup(&r);

	start(&r, SC_RP_CONFIRM, GC_PLAIN);
	wait_prompt(&r, 1);
	type_line(&r, "abc\n");
	wait_prompt(&r, 2);
	type_line(&r, "abd\n");
	finish(&r, res, sizeof(res));
	assert_string_equal(res, "ERR:-28:0");
	assert_true(echo_on(&r));
	cleanup(&r);
}

/* Ctrl-D on an empty line: end of input. */
static void
test_pty_eof(void **state)
{
	struct pty_run r;
	char res[256];

	(void)state;
	start(&r, 0, GC_PLAIN);
	wait_prompt(&r, 1);
	type_line(&r, "\x04");
	finish(&r, res, sizeof(res));
	assert_string_equal(res, "ERR:-31:0");
	assert_true(echo_on(&r));
	cleanup(&r);
}

/* SIGINT with the default action: the process dies, the terminal is sane. */
static void
test_pty_sigint(void **state)
{
	struct pty_run r;
	char res[256];
	int st;

	(void)state;
	start(&r, 0, GC_PLAIN);
	wait_prompt(&r, 1);
	type_line(&r, "partial");	/* typed but not entered */
	assert_false(echo_on(&r));
	assert_int_equal(kill(r.gc, SIGINT), 0);
	st = finish(&r, res, sizeof(res));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGINT);
	assert_string_equal(res, "");
	assert_true(echo_on(&r));
	cleanup(&r);
}

/* Also when the signal comes from the terminal (^C typed by the user). */
static void
test_pty_ctrl_c(void **state)
{
	struct pty_run r;
	char res[256];
	int st;

	(void)state;
	start(&r, 0, GC_PLAIN);
	wait_prompt(&r, 1);
	type_line(&r, "\x03");
	st = finish(&r, res, sizeof(res));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGINT);
	assert_true(echo_on(&r));
	cleanup(&r);
}

/* SIGTERM caught by the program: its handler runs, sc_readpass cancels. */
static void
test_pty_sigterm_handler(void **state)
{
	struct pty_run r;
	char res[256];
	int st;

	(void)state;
	start(&r, 0, GC_TERM_HANDLER);
	wait_prompt(&r, 1);
	assert_int_equal(kill(r.gc, SIGTERM), 0);
	st = finish(&r, res, sizeof(res));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(res, "ERR:-33:1");	/* SC_ERR_CANCELLED, handler ran */
	assert_true(echo_on(&r));
	cleanup(&r);
}

/* SIGTSTP: echo restored while stopped, prompt again after SIGCONT. */
static void
test_pty_sigtstp(void **state)
{
	struct pty_run r;
	char res[256], c;

	(void)state;
	start(&r, 0, GC_PLAIN);
	wait_prompt(&r, 1);
	assert_false(echo_on(&r));
	assert_int_equal(kill(r.gc, SIGTSTP), 0);
	pump(&r, r.note, &c, 1);
	assert_int_equal(c, 'S');
	assert_true(echo_on(&r));		/* stopped with a sane terminal */
	assert_int_equal(kill(r.gc, SIGCONT), 0);
	wait_prompt(&r, 2);
	assert_false(echo_on(&r));
	type_line(&r, "after stop\n");
	finish(&r, res, sizeof(res));
	assert_string_equal(res, "OK:after stop");
	assert_true(echo_on(&r));
	assert_null(strstr(r.out, "after stop"));
	cleanup(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_lines),
		cmocka_unit_test(test_fd_limits),
		cmocka_unit_test(test_no_tty),
		cmocka_unit_test(test_pty_echo_off),
		cmocka_unit_test(test_pty_confirm),
		cmocka_unit_test(test_pty_eof),
		cmocka_unit_test(test_pty_sigint),
		cmocka_unit_test(test_pty_ctrl_c),
		cmocka_unit_test(test_pty_sigterm_handler),
		cmocka_unit_test(test_pty_sigtstp),
	};

	if (sc_lib_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("readpass", tests, NULL, NULL);
}
