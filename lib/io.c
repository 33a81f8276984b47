/*
 * io.c — small I/O helpers for user-space programs.
 *
 * All functions return 0 (or a count) on success and a negative SC_ERR_*
 * code on failure, with errno left as the failing system call set it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "io.h"

/* Map errno of a failed open/stat to an error code. */
static int
sc_errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return SC_ERR_NOTFOUND;
	case EACCES:
	case EPERM:
		return SC_ERR_PERM;
	case ENOMEM:
		return SC_ERR_ALLOC;
	case ENAMETOOLONG:
		return SC_ERR_TOOLONG;
	case ENOSPC:
	case EDQUOT:
		return SC_ERR_DISKFULL;
	default:
		return SC_ERR_SYSTEM;
	}
}

/* Wait until fd is ready for events (after EAGAIN on a non-blocking fd). */
static int
sc_wait_fd(int fd, short events)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	for (;;) {
		if (poll(&pfd, 1, -1) >= 0)
			return 0;
		if (errno != EINTR && errno != EAGAIN)
			return SC_ERR_SYSTEM;
	}
}

int
sc_write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	ssize_t w;
	int r;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = sc_wait_fd(fd, POLLOUT)) < 0)
					return r;
				continue;
			}
			return errno == EPIPE ? SC_ERR_CLOSED : SC_ERR_SYSTEM;
		}
		if (w == 0) {
			errno = EIO;
			return SC_ERR_SYSTEM;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* SC_ERR_EOF if the stream ends before n bytes (what was read is lost). */
int
sc_read_all(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t rd;
	int r;

	while (n > 0) {
		rd = read(fd, p, n);
		if (rd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = sc_wait_fd(fd, POLLIN)) < 0)
					return r;
				continue;
			}
			return SC_ERR_SYSTEM;
		}
		if (rd == 0)
			return SC_ERR_EOF;
		p += rd;
		n -= (size_t)rd;
	}
	return 0;
}

int
sc_set_nonblock(int fd, int on)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return SC_ERR_SYSTEM;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) == -1)
		return SC_ERR_SYSTEM;
	return 0;
}

int
sc_set_cloexec(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return SC_ERR_SYSTEM;
	if (fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		return SC_ERR_SYSTEM;
	return 0;
}

/*
 * Read a whole regular file of at most max bytes.  *out is malloc'd with one
 * extra NUL byte after the data (not counted in *len), so text files can be
 * used as strings.  SC_ERR_NOTFOUND, SC_ERR_PERM, SC_ERR_TOOLONG (larger
 * than max), SC_ERR_TYPE (not a regular file), SC_ERR_ALLOC, SC_ERR_SYSTEM.
 * Not for secrets: use the key-file functions, which read into guarded memory.
 */
int
sc_read_file(const char *path, size_t max, unsigned char **out, size_t *len)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t cap, have = 0;
	ssize_t rd;
	int fd, r, e;

	if (path == NULL || out == NULL || len == NULL || max >= SIZE_MAX - 1)
		return SC_ERR_INVAL;
	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO at path must be refused below, not block open(). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return sc_errno_code(errno);
	if (fstat(fd, &st) == -1) {
		r = sc_errno_code(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = SC_ERR_TYPE;
		goto fail;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		r = SC_ERR_TOOLONG;
		goto fail;
	}
	/* The size may change under us: read up to max + 1 bytes to detect it. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		r = SC_ERR_ALLOC;
		goto fail;
	}
	for (;;) {
		if (have == cap) {
			unsigned char *nb;
			size_t ncap;

			if (have > max)
				break;
			ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((nb = realloc(buf, ncap + 1)) == NULL) {
				r = SC_ERR_ALLOC;
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		rd = read(fd, buf + have, cap - have);
		if (rd < 0) {
			if (errno == EINTR)
				continue;
			r = SC_ERR_SYSTEM;
			goto fail;
		}
		if (rd == 0)
			break;
		have += (size_t)rd;
	}
	if (have > max) {
		r = SC_ERR_TOOLONG;
		goto fail;
	}
	buf[have] = '\0';
	close(fd);
	*out = buf;
	*len = have;
	return 0;
 fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return r;
}

/* fsync the directory holding path so a rename is durable. */
static void
sc_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash;
	size_t n;
	int fd;

	if ((slash = strrchr(path, '/')) == NULL) {
		strcpy(dir, ".");
	} else {
		n = (size_t)(slash - path);
		if (n == 0)
			n = 1;	/* "/file" */
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/*
 * Write path atomically: a temporary file "path.tmp.XXXXXX" in the same
 * directory is created with mode 0600, filled, fchmod'ed to exactly mode
 * (the umask does not apply), fsync'ed and renamed over path; then the
 * directory is fsync'ed.  On any failure the temporary file is removed and
 * path is left as it was.
 */
int
sc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, r, e;
	size_t plen;

	if (path == NULL || (data == NULL && len > 0))
		return SC_ERR_INVAL;
	plen = strlen(path);
	if (plen == 0)
		return SC_ERR_INVAL;
	if (plen + sizeof(".tmp.XXXXXX") > sizeof(tmp))
		return SC_ERR_TOOLONG;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return sc_errno_code(errno);
	if (fchmod(fd, mode) == -1 ||
	    (r = sc_write_all(fd, data, len)) < 0 ||
	    fsync(fd) == -1) {
		r = sc_errno_code(errno);	/* ENOSPC: say "disk full" */
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		r = sc_errno_code(errno);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		r = sc_errno_code(errno);
		goto fail;
	}
	sc_fsync_parent(path);
	return 0;
 fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = e;
	return r;
}

int
sc_parse_ulong(const char *s, int base, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' ||
	    isspace((unsigned char)*s))
		return SC_ERR_FORMAT;
	errno = 0;
	v = strtoul(s, &end, base);
	if (*end != '\0')
		return SC_ERR_FORMAT;
	if (errno == ERANGE || v < min || v > max)
		return SC_ERR_TOOLONG;
	*out = v;
	return 0;
}

unsigned long long
sc_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL;
}

unsigned long long
sc_now_ms(void)
{
	return sc_now_us() / 1000ULL;
}

uint64_t
sc_blob_generation_now(void)
{
	struct timespec ts;
	uint64_t us;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 || ts.tv_sec < 0)
		return 1;
	us = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
	return us > 0 ? us : 1;
}
