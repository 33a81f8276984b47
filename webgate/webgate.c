/*
 * sccrypt-webgate — the dom0 side of the web console: a WebSocket (RFC 6455,
 * wss:// over TLS) endpoint built on libwebsockets that relays the byte
 * stream of sccrypt-consoled's framed relay (PROTOCOL.md §9.2, §9.3) to and
 * from the tenant's browser, exactly what sccrypt-console relays over ssh:
 * ciphertext frames only.  It never parses a frame and holds no key.
 *
 * Per connection: Origin check (before the upgrade), a connection limit
 * (global and per user), then the first message authenticates the tenant
 * (auth.h: a per-user token, stored hashed); the gateway connects to
 * consoled as that user (as=UID, so consoled's per-user VM policy applies
 * as for sccrypt-console) with the verb "console" and the binary encoding,
 * answers the browser with one text message ("OK" or "ERR code text"), then
 * relays binary messages both ways.  Limits: message size, buffered bytes
 * (back-pressure both ways), authentication and idle timeouts.  Logs name
 * users, VMs and byte counts, never a byte of the stream.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <sodium.h>

#include "core/err.h"
#include "io.h"
#include "log.h"
#include "auth.h"
#include "conf.h"

#define WG_DOWN_MAX		16384		/* consoled -> browser, one message */
#define WG_UP_MAX		65536		/* browser -> consoled, buffered */
#define WG_RX_BUF		16384		/* lws receive buffer */
#define WG_MSG_MAX		32768		/* largest browser message */
#define WG_AUTH_TIMEOUT		10		/* s to send the first message */
#define WG_USERS_MAX		256
#define WG_TOKENS_FILE_MAX	(256 * 1024)
#define WG_CONF_FILE_MAX	(1u << 20)
#define WG_CONSOLED_DEFAULT	"/run/sccrypt/consoled.sock"
#define OPTS			"f:s:t:c:k:l:o:vhV"

/* The settings: [webgate] of sccrypt.conf(5) (-f), then the command line. */
static struct wg_conf cf;
static const char *origins[WG_ORIGINS_MAX];

static struct wg_tokens *tokens;
static unsigned nclients;
static struct { char user[WG_USER_MAX + 1]; unsigned n; } users[WG_USERS_MAX];
static volatile sig_atomic_t stop;
static struct lws_context *ctx;
static struct lws_vhost *vhost;

enum conn_state { C_AUTH, C_REPLY, C_RELAY, C_DONE };

struct conn {
	struct lws	*ws, *up;
	int		 fd;
	enum conn_state	 st;
	char		 user[WG_USER_MAX + 1];
	char		 vm[65];
	bool		 counted, up_eof, ws_flow_off, close_after_ctl;
	char		 ctl[LWS_PRE + 200];
	size_t		 ctl_len;
	uint8_t		 authbuf[WG_AUTH_MAX];
	size_t		 auth_len;
	char		 reply[WG_REPLY_MAX];
	size_t		 reply_len;
	size_t		 msg_len;
	uint8_t		 down[LWS_PRE + WG_DOWN_MAX];
	size_t		 down_len;
	uint8_t		 upb[WG_UP_MAX];
	size_t		 up_len;
	unsigned long long bytes_in, bytes_out;
};

static unsigned *
user_slot(const char *u, bool create)
{
	size_t i, free_i = WG_USERS_MAX;

	for (i = 0; i < WG_USERS_MAX; i++) {
		if (users[i].n > 0 && strcmp(users[i].user, u) == 0)
			return &users[i].n;
		if (users[i].n == 0 && free_i == WG_USERS_MAX)
			free_i = i;
	}
	if (!create || free_i == WG_USERS_MAX)
		return NULL;
	snprintf(users[free_i].user, sizeof(users[free_i].user), "%s", u);
	return &users[free_i].n;
}

/* Queue the one text message (status) for the browser; close after it if asked. */
static void
ctl_send(struct conn *c, const char *code, const char *text)
{
	const size_t room = sizeof(c->ctl) - LWS_PRE;
	int n;

	if (code == NULL)
		n = snprintf(c->ctl + LWS_PRE, room, "OK");
	else
		n = snprintf(c->ctl + LWS_PRE, room, "ERR %s %s", code, text);
	c->ctl_len = n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;
	c->close_after_ctl = code != NULL;
	lws_callback_on_writable(c->ws);
}

static int
lookup_uid(const char *user, uid_t *uid)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	if (user[0] >= '0' && user[0] <= '9') {
		errno = 0;
		v = strtoul(user, &end, 10);
		if (errno != 0 || *end != '\0' || v >= (unsigned long)UINT_MAX)
			return SC_ERR_FORMAT;
		*uid = (uid_t)v;
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL)
		return SC_ERR_NOTFOUND;
	*uid = pw->pw_uid;
	return 0;
}

/* Connect to consoled as uid and send the request line; the fd or -1. */
static int
consoled_connect(const char *vm, char enc, uid_t uid)
{
	struct sockaddr_un sa;
	char req[WG_REPLY_MAX], as[32] = "";
	int fd, n;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(cf.consoled) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, cf.consoled, strlen(cf.consoled));
	if (uid != geteuid())
		snprintf(as, sizeof(as), " as=%lu", (unsigned long)uid);
	n = snprintf(req, sizeof(req), "SCCRYPT/1 console %s %c%s\n", vm, enc, as);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, req, (size_t)n) != n ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
authenticate(struct conn *c)
{
	struct wg_auth a;
	uint8_t h[WG_HASH_LEN];
	const struct wg_token_entry *e;
	lws_sock_file_fd_type fdt;
	unsigned *slot;
	uid_t uid;
	int r;

	r = wg_auth_parse(c->authbuf, c->auth_len, &a);
	sodium_memzero(c->authbuf, sizeof(c->authbuf));
	if (r != 0) {
		sc_info("refused: malformed first message");
		ctl_send(c, "usage", "malformed first message");
		return;
	}
	crypto_hash_sha256(h, (const uint8_t *)a.token, strlen(a.token));
	sodium_memzero(a.token, sizeof(a.token));
	if ((e = wg_tokens_find(tokens, h)) == NULL) {
		sc_info("refused: unknown token for vm %s", a.vm);
		ctl_send(c, "perm", "unknown token");
		return;
	}
	if (lookup_uid(e->user, &uid) != 0) {
		sc_warn("refused: no local account %s", e->user);
		ctl_send(c, "perm", "no such account");
		return;
	}
	if (uid != geteuid() && geteuid() != 0) {
		sc_warn("refused: %s is not this gateway's user and it is not root", e->user);
		ctl_send(c, "perm", "the gateway cannot act for this user");
		return;
	}
	if ((slot = user_slot(e->user, true)) == NULL || *slot >= cf.max_per_user) {
		sc_info("refused: %s has too many connections", e->user);
		ctl_send(c, "busy", "too many connections for this user");
		return;
	}
	(*slot)++;
	snprintf(c->user, sizeof(c->user), "%s", e->user);
	snprintf(c->vm, sizeof(c->vm), "%s", a.vm);
	c->counted = true;
	if ((c->fd = consoled_connect(a.vm, a.enc, uid)) < 0) {
		sc_warn("consoled unreachable at %s: %s", cf.consoled, strerror(errno));
		ctl_send(c, "unavailable", "the console relay is unreachable");
		return;
	}
	fdt.filefd = c->fd;
	if ((c->up = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, fdt,
	    "sccrypt-consoled-raw", NULL)) == NULL) {
		close(c->fd);
		c->fd = -1;
		ctl_send(c, "internal", "cannot adopt the relay socket");
		return;
	}
	lws_set_opaque_user_data(c->up, c);
	c->st = C_REPLY;
	sc_info("user %s: console %s%s", c->user, c->vm, a.enc == 'A' ? " (armored)" : "");
	lws_set_timeout(c->ws, PENDING_TIMEOUT_USER_OK, (int)cf.idle);
}

/* Bytes from consoled: the reply line first, then the relay stream. */
static int
up_rx(struct conn *c)
{
	uint8_t *p = c->down + LWS_PRE;
	ssize_t n;
	size_t off = 0;
	char code[32], text[WG_REPLY_MAX];
	int r;

	if (c->down_len > 0 || c->ctl_len > 0) {
		lws_rx_flow_control(c->up, 0);
		return 0;
	}
	n = read(c->fd, p, WG_DOWN_MAX);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (n == 0)
		return -1;
	if (c->st == C_REPLY) {
		while (off < (size_t)n && c->st == C_REPLY) {
			if (p[off] == '\n') {
				r = wg_reply_parse(c->reply, c->reply_len, code, sizeof(code),
				    text, sizeof(text));
				if (r == 1) {
					c->st = C_RELAY;
					ctl_send(c, NULL, NULL);
				} else {
					sc_info("user %s vm %s: consoled refused: %s %s",
					    c->user, c->vm, r == 0 ? code : "bad-reply", text);
					ctl_send(c, r == 0 ? code : "internal",
					    r == 0 ? text : "unexpected reply from the relay");
					c->st = C_DONE;
					return -1;
				}
			} else if (c->reply_len + 1 >= WG_REPLY_MAX) {
				ctl_send(c, "internal", "relay reply too long");
				c->st = C_DONE;
				return -1;
			} else
				c->reply[c->reply_len++] = (char)p[off];
			off++;
		}
		if (off < (size_t)n)
			memmove(p, p + off, (size_t)n - off);
		n -= (ssize_t)off;
	}
	c->down_len = (size_t)n;
	if (c->down_len > 0) {
		lws_rx_flow_control(c->up, 0);
		lws_callback_on_writable(c->ws);
	}
	return 0;
}

static int
up_tx(struct conn *c)
{
	ssize_t n;

	if (c->up_len == 0)
		return 0;
	n = write(c->fd, c->upb, c->up_len);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	memmove(c->upb, c->upb + n, c->up_len - (size_t)n);
	c->up_len -= (size_t)n;
	if (c->up_len > 0)
		lws_callback_on_writable(c->up);
	if (c->ws_flow_off && c->up_len + WG_RX_BUF <= WG_UP_MAX) {
		c->ws_flow_off = false;
		lws_rx_flow_control(c->ws, 1);
	}
	return 0;
}

static int
cb_raw(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	struct conn *c = lws_get_opaque_user_data(wsi);

	(void)user; (void)in; (void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (c == NULL)
			return -1;
		if (up_rx(c) != 0) {
			c->up_eof = true;
			lws_callback_on_writable(c->ws);
			return -1;
		}
		break;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (c == NULL)
			return -1;
		if (up_tx(c) != 0) {
			c->up_eof = true;
			lws_callback_on_writable(c->ws);
			return -1;
		}
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (c != NULL) {
			c->up = NULL;
			c->up_eof = true;
			lws_callback_on_writable(c->ws);
		}
		break;
	default:
		break;
	}
	return 0;
}

static int
cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	struct conn *c = user;
	char origin[WG_ORIGIN_MAX];
	int n;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		origin[0] = '\0';
		n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
		if (n >= (int)sizeof(origin) ||
		    (n > 0 && lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0)) {
			sc_info("refused: oversized Origin");
			return -1;
		}
		if (!wg_origin_allowed(origin, origins, cf.norigins, cf.allow_no_origin)) {
			sc_info("refused: Origin '%s' not allowed", origin);
			return -1;
		}
		if (nclients >= cf.max_clients) {
			sc_info("refused: %u connections", nclients);
			return -1;
		}
		break;
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		c->ws = wsi;
		c->fd = -1;
		c->st = C_AUTH;
		nclients++;
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, WG_AUTH_TIMEOUT);
		break;
	case LWS_CALLBACK_RECEIVE:
		if (c->st == C_DONE)
			break;
		c->msg_len += len;
		if (c->msg_len > (c->st == C_AUTH ? WG_AUTH_MAX : WG_MSG_MAX)) {
			sc_info("closing: message over the size limit");
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
			return -1;
		}
		if (c->st == C_AUTH) {
			if (lws_frame_is_binary(wsi)) {
				lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
				return -1;
			}
			memcpy(c->authbuf + c->auth_len, in, len);
			c->auth_len += len;
			if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
				c->msg_len = 0;
				c->st = C_DONE;
				authenticate(c);
			}
			break;
		}
		if (!lws_frame_is_binary(wsi)) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
			return -1;
		}
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
			c->msg_len = 0;
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)cf.idle);
		if (c->up == NULL)
			break;		/* the relay is gone: nothing to deliver to */
		if (c->up_len + len > WG_UP_MAX) {
			/* Cannot happen with flow control on; refuse rather than drop. */
			sc_warn("user %s vm %s: input buffer overrun", c->user, c->vm);
			return -1;
		}
		memcpy(c->upb + c->up_len, in, len);
		c->up_len += len;
		c->bytes_in += len;
		/*
		 * Nothing queued before: straight to consoled's socket (ours,
		 * non-blocking), which saves a service-loop round per
		 * keystroke.  What is left (EAGAIN, a short write, an error)
		 * goes the writable way, which also handles the error.
		 */
		if (c->up_len == len && (n = (int)write(c->fd, c->upb, c->up_len)) > 0) {
			memmove(c->upb, c->upb + n, c->up_len - (size_t)n);
			c->up_len -= (size_t)n;
		}
		if (c->up_len > 0)
			lws_callback_on_writable(c->up);
		if (c->up_len + WG_RX_BUF > WG_UP_MAX && !c->ws_flow_off) {
			c->ws_flow_off = true;
			lws_rx_flow_control(wsi, 0);
		}
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->ctl_len > 0) {
			n = lws_write(wsi, (unsigned char *)c->ctl + LWS_PRE, c->ctl_len, LWS_WRITE_TEXT);
			c->ctl_len = 0;
			if (n < 0 || c->close_after_ctl) {
				lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
				return -1;
			}
			if (c->down_len > 0)
				lws_callback_on_writable(wsi);
			else if (c->up != NULL)
				lws_rx_flow_control(c->up, 1);
			break;
		}
		if (c->down_len > 0) {
			n = lws_write(wsi, c->down + LWS_PRE, c->down_len, LWS_WRITE_BINARY);
			if (n < 0)
				return -1;
			c->bytes_out += c->down_len;
			c->down_len = 0;
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)cf.idle);
			if (c->up != NULL)
				lws_rx_flow_control(c->up, 1);
		}
		if (c->down_len == 0 && c->up_eof) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
			return -1;
		}
		break;
	case LWS_CALLBACK_CLOSED:
		if (c->ws == NULL)
			break;
		nclients--;
		if (c->counted) {
			unsigned *slot = user_slot(c->user, false);

			if (slot != NULL && *slot > 0)
				(*slot)--;
			sc_info("user %s vm %s: closed (%llu bytes in, %llu out)",
			    c->user, c->vm, c->bytes_in, c->bytes_out);
		}
		if (c->up != NULL) {
			lws_set_opaque_user_data(c->up, NULL);
			lws_set_timeout(c->up, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			c->up = NULL;
		}
		c->ws = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "sccrypt-web", cb_ws, sizeof(struct conn), WG_RX_BUF, 0, NULL, 0 },
	{ "sccrypt-consoled-raw", cb_raw, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static int
load_tokens(const char *path)
{
	static char text[WG_TOKENS_FILE_MAX];
	struct stat st;
	size_t bad = 0;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		sc_fatal(78, __func__, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    (st.st_uid != geteuid() && st.st_uid != 0))
		sc_fatal(78, __func__, "%s: must be a regular file owned by us or root, mode 0600", path);
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0 || (size_t)n == sizeof(text))
		sc_fatal(78, __func__, "%s: unreadable or too large", path);
	r = wg_tokens_parse(text, (size_t)n, tokens, &bad);
	sodium_memzero(text, sizeof(text));
	if (r != 0)
		sc_fatal(78, __func__, "%s:%zu: expected \"USER SHA256-HEX\"", path, bad);
	return (int)tokens->n;
}

/* --new-token USER: a fresh token on stdout, its tokens-file line on stderr. */
static int
new_token(const char *user)
{
	uint8_t raw[32], h[WG_HASH_LEN];
	char tok[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char hex[2 * WG_HASH_LEN + 1];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(tok, sizeof(tok), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_hash_sha256(h, (const uint8_t *)tok, strlen(tok));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	printf("%s\n", tok);
	fprintf(stderr, "add to the tokens file:\n%s %s\n", user, hex);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
	if (ctx != NULL)
		lws_cancel_service(ctx);
}

static void
usage_to(FILE *f)
{
	fprintf(f,
	    "usage: sccrypt-webgate [-f SCCRYPT_CONF] [-s CONSOLED_SOCKET] [-t TOKENS]\n"
	    "           [-c CERT -k KEY | --plaintext] [-l ADDR:PORT] [-o ORIGIN]...\n"
	    "           [--allow-no-origin] [--max-clients N] [--max-per-user N]\n"
	    "           [--idle SECONDS] [-v]\n"
	    "       sccrypt-webgate --new-token USER\n"
	    "       sccrypt-webgate -h | --help | -V | --version\n");
}

static void __attribute__((noreturn))
usage(void)
{
	usage_to(stderr);
	exit(SC_EXIT_USAGE);
}

static void
setstr(char *dst, size_t size, const char *s)
{
	if (strlen(s) >= size)
		usage();
	memcpy(dst, s, strlen(s) + 1);
}

static unsigned
num(const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		usage();
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "plaintext", no_argument, NULL, 'P' },
		{ "allow-no-origin", no_argument, NULL, 'N' },
		{ "max-clients", required_argument, NULL, 'M' },
		{ "max-per-user", required_argument, NULL, 'U' },
		{ "idle", required_argument, NULL, 'I' },
		{ "new-token", required_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;
	const char *conf_path = NULL, *why;
	unsigned char *text = NULL;
	size_t len, i, cli_origins = 0;
	unsigned errline;
	int ch, r;

	if (sodium_init() < 0)
		return 70;
	wg_conf_defaults(&cf);
	/* First the file (-f), whose settings the other options override. */
	while ((ch = getopt_long(argc, argv, OPTS, lo, NULL)) != -1)
		if (ch == 'f')
			conf_path = optarg;
		else if (ch == 'h') {
			usage_to(stdout);
			return 0;
		} else if (ch == 'V') {
			sc_print_version("sccrypt-webgate");
			return 0;
		} else if (ch == 'T')
			return new_token(optarg);
		else if (ch == '?')
			usage();
	if (conf_path != NULL) {
		if ((r = sc_read_file(conf_path, WG_CONF_FILE_MAX, &text, &len)) < 0)
			sc_fatal(78, __func__, "%s: %s", conf_path, sc_err(r));
		r = wg_conf_parse(&cf, (const char *)text, len, &errline, &why);
		free(text);
		if (r < 0 && errline > 0)
			sc_fatal(78, __func__, "%s:%u: %s", conf_path, errline, why);
		if (r < 0)
			sc_fatal(78, __func__, "%s: %s", conf_path, why);
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, OPTS, lo, NULL)) != -1) {
		switch (ch) {
		case 'f': break;
		case 's': setstr(cf.consoled, sizeof(cf.consoled), optarg); break;
		case 't': setstr(cf.tokens, sizeof(cf.tokens), optarg); break;
		case 'c': setstr(cf.cert, sizeof(cf.cert), optarg); break;
		case 'k': setstr(cf.key, sizeof(cf.key), optarg); break;
		case 'l':
			if (wg_listen_parse(optarg, cf.iface, &cf.port) != 0)
				usage();
			break;
		case 'o':
			/* Origins on the command line replace the file's. */
			if (cli_origins == WG_ORIGINS_MAX || strlen(optarg) >= WG_ORIGIN_MAX)
				usage();
			setstr(cf.origins[cli_origins++], WG_ORIGIN_MAX, optarg);
			cf.norigins = cli_origins;
			break;
		case 'v': cf.log_level = SC_LOG_DEBUG; break;
		case 'P': cf.plaintext = true; break;
		case 'N': cf.allow_no_origin = true; break;
		case 'M': cf.max_clients = num(optarg, 1, WG_CLIENTS_MAX); break;
		case 'U': cf.max_per_user = num(optarg, 1, WG_CLIENTS_MAX); break;
		case 'I': cf.idle = num(optarg, 1, WG_IDLE_MAX); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (cf.consoled[0] == '\0')
		setstr(cf.consoled, sizeof(cf.consoled), WG_CONSOLED_DEFAULT);
	if (cf.tokens[0] == '\0')
		sc_fatal(64, __func__, "no tokens file (-t, or tokens in [webgate])");
	if (cf.plaintext && cf.cert[0] != '\0')
		sc_fatal(64, __func__, "plaintext and a TLS certificate exclude each other");
	if (!cf.plaintext && (cf.cert[0] == '\0' || cf.key[0] == '\0'))
		sc_fatal(64, __func__, "TLS needs a certificate and its key (-c, -k or tls_certificate, tls_key)");
	if (cf.plaintext && strcmp(cf.iface, "127.0.0.1") != 0 && strcmp(cf.iface, "::1") != 0)
		sc_fatal(64, __func__, "--plaintext only on a loopback address");
	if (cf.norigins == 0) {
		/* The page served by sccrypt-term web, or opened from a file. */
		setstr(cf.origins[cf.norigins++], WG_ORIGIN_MAX, "http://127.0.0.1:*");
		setstr(cf.origins[cf.norigins++], WG_ORIGIN_MAX, "http://localhost:*");
		setstr(cf.origins[cf.norigins++], WG_ORIGIN_MAX, "null");
	}
	for (i = 0; i < cf.norigins; i++)
		origins[i] = cf.origins[i];
	sc_log_init("sccrypt-webgate", cf.log_level, SC_LOG_TO_STDERR);
	if ((tokens = calloc(1, sizeof(*tokens))) == NULL)
		return 70;
	sc_info("%d tokens loaded", load_tokens(cf.tokens));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	info.port = (int)cf.port;
	info.iface = cf.iface;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (!cf.plaintext) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cf.cert;
		info.ssl_private_key_filepath = cf.key;
	}
	if ((ctx = lws_create_context(&info)) == NULL)
		sc_fatal(70, __func__, "cannot create the WebSocket context");
	if ((vhost = lws_create_vhost(ctx, &info)) == NULL)
		sc_fatal(69, __func__, "cannot listen on %s:%u (or load the TLS key)", cf.iface, cf.port);
	sc_info("listening on %s://%s:%d/, relay %s", cf.plaintext ? "ws" : "wss",
	    cf.iface, lws_get_vhost_listen_port(vhost), cf.consoled);
	while (!stop)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
	sodium_memzero(tokens, sizeof(*tokens));
	free(tokens);
	sc_info("stopped");
	return 0;
}
