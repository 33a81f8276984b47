/*
 * ctl.h — the local protocol between sccrypt-console (shim) and
 * sccrypt-consoled over consoled's AF_UNIX stream socket
 * (PROTOCOL.md §9.2 is the prose form).  Both programs link it from
 * libsccrypt; neither includes the other's files.
 *
 * The shim sends exactly one request line (at most SC_CTL_LINE_MAX bytes
 * including the '\n'):
 *
 *   "SCCRYPT/1" SP verb SP vm SP enc [SP "as=" uid] LF
 *
 *   verb  console | auto | protect | info | pubkey
 *   vm    a VM name (sc_vmname_valid), or "-" for pubkey
 *   enc   B | A  (frame encoding, wire.h)
 *   as=   decimal uid the request is made for; only honoured when the peer
 *         (SO_PEERCRED) is uid 0, i.e. the shim runs under sudo.
 *
 * consoled answers with one status line:
 *
 *   "OK" SP mode LF          mode: framed | raw | text
 *   "ERR" SP code SP text LF code: see enum sc_ctl_status
 *
 * after which the connection carries the relay: for "framed" the byte stream
 * of wire.h (magic, HELLO, frames) in both directions; for "raw" plaintext
 * console bytes (unprotected domains only); for "text" one or more lines of
 * text and then EOF.
 */
#ifndef SC_CTL_H
#define SC_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/wire.h"

/* sccrypt.conf(5), where both programs look (builds set it with -D). */
#ifndef SC_DEFAULT_CONF
#define SC_DEFAULT_CONF		"/etc/sccrypt/sccrypt.conf"
#endif

#define SC_CTL_MAGIC		"SCCRYPT/1"
#define SC_CTL_LINE_MAX		160
#define SC_CTL_TEXT_MAX		120	/* text in an ERR line */

/* The socket's path and consoled's stall timeout when sccrypt.conf(5)
 * does not say (the shim and consoled must agree on both). */
#define SC_CTL_DEFAULT_LISTEN	"/run/sccrypt/consoled.sock"
#define SC_CTL_STALL_DEFAULT	30	/* s */
#define SC_CTL_STALL_MAX	86400	/* s */

enum sc_ctl_verb {
	SC_CTL_CONSOLE = 1,
	SC_CTL_AUTO,
	SC_CTL_PROTECT,
	SC_CTL_INFO,
	SC_CTL_PUBKEY,
};

enum sc_ctl_mode {
	SC_CTL_MODE_FRAMED = 1,
	SC_CTL_MODE_RAW,
	SC_CTL_MODE_TEXT,
};

/* ERR codes, each with a fixed word on the wire and a shim exit status. */
enum sc_ctl_status {
	SC_CTL_OK = 0,
	SC_CTL_E_USAGE,		/* "usage": malformed request */
	SC_CTL_E_PERM,		/* "perm": policy denies this user this VM */
	SC_CTL_E_NODOMAIN,	/* "nodomain": no such VM */
	SC_CTL_E_BUSY,		/* "busy": per-domain or global client limit */
	SC_CTL_E_UNAVAILABLE,	/* "unavailable": hypervisor not reachable */
	SC_CTL_E_PROTECTED,	/* "protected": plaintext refused on a protected domain */
	SC_CTL_E_INTERNAL,	/* "internal" */
};

struct sc_ctl_request {
	int		verb;			/* enum sc_ctl_verb */
	char		vm[SC_VMNAME_MAX + 1];	/* "" for pubkey */
	uint8_t		encoding;
	int		has_as;
	uid_t		as_uid;
};

struct sc_ctl_reply {
	int		status;			/* enum sc_ctl_status */
	int		mode;			/* enum sc_ctl_mode when status == OK */
	char		text[SC_CTL_TEXT_MAX + 1];	/* sanitised */
};

/* Format/parse a request line (line includes the final '\n'). */
int	sc_ctl_request_format(const struct sc_ctl_request *rq, char *out,
	    size_t outsz, size_t *outlen) __attribute__((warn_unused_result));
int	sc_ctl_request_parse(const char *line, size_t len,
	    struct sc_ctl_request *rq) __attribute__((warn_unused_result));

int	sc_ctl_reply_format(const struct sc_ctl_reply *rp, char *out,
	    size_t outsz, size_t *outlen) __attribute__((warn_unused_result));
int	sc_ctl_reply_parse(const char *line, size_t len,
	    struct sc_ctl_reply *rp) __attribute__((warn_unused_result));

const char *sc_ctl_verb_name(int verb);
const char *sc_ctl_status_word(int status);

#endif /* SC_CTL_H */
