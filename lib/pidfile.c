/*
 * pidfile.c — pid file locks and live-socket detection (see pidfile.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "io.h"
#include "pidfile.h"

#define PID_TEXT_MAX	32
#define LOCK_TRIES	8

static long
read_pid(int fd)
{
	char buf[PID_TEXT_MAX];
	ssize_t n;
	char *end;
	long v;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || v <= 0)
		return 0;
	return v;
}

int
sc_pidfile_update(int fd)
{
	char buf[PID_TEXT_MAX];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return SC_ERR_SYSTEM;
	(void)fsync(fd);
	return 0;
}

int
sc_pidfile_lock(const char *path, int *fdp, long *other)
{
	struct stat a, b;
	int fd, i, r;

	*fdp = -1;
	*other = 0;
	for (i = 0; i < LOCK_TRIES; i++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd == -1)
			return SC_ERR_SYSTEM;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			r = errno == EWOULDBLOCK ? SC_ERR_BUSY : SC_ERR_SYSTEM;
			if (r == SC_ERR_BUSY)
				*other = read_pid(fd);
			close(fd);
			return r;
		}
		/*
		 * The holder may have unlinked the file (exiting) between our
		 * open and our lock: then we locked a dead inode; start over.
		 */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			if (!S_ISREG(a.st_mode)) {
				close(fd);
				return SC_ERR_INVAL;
			}
			if (sc_pidfile_update(fd) < 0) {
				close(fd);
				return SC_ERR_SYSTEM;
			}
			*fdp = fd;
			return 0;
		}
		close(fd);
	}
	return SC_ERR_BUSY;
}

void
sc_pidfile_release(const char *path, int fd)
{
	if (fd < 0)
		return;
	(void)unlink(path);
	close(fd);
}

bool
sc_unix_socket_live(const char *path, int type)
{
	struct sockaddr_un sun;
	size_t pl = strlen(path);
	bool live;
	int fd;

	if (pl == 0 || pl >= sizeof(sun.sun_path))
		return false;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, pl);
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1)
		return false;
	/*
	 * ECONNREFUSED: nobody listens (stale).  EAGAIN: a full backlog, so
	 * somebody does.  A socket of the other type (EPROTOTYPE) is in use.
	 */
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
	    errno == EAGAIN || errno == EPROTOTYPE;
	close(fd);
	return live;
}
