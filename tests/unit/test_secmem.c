/*
 * test_secmem.c — core dumps off, guarded memory, wiping, constant-time
 * comparison.  Process-wide settings are tested in forked children.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "secmem.h"

static void
test_core_dumps_off(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl;

		if (sc_disable_core_dumps() != 0)
			_exit(1);
		if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
		    rl.rlim_max != 0)
			_exit(2);
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(3);
		/* Cannot be raised again. */
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		if (geteuid() != 0 && setrlimit(RLIMIT_CORE, &rl) == 0)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_secure_alloc(void **state)
{
	uint8_t *p;

	(void)state;
	p = sc_secure_alloc(100);
	assert_non_null(p);
	memset(p, 0x5a, 100);
	sc_memzero(p, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(sc_secure_readonly(p), 0);
	assert_int_equal(p[0], 0);	/* still readable */
	assert_int_equal(sc_secure_readwrite(p), 0);
	p[0] = 1;
	sc_secure_free(p);
	sc_secure_free(NULL);
	assert_non_null(p = sc_secure_alloc(0));
	sc_secure_free(p);
	assert_int_equal(sc_secure_readonly(NULL) < 0, 1);
}

/* A write to read-only guarded memory kills the process. */
static void
test_readonly_enforced(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile uint8_t *p = sc_secure_alloc(32);

		/* cmocka's handlers are inherited: restore the defaults. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		if (p == NULL || sc_secure_readonly((void *)p) != 0 ||
		    sc_disable_core_dumps() != 0)
			_exit(10);
		/* Keep an ASan build's expected SEGV report out of the log. */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(10);
		p[0] = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Killed by the fault, or (ASan build) exited through ASan's report. */
	if (WIFSIGNALED(status))
		assert_true(WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
	else {
		assert_true(WIFEXITED(status));
		assert_int_not_equal(WEXITSTATUS(status), 0);
		assert_int_not_equal(WEXITSTATUS(status), 10);
	}
}

static void
test_memeq_ct(void **state)
{
	uint8_t a[64], b[64];

	(void)state;
	memset(a, 7, sizeof(a));
	memset(b, 7, sizeof(b));
	assert_int_equal(sc_memeq_ct(a, b, sizeof(a)), 0);
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		assert_int_equal(sc_memeq_ct(a, b, sizeof(a)), -1);
		b[i] ^= 0x80;
	}
	assert_int_equal(sc_memeq_ct(a, b, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_dumps_off),
		cmocka_unit_test(test_secure_alloc),
		cmocka_unit_test(test_readonly_enforced),
		cmocka_unit_test(test_memeq_ct),
	};

	if (sc_lib_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("secmem", tests, NULL, NULL);
}
