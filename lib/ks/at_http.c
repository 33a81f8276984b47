/*
 * at_http.c — minimal blocking HTTP/1.1 client for sccrypt-attest.
 *
 * The response parser is the only code here reading network bytes; it is
 * strict (status line, CRLF header lines, decimal Content-Length, no
 * chunking) and fuzzed (tests/fuzz/fuzz_ks_http.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "io.h"
#include "ks/at_http.h"

#define HDR_LINE_MAX	8192

int
at_url_parse(const char *url, struct at_url *u)
{
	static const char scheme[] = "http://";
	const char *p, *hend, *pstart = NULL, *path;
	size_t hl, pl;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		return SC_ERR_UNSUPPORTED;
	p = url + sizeof(scheme) - 1;
	path = strchr(p, '/');
	if (path == NULL)
		path = p + strlen(p);
	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(path - p));
		if (hend == NULL)
			return SC_ERR_FORMAT;
		p++;
		if (hend + 1 < path) {
			if (hend[1] != ':')
				return SC_ERR_FORMAT;
			pstart = hend + 2;
		}
	} else {
		hend = memchr(p, ':', (size_t)(path - p));
		if (hend != NULL)
			pstart = hend + 1;
		else
			hend = path;
	}
	hl = (size_t)(hend - p);
	if (hl == 0 || hl >= sizeof(u->host))
		return SC_ERR_FORMAT;
	memcpy(u->host, p, hl);
	if (pstart != NULL) {
		pl = (size_t)(path - pstart);
		if (pl == 0 || pl >= sizeof(u->port) ||
		    strspn(pstart, "0123456789") < pl)
			return SC_ERR_FORMAT;
		memcpy(u->port, pstart, pl);
	} else {
		snprintf(u->port, sizeof(u->port), "80");
	}
	pl = strlen(path);
	while (pl > 0 && path[pl - 1] == '/')
		pl--;
	if (pl >= sizeof(u->prefix) || memchr(path, '?', pl) != NULL)
		return SC_ERR_FORMAT;
	memcpy(u->prefix, path, pl);
	return 0;
}

/* Next CRLF-terminated line from *p: line and n set, *p moves past it. */
static int
next_line(const uint8_t **p, const uint8_t *end, const char **line, size_t *n)
{
	const uint8_t *s = *p, *q;
	size_t left = (size_t)(end - s);

	for (q = s; (size_t)(q - s) + 1 < left; q++) {
		if (q[0] == '\r' && q[1] == '\n') {
			if ((size_t)(q - s) > HDR_LINE_MAX)
				return SC_ERR_TOOLONG;
			*line = (const char *)s;
			*n = (size_t)(q - s);
			*p = q + 2;
			return 0;
		}
	}
	return SC_ERR_TRUNCATED;
}

int
at_http_parse_response(const uint8_t *in, size_t len, int *status,
    const uint8_t **body, size_t *bodylen)
{
	const uint8_t *p = in, *end = in + len;
	const char *line, *v;
	size_t n, vl, i;
	unsigned long long clen = 0;
	int have_clen = 0, r, code;

	*status = 0;
	*body = NULL;
	*bodylen = 0;
	if ((r = next_line(&p, end, &line, &n)) < 0)
		return r;
	/* "HTTP/1.x NNN reason" */
	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' ||
	    line[11] < '0' || line[11] > '9' || (n > 12 && line[12] != ' '))
		return SC_ERR_FORMAT;
	code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	for (;;) {
		if ((r = next_line(&p, end, &line, &n)) < 0)
			return r;
		if (n == 0)
			break;
		v = memchr(line, ':', n);
		if (v == NULL || v == line)
			return SC_ERR_FORMAT;
		i = (size_t)(v - line);
		v++;
		vl = n - i - 1;
		while (vl > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (i == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			if (have_clen || vl == 0 || vl > 9)
				return SC_ERR_FORMAT;
			for (clen = 0; vl > 0; v++, vl--) {
				if (*v < '0' || *v > '9')
					return SC_ERR_FORMAT;
				clen = clen * 10 + (unsigned long long)(*v - '0');
			}
			have_clen = 1;
		} else if (i == 17 &&
		    strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			return SC_ERR_UNSUPPORTED;
		}
	}
	if (have_clen) {
		if (clen > (unsigned long long)(end - p))
			return SC_ERR_TRUNCATED;
		*bodylen = (size_t)clen;
	} else {
		*bodylen = (size_t)(end - p);
	}
	*body = p;
	*status = code;
	return 0;
}

static int
remaining(unsigned long long deadline)
{
	unsigned long long now = sc_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Connect with a deadline; returns a blocking-mode-free nonblocking fd. */
static int
dial(const struct at_url *u, unsigned long long deadline, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct pollfd pfd;
	socklen_t sl;
	int fd = -1, e, err = SC_ERR_SYSTEM;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
		return SC_ERR_NOTFOUND;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, remaining(deadline)) == 1) {
				sl = sizeof(e);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 &&
				    e == 0)
					break;
			} else {
				err = SC_ERR_TIMEOUT;
			}
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err;
	*fdp = fd;
	return 0;
}

static int
send_all(int fd, const void *buf, size_t n, unsigned long long deadline)
{
	const uint8_t *p = buf;
	struct pollfd pfd;
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return SC_ERR_SYSTEM;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, remaining(deadline)) <= 0)
			return SC_ERR_TIMEOUT;
	}
	return 0;
}

int
at_http_request(const struct at_url *u, const char *method, const char *path,
    const char *json, size_t jsonlen, unsigned int timeout_ms, uint8_t **resp,
    int *status, const uint8_t **body, size_t *bodylen)
{
	unsigned long long deadline = sc_now_ms() + timeout_ms;
	char hdr[1024];
	uint8_t *buf = NULL;
	struct pollfd pfd;
	size_t have = 0;
	ssize_t rd;
	int fd = -1, n, r;

	*resp = NULL;
	n = snprintf(hdr, sizeof(hdr),
	    "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: sccrypt-attest/"
	    PACKAGE_VERSION "\r\nAccept: application/json\r\n"
	    "Connection: close\r\n", method, u->prefix, path,
	    strchr(u->host, ':') ? "[" : "", u->host,
	    strchr(u->host, ':') ? "]" : "", u->port);
	if (n < 0 || (size_t)n >= sizeof(hdr) - 64)
		return SC_ERR_TOOLONG;
	if (json != NULL)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n,
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n",
		    jsonlen);
	n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "\r\n");

	if ((r = dial(u, deadline, &fd)) < 0)
		return r;
	if ((r = send_all(fd, hdr, (size_t)n, deadline)) < 0 ||
	    (json != NULL && (r = send_all(fd, json, jsonlen, deadline)) < 0))
		goto out;
	if ((buf = malloc(AT_HTTP_RESP_MAX)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	for (;;) {
		if (have == AT_HTTP_RESP_MAX) {
			r = SC_ERR_TOOLONG;
			goto out;
		}
		rd = recv(fd, buf + have, AT_HTTP_RESP_MAX - have, 0);
		if (rd > 0) {
			have += (size_t)rd;
			continue;
		}
		if (rd == 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			r = SC_ERR_SYSTEM;
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, remaining(deadline)) <= 0) {
			r = SC_ERR_TIMEOUT;
			goto out;
		}
	}
	if ((r = at_http_parse_response(buf, have, status, body, bodylen)) < 0)
		goto out;
	*resp = buf;
	buf = NULL;
	r = 0;
 out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}
