/*
 * domains.c — sccrypt-hvsim's guests (sim.h): their ring pages and event
 * channels, starting, stopping and reaping the guest processes (guest.c
 * is what runs in them).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/ops.h"
#include "hv/core/hv.h"
#include "hv/core/ring.h"
#include "log.h"
#include "io.h"
#include "guest.h"
#include "sim.h"

struct sim_dom *
dom_by_id(uint32_t domid)
{
	unsigned i;

	for (i = 0; i < hvsim.ndom; i++)
		if (hvsim.dom[i].conf->domid == domid)
			return &hvsim.dom[i];
	return NULL;
}

void
hook_guest(void *arg, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(domid);
	ssize_t n;

	(void)arg;
	if (d == NULL || d->evfd < 0)
		return;
	do
		n = write(d->evfd, "k", 1);
	while (n == -1 && errno == EINTR);
	/* EAGAIN: a kick is already pending, which is all a kick means. */
}

void
guest_gone(struct sim_dom *d, const char *why)
{
	if (d->evfd >= 0) {
		close(d->evfd);
		d->evfd = -1;
	}
	if (sc_hv_domain_set_running(hvsim.hv, d->conf->domid, false) == 0)
		sc_warn("domain %s: guest stopped (%s)", d->conf->name, why);
	hook_dom0(NULL, d->conf->domid, 0, SC_EV_DOMAIN_GONE);
}

void
guest_event(struct sim_dom *d)
{
	uint8_t drain[256];
	ssize_t n;
	int r;

	while ((n = read(d->evfd, drain, sizeof(drain))) > 0)
		;
	if (n == 0) {
		guest_gone(d, "event channel closed");
		return;
	}
	r = sc_hv_guest_event(hvsim.hv, d->conf->domid);
	if (r == SC_ERR_CORRUPT && !d->corrupt_logged) {
		sc_warn("domain %s: guest corrupted its console ring; domain marked broken",
		    d->conf->name);
		d->corrupt_logged = true;
	} else if (r == 0)
		d->corrupt_logged = false;
}

int
start_guests(int verbose)
{
	struct hvsim_guest_args ga;
	int sv[2];
	unsigned i, j;
	pid_t pid;

	for (i = 0; i < hvsim.ndom; i++) {
		hvsim.dom[i].page = mmap(NULL, SC_RING_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (hvsim.dom[i].page == MAP_FAILED) {
			sc_error("mmap: %s", strerror(errno));
			return SC_ERR_SYSTEM;
		}
		sc_ring_reset(hvsim.dom[i].page);
		hvsim.dom[i].evfd = -1;
	}
	for (i = 0; i < hvsim.ndom; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
			sc_error("socketpair: %s", strerror(errno));
			return SC_ERR_SYSTEM;
		}
		if ((pid = fork()) == -1) {
			sc_error("fork: %s", strerror(errno));
			return SC_ERR_SYSTEM;
		}
		if (pid == 0) {
			/* The guest sees its own page and event channel, nothing else. */
			close(sv[0]);
			close(hvsim.sigfd);
			close(hvsim.epfd);
			if (hvsim.ready_fd >= 0)
				close(hvsim.ready_fd);
			for (j = 0; j < hvsim.ndom; j++) {
				if (j == i)
					continue;
				munmap(hvsim.dom[j].page, SC_RING_PAGE_SIZE);
				if (hvsim.dom[j].evfd >= 0)
					close(hvsim.dom[j].evfd);
			}
			memset(&ga, 0, sizeof(ga));
			ga.conf = hvsim.dom[i].conf;
			ga.ring = hvsim.dom[i].page;
			ga.evfd = sv[1];
			ga.verbose = verbose;
			hvsim_guest_main(&ga);
		}
		close(sv[1]);
		hvsim.dom[i].evfd = sv[0];
		hvsim.dom[i].guest = pid;
		if (sc_set_nonblock(sv[0], 1) != 0)
			return SC_ERR_SYSTEM;
	}
	return 0;
}

void
stop_guests(void)
{
	unsigned i, k;
	int status;

	for (i = 0; i < hvsim.ndom; i++)
		if (hvsim.dom[i].guest > 0)
			(void)kill(hvsim.dom[i].guest, SIGTERM);
	for (k = 0; k < 60; k++) {
		bool any = false;
		for (i = 0; i < hvsim.ndom; i++) {
			if (hvsim.dom[i].guest <= 0)
				continue;
			if (waitpid(hvsim.dom[i].guest, &status, WNOHANG) == hvsim.dom[i].guest)
				hvsim.dom[i].guest = -1;
			else
				any = true;
		}
		if (!any)
			return;
		usleep(50000);
	}
	for (i = 0; i < hvsim.ndom; i++)
		if (hvsim.dom[i].guest > 0) {
			(void)kill(hvsim.dom[i].guest, SIGKILL);
			(void)waitpid(hvsim.dom[i].guest, &status, 0);
		}
}

void
reap(void)
{
	unsigned i;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < hvsim.ndom; i++) {
			if (hvsim.dom[i].chk_pid == pid)
				hvsim.dom[i].chk_pid = -1;	/* result: its pipe */
			if (hvsim.dom[i].guest == pid) {
				hvsim.dom[i].guest = -1;
				guest_gone(&hvsim.dom[i], "guest process exited");
			}
		}
}
