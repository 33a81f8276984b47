/*
 * ctlog.c — the ciphertext log (see ctlog.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "io.h"
#include "log.h"
#include "conf.h"
#include "ctlog.h"

#define CTLOG_HDR_LEN	11		/* dir, ts_ms, len */
#define CTLOG_PATH_MAX	(SC_CONF_PATH_MAX + SC_VMNAME_MAX + 16)

void
sc_ctlog_init(struct sc_ctlog *l)
{
	l->fd = -1;
	l->size = 0;
}

void
sc_ctlog_close(struct sc_ctlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void
sc_ctlog_retry(struct sc_ctlog *l)
{
	if (l->fd == -2)
		l->fd = -1;
}

static int
ctlog_open(struct sc_ctlog *l, const char *dir, const char *name)
{
	char path[CTLOG_PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s" SC_CTLOG_SUFFIX, dir, name);
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (l->fd < 0 || fstat(l->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sc_warn("cannot open ciphertext log for %s: %s", name,
		    strerror(errno));
		sc_ctlog_close(l);
		l->fd = -2;		/* do not retry until the next rescan */
		return SC_ERR_SYSTEM;
	}
	l->size = (uint64_t)st.st_size;
	return 0;
}

void
sc_ctlog_append(struct sc_ctlog *l, const char *dir, uint64_t max_bytes,
    const char *name, uint8_t direction, uint64_t ts_ms, const uint8_t *ct,
    size_t len)
{
	uint8_t mem[CTLOG_HDR_LEN + SC_RECORD_CT_MAX];
	char a[CTLOG_PATH_MAX], b[sizeof(a) + 2];
	struct sc_buf e;

	if (dir[0] == '\0' || l->fd == -2 || len > SC_RECORD_CT_MAX)
		return;
	if (l->fd < 0 && ctlog_open(l, dir, name) < 0)
		return;
	if (l->size + sizeof(mem) > max_bytes) {
		snprintf(a, sizeof(a), "%s/%s" SC_CTLOG_SUFFIX, dir, name);
		snprintf(b, sizeof(b), "%s.1", a);
		sc_ctlog_close(l);
		if (rename(a, b) < 0)
			sc_warn("cannot rotate ciphertext log of %s: %s", name,
			    strerror(errno));
		if (ctlog_open(l, dir, name) < 0)
			return;
	}
	sc_buf_init(&e, mem, sizeof(mem));
	if (sc_buf_put_u8(&e, direction) < 0 || sc_buf_put_u64(&e, ts_ms) < 0 ||
	    sc_buf_put_u16(&e, (uint16_t)len) < 0 || sc_buf_put_bytes(&e, ct, len) < 0)
		return;
	if (sc_write_all(l->fd, mem, e.len) < 0) {
		int err = errno;

		/* No torn entry at the end: the log stays whole entries. */
		if (ftruncate(l->fd, (off_t)l->size) < 0)
			sc_warn("ciphertext log of %s: cannot cut a partial entry: %s",
			    name, strerror(errno));
		sc_warn("ciphertext log of %s: write failed (%s); logging "
		    "stopped until the next domain rescan", name, strerror(err));
		sc_ctlog_close(l);
		l->fd = -2;
		return;
	}
	l->size += e.len;
}
