/*
 * proccpu.c — CPU time of other processes from /proc (see proccpu.h).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proccpu.h"

void
proccpu_init(struct proccpu *s)
{
	s->n = 0;
}

int
proccpu_add(struct proccpu *s, pid_t pid)
{
	char path[64];
	int fd, i;

	for (i = 0; i < s->n; i++)
		if (s->pid[i] == pid)
			return 0;
	if (s->n == PROCCPU_MAX)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((s->iofd[s->n] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		close(fd);
		return -1;
	}
	s->fd[s->n] = fd;
	s->pid[s->n++] = pid;
	return 0;
}

/* Field of a "name: value" line of /proc/PID/io, 0 if absent. */
static uint64_t
io_field(const char *buf, const char *name)
{
	const char *p = strstr(buf, name);

	return p == NULL ? 0 : strtoull(p + strlen(name), NULL, 10);
}

void
proccpu_read(const struct proccpu *s, struct proccpu_val *v)
{
	char buf[512], *end;
	ssize_t n;
	int i;

	v->ns = v->runs = v->syscalls = 0;
	for (i = 0; i < s->n; i++) {
		/* Exited processes read nothing: their counts no longer grow. */
		if ((n = pread(s->fd[i], buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			v->ns += strtoull(buf, &end, 10);
			(void)strtoull(end, &end, 10);		/* run-queue wait */
			v->runs += strtoull(end, NULL, 10);
		}
		if ((n = pread(s->iofd[i], buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			v->syscalls += io_field(buf, "syscr: ") +
			    io_field(buf, "syscw: ");
		}
	}
}

void
proccpu_close(struct proccpu *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		close(s->fd[i]);
		close(s->iofd[i]);
	}
	s->n = 0;
}

/* ppid and command name of pid from /proc/PID/stat; -1 if it is gone. */
static int
proc_stat(pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
	char path[64], buf[512], *l, *r;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "PID (COMM) S PPID ...": COMM may hold spaces and parentheses. */
	if ((l = strchr(buf, '(')) == NULL || (r = strrchr(buf, ')')) == NULL ||
	    r < l)
		return -1;
	snprintf(comm, commlen, "%.*s", (int)(r - l - 1), l + 1);
	if (sscanf(r + 1, " %*c %d", ppid) != 1)
		return -1;
	return 0;
}

/* Calls fn(arg, pid) for every process; stops early when fn returns < 0. */
static void
each_pid(int (*fn)(void *, pid_t), void *arg)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (fn(arg, (pid_t)atoi(de->d_name)) < 0)
			break;
	}
	closedir(d);
}

struct tree_walk {
	struct proccpu	*s;
	const char	*skip;
	pid_t		 root;
	int		 added;
};

static bool
descends_from(pid_t pid, pid_t root)
{
	char comm[64];
	pid_t pp;
	int depth;

	for (depth = 0; depth < 64 && pid > 1; depth++) {
		if (pid == root)
			return true;
		if (proc_stat(pid, &pp, comm, sizeof(comm)) != 0)
			return false;
		pid = pp;
	}
	return false;
}

static int
tree_one(void *arg, pid_t pid)
{
	struct tree_walk *w = arg;
	char comm[64];
	pid_t pp;

	if (proc_stat(pid, &pp, comm, sizeof(comm)) != 0 ||
	    strcmp(comm, w->skip) == 0 || !descends_from(pid, w->root))
		return 0;
	if (proccpu_add(w->s, pid) == 0)
		w->added++;
	return 0;
}

int
proccpu_add_tree(struct proccpu *s, pid_t root, const char *skip_comm)
{
	struct tree_walk w = { s, skip_comm, root, 0 };

	each_pid(tree_one, &w);
	return w.added;
}

struct forced_walk {
	struct proccpu	*s;
	const char	*comm;
	const char	*cmd;
	int		 added;
};

/* SSH_ORIGINAL_COMMAND of pid into out; -1 if unreadable or unset. */
static int
original_command(pid_t pid, char *out, size_t outlen)
{
	static const char key[] = "SSH_ORIGINAL_COMMAND=";
	char path[64], buf[16384];
	size_t n, i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (i = 0; i < n; i += strlen(buf + i) + 1)
		if (strncmp(buf + i, key, sizeof(key) - 1) == 0) {
			snprintf(out, outlen, "%s", buf + i + sizeof(key) - 1);
			return 0;
		}
	return -1;
}

static int
forced_one(void *arg, pid_t pid)
{
	struct forced_walk *w = arg;
	char comm[64], orig[256];
	const char *p;
	size_t len;
	pid_t pp;

	if (proc_stat(pid, &pp, comm, sizeof(comm)) != 0 ||
	    strcmp(comm, w->comm) != 0 ||
	    original_command(pid, orig, sizeof(orig)) != 0 ||
	    (len = strlen(orig)) == 0)
		return 0;
	for (p = w->cmd; (p = strstr(p, orig)) != NULL; p++)
		if (p > w->cmd && p[-1] == ' ' && (p[len] == ' ' || p[len] == '\0')) {
			if (proccpu_add(w->s, pid) == 0)
				w->added++;
			break;
		}
	return 0;
}

int
proccpu_add_forced(struct proccpu *s, const char *comm, const char *cmd)
{
	struct forced_walk w = { s, comm, cmd, 0 };

	each_pid(forced_one, &w);
	return w.added;
}
