/*
 * web.c — `sccrypt-term web [DEST] VM [--html FILE] [--no-browser]
 * [--timeout S]`.  The page's code is the trust anchor of the web console,
 * so it must come from the tenant's machine, never from dom0 or the
 * provider (docs/web.md): this verb serves the installed sccrypt-web.html
 * on 127.0.0.1 at a random port, under a one-time 256-bit token in the
 * path, to the first request that presents it with the right Host header
 * (DNS rebinding), then exits.  The gateway URL, VM and host name go in the
 * URL's fragment, which the browser never sends anywhere.  The browser is
 * started with $BROWSER or xdg-open unless --no-browser.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/frame.h"
#include "web.h"
#include "secmem.h"

#ifndef SC_WEB_HTML
#define SC_WEB_HTML	"/usr/local/share/sccrypt/sccrypt-web.html"
#endif
#define WEB_HTML_MAX		(8 * 1024 * 1024)
#define WEB_REQ_TIMEOUT_MS	5000
#define WEB_WAIT_DEFAULT	300	/* s for the browser to come */
#define WEB_BAD_MAX		20	/* wrong requests before giving up */
#define WEB_GW_PORT		8443

int
web_request_ok(const char *req, size_t len, const char *token, const char *host)
{
	const char *p, *end = req + len, *eol;
	size_t tl = strlen(token), hl = strlen(host);
	bool host_ok = false;
	int diff;

	if (len < 4 || memcmp(end - 4, "\r\n\r\n", 4) != 0 || memchr(req, '\0', len) != NULL)
		return -1;
	if (len < 5 + tl + 10 || memcmp(req, "GET /", 5) != 0)
		return -1;
	diff = sodium_memcmp(req + 5, token, tl);
	p = req + 5 + tl;
	if (memcmp(p, " HTTP/1.1\r\n", 11) != 0 && memcmp(p, " HTTP/1.0\r\n", 11) != 0)
		return -1;
	for (p += 11; p < end - 2; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			return -1;
		if ((size_t)(eol - p) > 5 && strncasecmp(p, "host:", 5) == 0) {
			const char *v = p + 5;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if (host_ok || (size_t)(eol - v) != hl || memcmp(v, host, hl) != 0)
				return -1;
			host_ok = true;
		} else if ((size_t)(eol - p) >= 15 && strncasecmp(p, "content-length:", 15) == 0)
			return -1;
	}
	return diff == 0 && host_ok ? 0 : -1;
}

static void
reply(int fd, const char *status, const char *type, const void *body, size_t len)
{
	char head[512];
	const uint8_t *b = body;
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\nConnection: close\r\n\r\n", status, type, len);
	if (n <= 0 || write(fd, head, (size_t)n) != n)
		return;
	while (len > 0) {
		ssize_t w = write(fd, b, len);

		if (w <= 0)
			return;
		b += w;
		len -= (size_t)w;
	}
}

/* Read one request head within the timeout; its length, or 0. */
static size_t
read_head(int fd, char *buf, size_t size)
{
	size_t len = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (len < size) {
		ssize_t n;

		if (poll(&p, 1, WEB_REQ_TIMEOUT_MS) != 1)
			return 0;
		if ((n = read(fd, buf + len, size - len)) <= 0)
			return 0;
		len += (size_t)n;
		if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
			return len;
	}
	return 0;
}

static int
load_html(const char *path, char **html, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || st.st_size > WEB_HTML_MAX ||
	    (*html = malloc((size_t)st.st_size)) == NULL ||
	    read(fd, *html, (size_t)st.st_size) != st.st_size) {
		fprintf(stderr, "sccrypt-term: cannot read the web console page %s: %s\n",
		    path, errno ? strerror(errno) : "bad file");
		if (fd >= 0)
			close(fd);
		return EXIT_LOCAL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return 0;
}

static void
open_browser(const char *url)
{
	const char *b = getenv("BROWSER");
	pid_t pid;

	if ((pid = fork()) == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		if (b != NULL && b[0] != '\0')
			execlp(b, b, url, (char *)NULL);
		else
			execlp("xdg-open", "xdg-open", url, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		fprintf(stderr, "sccrypt-term: cannot start a browser; open the URL yourself\n");
}

/* "[user@]host[:port]" -> gateway "host:port" for wss:// and the host name. */
static int
gateway_of(const char *dest, char *gw, size_t gwsz, char *host, size_t hostsz)
{
	const char *h = strrchr(dest, '@'), *colon;
	size_t hl;
	unsigned long port = WEB_GW_PORT;

	h = h ? h + 1 : dest;
	colon = strrchr(h, ':');
	hl = colon ? (size_t)(colon - h) : strlen(h);
	if (colon) {
		char *e;

		port = strtoul(colon + 1, &e, 10);
		if (*e != '\0' || port == 0 || port > 65535)
			return -1;
	}
	if (hl == 0 || hl >= hostsz || strcspn(h, "/?#&= \t") < hl)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	return snprintf(gw, gwsz, "wss://%s:%lu/", host, port) >= (int)gwsz ? -1 : 0;
}

int
verb_web(struct app *a, int argc, char **argv)
{
	const char *html_path = getenv("SCCRYPT_WEB_HTML"), *dest = NULL, *vm = NULL;
	char *html = NULL, token[WEB_TOKEN_LEN + 1], hostport[64], req[WEB_REQ_MAX];
	char gw[300] = "", dhost[256] = "", url[1024];
	uint8_t raw[32];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	bool browser = true;
	unsigned long wait_s = WEB_WAIT_DEFAULT;
	size_t html_len, n;
	time_t deadline;
	int i, lfd, bad = 0, rc;

	if (html_path == NULL || html_path[0] == '\0')
		html_path = SC_WEB_HTML;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
			html_path = argv[++i];
		else if (strcmp(argv[i], "--no-browser") == 0)
			browser = false;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			wait_s = strtoul(argv[++i], NULL, 10);
		else if (argv[i][0] == '-' || (dest != NULL && vm != NULL)) {
			fprintf(stderr, "usage: sccrypt-term web [DEST] VM [--html FILE] "
			    "[--no-browser] [--timeout SECONDS]\n");
			return EXIT_USAGE;
		} else if (vm == NULL)
			vm = argv[i];
		else {
			dest = vm;
			vm = argv[i];
		}
	}
	if (vm == NULL || !sc_vmname_valid(vm, strlen(vm)) || wait_s == 0 ||
	    (dest != NULL && gateway_of(dest, gw, sizeof(gw), dhost, sizeof(dhost)) != 0)) {
		fprintf(stderr, "sccrypt-term web: need a valid VM name (and DEST as [user@]host[:port])\n");
		return EXIT_USAGE;
	}
	if ((rc = load_html(html_path, &html, &html_len)) != 0)
		return rc;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		fprintf(stderr, "sccrypt-term: cannot listen on 127.0.0.1: %s\n", strerror(errno));
		free(html);
		return EXIT_LOCAL;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, sizeof(token), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sc_memzero(raw, sizeof(raw));
	snprintf(hostport, sizeof(hostport), "127.0.0.1:%u", ntohs(sa.sin_port));
	snprintf(url, sizeof(url), "http://%s/%s#vm=%s%s%s%s%s", hostport, token, vm,
	    gw[0] ? "&gw=" : "", gw, (a->host || dhost[0]) ? "&host=" : "",
	    a->host ? a->host : dhost);
	printf("%s\n", url);
	fflush(stdout);
	if (browser)
		open_browser(url);
	signal(SIGPIPE, SIG_IGN);

	deadline = time(NULL) + (time_t)wait_s;
	rc = EXIT_TRANSPORT;
	while (time(NULL) < deadline && bad < WEB_BAD_MAX) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int cfd;

		if (poll(&p, 1, 1000) != 1)
			continue;
		if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		n = read_head(cfd, req, sizeof(req));
		if (n > 0 && web_request_ok(req, n, token, hostport) == 0) {
			reply(cfd, "200 OK", "text/html; charset=utf-8", html, html_len);
			close(cfd);
			rc = EXIT_OK_;
			fprintf(stderr, "sccrypt-term: page served; the token is spent\n");
			break;
		}
		bad++;
		reply(cfd, "404 Not Found", "text/plain", "not found\n", 10);
		close(cfd);
	}
	if (rc != EXIT_OK_)
		fprintf(stderr, "sccrypt-term: %s; page not served\n",
		    bad >= WEB_BAD_MAX ? "too many wrong requests" : "no browser came in time");
	sc_memzero(token, sizeof(token));
	close(lfd);
	free(html);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return rc;
}
