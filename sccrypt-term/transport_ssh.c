/*
 * transport_ssh.c — the built-in SSH transport (libssh).
 *
 * The parent connects, checks the host key against known_hosts (ssh-style
 * prompt or refusal), authenticates (agent, key files with a passphrase
 * prompt, keyboard-interactive, password), opens a channel and runs the
 * clear remote command.  Then a child process takes the session over and
 * pumps bytes between the channel and a socketpair the loop polls; the
 * parent never touches the libssh session again.  If libssh crashes, only
 * the pump dies: the loop sees EOF and restores the terminal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "core/err.h"
#include "io.h"
#include "log.h"
#include "prompt.h"
#include "readpass.h"
#include "secmem.h"
#include "transport.h"

#define PUMP_STATUS_WAIT_MS	1000	/* for the exit status after EOF */
#define AUTH_TRIES		3	/* per interactive method, as ssh(1) */

struct pump {
	int		sock;		/* our end of the data socketpair */
	int		esock;		/* our end of the stderr socketpair */
	int		csock;		/* window sizes from the loop, or -1 */
	bool		csock_eof;
	bool		eof;		/* channel EOF or close */
	bool		sock_eof;	/* loop closed its end */
	int		exit_status;
};

static int
on_channel_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct pump *p = userdata;

	if (sc_write_all(is_stderr ? p->esock : p->sock, data, len) < 0)
		p->eof = true;
	return (int)len;
}

static void
on_channel_eof(ssh_session s, ssh_channel ch, void *userdata)
{
	((struct pump *)userdata)->eof = true;
}

static void
on_channel_close(ssh_session s, ssh_channel ch, void *userdata)
{
	((struct pump *)userdata)->eof = true;
}

static void
on_exit_status(ssh_session s, ssh_channel ch, int status, void *userdata)
{
	((struct pump *)userdata)->exit_status = status;
}

static ssh_channel pump_channel;

static int
on_sock(socket_t fd, int revents, void *userdata)
{
	struct pump *p = userdata;
	uint8_t buf[16384];
	ssize_t n;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		p->sock_eof = true;
		ssh_channel_send_eof(pump_channel);
		return 0;
	}
	if (ssh_channel_write(pump_channel, buf, (uint32_t)n) != n)
		p->eof = true;
	return 0;
}

/* A window size from the loop (rows:u16 cols:u16): resize the remote pty. */
static int
on_ctl(socket_t fd, int revents, void *userdata)
{
	struct pump *p = userdata;
	uint8_t m[4 * 16];
	ssize_t n;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	n = recv(fd, m, sizeof(m), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		p->csock_eof = true;
		return 0;
	}
	/* Several sizes may have queued up: the last whole one counts. */
	if (n >= 4) {
		const uint8_t *q = m + (n / 4 - 1) * 4;
		int rows = (q[0] << 8) | q[1], cols = (q[2] << 8) | q[3];

		if (rows > 0 && cols > 0)
			(void)ssh_channel_change_pty_size(pump_channel, cols, rows);
	}
	return 0;
}

/* The pump child: runs until either side ends. */
static void __attribute__((noreturn))
pump_run(ssh_session s, ssh_channel ch, struct pump *p)
{
	ssh_event ev;
	bool watching = true;

	signal(SIGINT, SIG_IGN);	/* the loop decides when we end */
	signal(SIGHUP, SIG_IGN);
	signal(SIGWINCH, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	pump_channel = ch;
	if ((ev = ssh_event_new()) == NULL)
		_exit(3);
	if (ssh_event_add_session(ev, s) != SSH_OK ||
	    ssh_event_add_fd(ev, p->sock, POLLIN, on_sock, p) != SSH_OK)
		_exit(3);
	if (p->csock >= 0 &&
	    ssh_event_add_fd(ev, p->csock, POLLIN, on_ctl, p) != SSH_OK)
		_exit(3);
	while (!p->eof && ssh_channel_is_open(ch)) {
		if (ssh_event_dopoll(ev, 1000) == SSH_ERROR)
			break;
		if (p->sock_eof && watching) {
			ssh_event_remove_fd(ev, p->sock);
			watching = false;
		}
		if (p->csock_eof && p->csock >= 0) {
			ssh_event_remove_fd(ev, p->csock);
			close(p->csock);
			p->csock = -1;
		}
	}
	shutdown(p->sock, SHUT_RDWR);
	/* The remote command's exit status follows its EOF: wait for the
	 * channel's close (PUMP_STATUS_WAIT_MS) and exit with it, so that the
	 * loop can tell a refusal of dom0's from a cut connection. */
	{
		unsigned long long until = sc_now_ms() + PUMP_STATUS_WAIT_MS;

		while (ssh_channel_is_open(ch) && !ssh_channel_is_closed(ch) &&
		    p->exit_status < 0 && sc_now_ms() < until)
			if (ssh_event_dopoll(ev, 100) == SSH_ERROR)
				break;
	}
	ssh_event_free(ev);
	if (ssh_channel_is_open(ch))
		ssh_channel_close(ch);
	ssh_disconnect(s);
	_exit(p->exit_status > 0 && p->exit_status < 256 ? p->exit_status : 0);
}

static int
auth_cb(const char *prompt, char *buf, size_t len, int echo, int verify,
    void *userdata)
{
	char *pass;
	int err = 0;

	if (echo)
		return prompt_line(prompt, buf, len) == 0 ? 0 : -1;
	if ((pass = sc_readpass(prompt, verify ? SC_RP_CONFIRM : 0, &err)) == NULL)
		return -1;
	if (strlen(pass) + 1 > len) {
		sc_secure_free(pass);
		return -1;
	}
	memcpy(buf, pass, strlen(pass) + 1);
	sc_secure_free(pass);
	return 0;
}

/*
 * Where known_hosts holds host's key, for the changed-key warning: the first
 * line of path whose (plain) host patterns name host as ssh writes it
 * ("host", or "[host]:port" off port 22).  0 if none: a hashed entry, whose
 * line only ssh-keygen -F can find.
 */
static unsigned
known_hosts_line(const char *path, const char *host, unsigned port)
{
	char name[300], line[4096];
	unsigned n = 0, found = 0;
	FILE *f;

	if (port != 0 && port != 22)
		snprintf(name, sizeof(name), "[%s]:%u", host, port);
	else
		snprintf(name, sizeof(name), "%s", host);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *tok, *save = NULL;

		n++;
		p += strspn(p, " \t");
		if (*p == '#' || *p == '@' || *p == '|')
			continue;
		p[strcspn(p, " \t\r\n")] = '\0';
		for (tok = strtok_r(p, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			if (strcasecmp(tok, name) == 0)
				found = n;
	}
	fclose(f);
	return found;
}

/* What a host key is called in messages. */
struct host_key_id {
	const char	*type;		/* "ssh-ed25519", ... */
	const char	*fp;		/* SHA256:... */
};

/* known_hosts has another key for the host: ssh(1)'s warning, refused. */
static int
host_key_changed(ssh_session s, const struct ssh_opts *o, const char *host,
    const struct host_key_id *id, char *msg, size_t msgsz)
{
	/* the file libssh read (-o, -F's UserKnownHostsFile or the default),
	 * and the line there */
	char *khf = NULL, where[64] = "";
	unsigned port = 0, ln;

	if (ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &khf) != SSH_OK)
		khf = NULL;
	(void)ssh_options_get_port(s, &port);
	if (khf != NULL && (ln = known_hosts_line(khf, host, port)) > 0)
		snprintf(where, sizeof(where), ", line %u", ln);
	snprintf(msg, msgsz,
	    "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! "
	    "Someone could be eavesdropping on you right now "
	    "(man-in-the-middle attack)! The %s host key for %s is now "
	    "%s. Host key verification failed: the key known for it is "
	    "in %s%s (remove it with ssh-keygen -R if the change is "
	    "expected).", id->type, host, id->fp,
	    khf != NULL ? khf : o->known_hosts ? o->known_hosts :
	    "~/.ssh/known_hosts", where);
	ssh_string_free_char(khf);
	return SC_ERR_UNTRUSTED;
}

/* Remember an accepted key, saying so as ssh(1) does. */
static void
host_key_add(ssh_session s, const char *host, const struct host_key_id *id)
{
	if (ssh_session_update_known_hosts(s) != SSH_OK)
		fprintf(stderr, "sccrypt-term: cannot update known_hosts: %s\r\n",
		    ssh_get_error(s));
	else
		fprintf(stderr, "Warning: Permanently added '%s' (%s) to the "
		    "list of known hosts.\r\n", host, id->type);
}

/* No key known for the host: StrictHostKeyChecking decides, or the user. */
static int
host_key_unknown(ssh_session s, const struct ssh_opts *o, const char *host,
    const struct host_key_id *id, char *msg, size_t msgsz)
{
	char q[1024];

	if (o->strict_host == 2) {
		fprintf(stderr, "Warning: Permanently added '%s' (%s) to "
		    "the list of known hosts.\r\n", host, id->type);
		if (ssh_session_update_known_hosts(s) != SSH_OK)
			fprintf(stderr, "sccrypt-term: cannot update "
			    "known_hosts: %s\r\n", ssh_get_error(s));
		return 0;
	}
	if (o->strict_host == 1 || o->batch) {
		snprintf(msg, msgsz, "No %s host key is known for %s and "
		    "you have requested strict checking. Host key "
		    "verification failed.", id->type, host);
		return SC_ERR_UNTRUSTED;
	}
	snprintf(q, sizeof(q), "The authenticity of host '%s' can't be "
	    "established.\n%s key fingerprint is %s.\nAre you sure you "
	    "want to continue connecting (yes/no)? ", host, id->type, id->fp);
	if (prompt_yesno(q) != 1) {
		snprintf(msg, msgsz, "Host key verification failed.");
		return SC_ERR_UNTRUSTED;
	}
	host_key_add(s, host, id);
	return 0;
}

/* The server's host key against known_hosts (ssh(1)'s rules). */
static int
check_host_key(ssh_session s, const struct ssh_opts *o, const char *host,
    char *msg, size_t msgsz)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	struct host_key_id id;
	int r = SC_ERR_UNTRUSTED;

	if (ssh_get_server_publickey(s, &key) != SSH_OK) {
		snprintf(msg, msgsz, "cannot get the server's host key");
		return SC_ERR_UNTRUSTED;
	}
	id.type = ssh_key_type_to_char(ssh_key_type(key));
	if (id.type == NULL)
		id.type = "?";
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	id.fp = fp != NULL ? fp : "?";
	switch (ssh_session_is_known_server(s)) {
	case SSH_KNOWN_HOSTS_OK:
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
		r = host_key_changed(s, o, host, &id, msg, msgsz);
		break;
	case SSH_KNOWN_HOSTS_OTHER:
		snprintf(msg, msgsz,
		    "WARNING: the host key for %s is of another type than the "
		    "one in known_hosts; an attacker could be downgrading it. "
		    "Host key verification failed.", host);
		break;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		r = host_key_unknown(s, o, host, &id, msg, msgsz);
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		snprintf(msg, msgsz, "known_hosts check failed: %s",
		    ssh_get_error(s));
		break;
	}
	if (fp != NULL)
		ssh_string_free_char(fp);
	if (hash != NULL)
		ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return r;
}

/* Answer one round of keyboard-interactive prompts.  false: the user
 * gave up (EOF at a prompt). */
static bool
kbdint_answer(ssh_session s)
{
	int i, n = ssh_userauth_kbdint_getnprompts(s);

	for (i = 0; i < n; i++) {
		char echo = 0, line[512], *pass;
		const char *p = ssh_userauth_kbdint_getprompt(s, (unsigned)i,
		    &echo);
		int err = 0;

		if (echo) {
			if (prompt_line(p, line, sizeof(line)) < 0)
				return false;
			ssh_userauth_kbdint_setanswer(s, (unsigned)i, line);
			continue;
		}
		if ((pass = sc_readpass(p, 0, &err)) == NULL)
			return false;
		ssh_userauth_kbdint_setanswer(s, (unsigned)i, pass);
		sc_secure_free(pass);
	}
	return true;
}

/* keyboard-interactive, AUTH_TRIES times: an SSH_AUTH_*; *gave_up when
 * the user ended a prompt (no other method is tried then). */
static int
auth_kbdint(ssh_session s, bool *gave_up)
{
	int r = SSH_AUTH_DENIED, tries;

	for (tries = 0; tries < AUTH_TRIES; tries++) {
		r = ssh_userauth_kbdint(s, NULL, NULL);
		while (r == SSH_AUTH_INFO) {
			if (!kbdint_answer(s)) {
				*gave_up = true;
				return SSH_AUTH_DENIED;
			}
			r = ssh_userauth_kbdint(s, NULL, NULL);
		}
		if (r == SSH_AUTH_SUCCESS || r == SSH_AUTH_ERROR)
			return r;
	}
	return r;
}

/* password, AUTH_TRIES times, as ssh(1) asks for it. */
static int
auth_password(ssh_session s, const char *user, const char *host)
{
	int r = SSH_AUTH_DENIED, tries;

	for (tries = 0; tries < AUTH_TRIES; tries++) {
		char prompt[600], *pass;
		int err = 0;

		snprintf(prompt, sizeof(prompt), "%s@%s's password: ", user, host);
		if ((pass = sc_readpass(prompt, 0, &err)) == NULL)
			return SSH_AUTH_DENIED;
		r = ssh_userauth_password(s, NULL, pass);
		sc_secure_free(pass);
		if (r == SSH_AUTH_SUCCESS || r == SSH_AUTH_ERROR)
			return r;
		fprintf(stderr, "Permission denied, please try again.\n");
	}
	return r;
}

/* Neither in nor refused for good: the next method may be tried. */
static bool
auth_goes_on(int r)
{
	return r != SSH_AUTH_SUCCESS && r != SSH_AUTH_ERROR;
}

/*
 * none, then public keys (agent and key files), then (unless in batch mode)
 * keyboard-interactive and password: what the server offers, in ssh(1)'s
 * order.
 */
static int
authenticate(ssh_session s, const struct ssh_opts *o, const char *user,
    const char *host, char *msg, size_t msgsz)
{
	bool gave_up = false;
	int methods = 0, r;

	r = ssh_userauth_none(s, NULL);
	if (auth_goes_on(r))
		methods = ssh_userauth_list(s, NULL);
	if (auth_goes_on(r) && (methods & SSH_AUTH_METHOD_PUBLICKEY))
		r = ssh_userauth_publickey_auto(s, NULL, NULL);
	if (o->batch)		/* never prompt */
		methods &= ~(SSH_AUTH_METHOD_INTERACTIVE | SSH_AUTH_METHOD_PASSWORD);
	if (auth_goes_on(r) && (methods & SSH_AUTH_METHOD_INTERACTIVE))
		r = auth_kbdint(s, &gave_up);
	if (auth_goes_on(r) && !gave_up && (methods & SSH_AUTH_METHOD_PASSWORD))
		r = auth_password(s, user, host);
	if (r == SSH_AUTH_SUCCESS)
		return 0;
	if (r == SSH_AUTH_ERROR) {
		snprintf(msg, msgsz, "authentication error: %s", ssh_get_error(s));
		return SC_ERR_SYSTEM;
	}
	snprintf(msg, msgsz, "%s@%s: Permission denied (authentication failed)",
	    user, host);
	return SC_ERR_PERM;
}

/*
 * What transport_ssh_start builds, one step at a time, as OpenSSH's
 * sshconnect.c does: set up, connect, verify the host key, authenticate,
 * open the channel and run the command, hand the session to the pump.
 * Each step returns 0 or a negative SC_ERR_* with c->msg saying why.
 */
struct ssh_conn {
	ssh_session	s;
	ssh_channel	ch;
	char		user[256], host[256];
	int		port;
	int		dsock[2];	/* data: [0] the loop's, [1] the pump's */
	int		esock[2];	/* remote stderr */
	int		csock[2];	/* window sizes (-t only) */
	char		*msg;
	size_t		msgsz;
};

static int
conn_fail(struct ssh_conn *c, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
conn_fail(struct ssh_conn *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, c->msgsz, fmt, ap);
	va_end(ap);
	return r;
}

/* The session object, with ssh(1)'s option precedence: command line first,
 * then the config file. */
static int
conn_setup(struct ssh_conn *c, const struct ssh_opts *o)
{
	static struct ssh_callbacks_struct cb;
	int verbosity;

	if (transport_parse_dest(o->host, c->user, sizeof(c->user), c->host,
	    sizeof(c->host), &c->port) < 0)
		return conn_fail(c, SC_ERR_INVAL, "bad destination '%s'", o->host);
	if ((c->s = ssh_new()) == NULL)
		return conn_fail(c, SC_ERR_ALLOC, "out of memory");
	verbosity = o->verbose > 1 ? SSH_LOG_PROTOCOL : o->verbose ?
	    SSH_LOG_WARN : SSH_LOG_NOLOG;
	ssh_options_set(c->s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	ssh_options_set(c->s, SSH_OPTIONS_HOST, c->host);
	if (c->user[0] != '\0')
		ssh_options_set(c->s, SSH_OPTIONS_USER, c->user);
	else if (o->user != NULL)
		ssh_options_set(c->s, SSH_OPTIONS_USER, o->user);
	if (c->port == 0)
		c->port = o->port;
	if (c->port != 0)
		ssh_options_set(c->s, SSH_OPTIONS_PORT, &c->port);
	if (o->identity != NULL)
		ssh_options_set(c->s, SSH_OPTIONS_ADD_IDENTITY, o->identity);
	if (o->known_hosts != NULL)
		ssh_options_set(c->s, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts);
	if (o->connect_timeout > 0) {
		long to = o->connect_timeout;

		ssh_options_set(c->s, SSH_OPTIONS_TIMEOUT, &to);
	}
	if (ssh_options_parse_config(c->s, o->config) != 0)
		return conn_fail(c, SC_ERR_FORMAT, "cannot parse ssh config %s",
		    o->config ? o->config : "~/.ssh/config");
	memset(&cb, 0, sizeof(cb));
	cb.auth_function = auth_cb;
	ssh_callbacks_init(&cb);
	ssh_set_callbacks(c->s, &cb);
	return 0;
}

static int
conn_connect(struct ssh_conn *c)
{
	unsigned int port = 0;

	if (ssh_connect(c->s) == SSH_OK)
		return 0;
	(void)ssh_options_get_port(c->s, &port);
	return conn_fail(c, SC_ERR_SYSTEM, "ssh: connect to %s port %u: %s",
	    c->host, port, ssh_get_error(c->s));
}

static int
conn_auth(struct ssh_conn *c, const struct ssh_opts *o)
{
	char *user = NULL;
	int r;

	if (ssh_options_get(c->s, SSH_OPTIONS_USER, &user) != SSH_OK)
		user = NULL;
	r = authenticate(c->s, o, user ? user : "?", c->host, c->msg, c->msgsz);
	if (user != NULL)
		ssh_string_free_char(user);
	return r;
}

/* Ask for a pty the size of our terminal (80x24 without one). */
static int
conn_pty(struct ssh_conn *c, const struct ssh_opts *o)
{
	struct winsize ws;
	int cols = 80, rows = 24;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
		cols = ws.ws_col;
		rows = ws.ws_row;
	}
	if (ssh_channel_request_pty_size(c->ch, o->term ? o->term : "xterm",
	    cols, rows) != SSH_OK)
		return conn_fail(c, SC_ERR_SYSTEM, "pty request failed: %s",
		    ssh_get_error(c->s));
	return 0;
}

/* The socketpairs to the pump, the session channel, the command. */
static int
conn_channel(struct ssh_conn *c, const struct ssh_opts *o, const char *cmd,
    struct pump *pump)
{
	static struct ssh_channel_callbacks_struct ccb;
	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->dsock) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->esock) != 0 ||
	    (o->want_pty &&
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, c->csock) != 0))
		return conn_fail(c, SC_ERR_SYSTEM, "socketpair: %s",
		    strerror(errno));
	memset(pump, 0, sizeof(*pump));
	pump->exit_status = -1;
	pump->sock = c->dsock[1];
	pump->esock = c->esock[1];
	pump->csock = c->csock[1];
	if ((c->ch = ssh_channel_new(c->s)) == NULL ||
	    ssh_channel_open_session(c->ch) != SSH_OK)
		return conn_fail(c, SC_ERR_SYSTEM, "cannot open a session "
		    "channel: %s", ssh_get_error(c->s));
	memset(&ccb, 0, sizeof(ccb));
	ccb.userdata = pump;
	ccb.channel_data_function = on_channel_data;
	ccb.channel_eof_function = on_channel_eof;
	ccb.channel_close_function = on_channel_close;
	ccb.channel_exit_status_function = on_exit_status;
	ssh_callbacks_init(&ccb);
	ssh_set_channel_callbacks(c->ch, &ccb);
	if (o->want_pty && (r = conn_pty(c, o)) < 0)
		return r;
	if (ssh_channel_request_exec(c->ch, cmd) != SSH_OK)
		return conn_fail(c, SC_ERR_SYSTEM, "cannot run '%s': %s", cmd,
		    ssh_get_error(c->s));
	return 0;
}

/*
 * The parent's copy of a session the pump child owns now: dropped without
 * telling the server anything.  /dev/null takes the socket's descriptor
 * number, so freeing the session here closes only that.
 */
static void
drop_session(ssh_session s)
{
	int fd = ssh_get_fd(s), nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (nul >= 0 && fd >= 0 && dup2(nul, fd) >= 0) {
		close(nul);
		ssh_free(s);
	} else {
		if (nul >= 0)
			close(nul);
		if (fd >= 0)
			close(fd);	/* the session stays allocated */
	}
}

static void
close_pair(int sv[2])
{
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	sv[0] = sv[1] = -1;
}

/* Fork the pump; the loop keeps the socketpairs' other ends. */
static int
conn_pump(struct ssh_conn *c, struct pump *pump, struct transport *t)
{
	pid_t pid;

	if ((pid = fork()) < 0)
		return conn_fail(c, SC_ERR_SYSTEM, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(c->dsock[0]);
		close(c->esock[0]);
		if (c->csock[0] >= 0)
			close(c->csock[0]);
		pump_run(c->s, c->ch, pump);
	}
	drop_session(c->s);
	c->s = NULL;
	close(c->dsock[1]);
	close(c->esock[1]);
	if (c->csock[1] >= 0)
		close(c->csock[1]);
	t->pid = pid;
	t->rfd = t->wfd = c->dsock[0];
	t->efd = c->esock[0];
	t->cfd = c->csock[0];
	return 0;
}

static void
conn_free(struct ssh_conn *c)
{
	close_pair(c->dsock);
	close_pair(c->esock);
	close_pair(c->csock);
	if (c->ch != NULL)
		ssh_channel_free(c->ch);
	if (c->s != NULL) {
		ssh_disconnect(c->s);
		ssh_free(c->s);
	}
}

int
transport_ssh_start(struct transport *t, const struct ssh_opts *o,
    const char *cmd, char *msg, size_t msgsz)
{
	static struct pump pump;
	struct ssh_conn c = { .dsock = { -1, -1 }, .esock = { -1, -1 },
	    .csock = { -1, -1 }, .msg = msg, .msgsz = msgsz };
	int r;

	memset(t, 0, sizeof(*t));
	t->kind = TRANSPORT_SSH;
	t->rfd = t->wfd = t->efd = t->cfd = -1;
	t->pid = -1;
	msg[0] = '\0';
	if ((r = conn_setup(&c, o)) < 0)
		goto out;
	snprintf(t->host, sizeof(t->host), "%s", c.host);
	if ((r = conn_connect(&c)) < 0 ||
	    (r = check_host_key(c.s, o, c.host, msg, msgsz)) < 0 ||
	    (r = conn_auth(&c, o)) < 0 ||
	    (r = conn_channel(&c, o, cmd, &pump)) < 0 ||
	    (r = conn_pump(&c, &pump, t)) < 0)
		goto out;
	return 0;
out:
	conn_free(&c);
	return r;
}
