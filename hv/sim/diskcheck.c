/*
 * diskcheck.c — the hv's disk-key check for PROTECT (sim.h).
 *
 * Disk-key checks (libcryptsetup, tens of ms each) run in a child process,
 * one per domain at a time and CHK_MAX at once, so that no domain's PROTECT
 * stalls the ops of the others.  PROTECT answers SC_ERR_AGAIN until the
 * result is in; the same key then gets it (kept CHK_KEEP_MS; a check
 * that hangs, e.g. on a dead NFS image, is killed after CHK_TIMEOUT_MS and
 * counts as failed).  The last CHK_BAD refused keys of each domain are
 * remembered (keyed hash) and refused again without a check.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "hv/core/hv.h"
#include "log.h"
#include "io.h"
#include "platform.h"
#include "sim.h"

#define CHK_MAX		4
#define CHK_KEEP_MS	2000
#define CHK_TIMEOUT_MS	30000	/* a check still running then is killed */

/* Start checking key against d's disk in a child; SC_ERR_AGAIN or an error. */
static int
chk_start(struct sim_dom *d, const uint8_t *key, size_t len,
    const uint8_t h[CHK_HASH_LEN])
{
	int p[2], r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return SC_ERR_SYSTEM;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return SC_ERR_SYSTEM;
	}
	if (pid == 0) {
		/* The checker: libcryptsetup, one int back, nothing else. */
		close(p[0]);
		r = hvsim_disk_check(d->conf->disk, key, len);
		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	if (sc_set_nonblock(p[0], 1) != 0 ||
	    ep_add(p[0], EP_KEY(EP_CHK, (unsigned)(d - hvsim.dom))) != 0) {
		close(p[0]);
		(void)kill(pid, SIGKILL);
		return SC_ERR_SYSTEM;	/* reap() collects the child */
	}
	d->chk = CHK_RUNNING;
	d->chk_done_ms = sc_now_ms();
	d->chk_pid = pid;
	d->chk_fd = p[0];
	memcpy(d->chk_hash, h, CHK_HASH_LEN);
	hvsim.nchk++;
	return SC_ERR_AGAIN;
}

/* A check finished (or its child died): keep the result for the retry. */
void
chk_finished(struct sim_dom *d)
{
	ssize_t n;
	int r = SC_ERR_SYSTEM;

	do
		n = read(d->chk_fd, &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;			/* spurious: not yet */
	if (n != (ssize_t)sizeof(r) || r > 0)
		r = SC_ERR_SYSTEM;
	close(d->chk_fd);
	d->chk_fd = -1;
	d->chk = CHK_DONE;
	d->chk_result = r;
	d->chk_done_ms = sc_now_ms();
	hvsim.nchk--;
	sc_info("domain %s: disk key %s", d->conf->name,
	    r == 0 ? "verified" : r == SC_ERR_DISKKEY ? "rejected" : "check failed");
}

static bool
chk_known_bad(const struct sim_dom *d, const uint8_t h[CHK_HASH_LEN])
{
	bool bad = false;
	unsigned i;

	for (i = 0; i < d->nbad; i++)
		if (sodium_memcmp(d->bad[i], h, CHK_HASH_LEN) == 0)
			bad = true;
	return bad;
}

int
hook_disk(void *arg, uint32_t domid, const uint8_t uuid[SC_UUID_LEN],
    const uint8_t *key, size_t len)
{
	struct sim_dom *d = dom_by_id(domid);
	uint8_t h[CHK_HASH_LEN];
	int r;

	(void)arg;
	(void)uuid;
	if (d == NULL)
		return SC_ERR_NOTFOUND;
	if (d->conf->disk[0] == '\0') {
		sc_warn("domain %s: no disk configured: cannot be protected",
		    d->conf->name);
		return SC_ERR_UNSUPPORTED;
	}
	crypto_generichash(h, sizeof(h), key, len, hvsim.chk_key, CHK_HASH_LEN);
	if (chk_known_bad(d, h)) {
		sc_info("domain %s: disk key rejected (refused before)", d->conf->name);
		return SC_ERR_DISKKEY;
	}
	if (d->chk == CHK_DONE) {
		if (sodium_memcmp(d->chk_hash, h, CHK_HASH_LEN) == 0) {
			d->chk = CHK_IDLE;
			r = d->chk_result;
			if (r == SC_ERR_DISKKEY) {
				memcpy(d->bad[d->bad_next], h, CHK_HASH_LEN);
				d->bad_next = (d->bad_next + 1) % CHK_BAD;
				if (d->nbad < CHK_BAD)
					d->nbad++;
			}
			return r;
		}
		if (sc_now_ms() - d->chk_done_ms < CHK_KEEP_MS)
			return SC_ERR_AGAIN;	/* another key's result is unclaimed */
		d->chk = CHK_IDLE;
	}
	if (d->chk == CHK_RUNNING) {
		if (sc_now_ms() - d->chk_done_ms >= CHK_TIMEOUT_MS && d->chk_pid > 0) {
			sc_warn("domain %s: disk check hangs; killed", d->conf->name);
			(void)kill(d->chk_pid, SIGKILL);	/* its pipe ends: failed */
		}
		return SC_ERR_AGAIN;
	}
	if (hvsim.nchk >= CHK_MAX)
		return SC_ERR_AGAIN;
	return chk_start(d, key, len, h);
}
