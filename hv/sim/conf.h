/*
 * conf.h — sccrypt-hvsim's configuration file (see sccrypt-hvsim(8)).
 *
 *   # comment
 *   socket = /run/sccrypt/hvsim.sock
 *   socket-mode = 0660
 *   tpm-tcti = swtpm:host=127.0.0.1,port=2321
 *   pcr = 15
 *   history = 65536
 *   owner-ca = <64 hex digits: the key server's owner CA, Ed25519>
 *
 *   [domain vm1]
 *   domid = 1
 *   uuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11
 *   disk = /var/lib/sccrypt/vm1.img
 *   command = /bin/bash -l
 *   history = 65536
 *   input-log = /var/log/sccrypt/vm1-input.log
 *   user = vm1console
 */
#ifndef SC_HVSIM_CONF_H
#define SC_HVSIM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/wire.h"

#define HVSIM_MAX_DOMAINS	1024	/* consoled's table: SC_BK_DOMAINS_MAX */
#define HVSIM_PATH_MAX		1024
#define HVSIM_CMD_MAX		1024
#define HVSIM_USER_MAX		32	/* login name: [A-Za-z0-9._-], not '-' first */

struct hvsim_domain_conf {
	char		name[SC_VMNAME_MAX + 1];
	uint32_t	domid;
	uint8_t		uuid[SC_UUID_LEN];
	char		disk[HVSIM_PATH_MAX];		/* "" = cannot be protected */
	char		command[HVSIM_CMD_MAX];		/* "" = the default */
	size_t		history;			/* 0 = global default */
	char		input_log[HVSIM_PATH_MAX];	/* "" = none */
	char		user[HVSIM_USER_MAX + 1];	/* "" = hvsim's own user */
};

struct hvsim_conf {
	char		socket[HVSIM_PATH_MAX];
	mode_t		socket_mode;
	char		tcti[HVSIM_PATH_MAX];
	unsigned	pcr;
	size_t		history;
	/* owner-ca: PROTECT then needs an ownership token (core/owner.h). */
	bool		owner_ca_set;
	uint8_t		owner_ca[32];
	unsigned	ndomains;
	struct hvsim_domain_conf dom[HVSIM_MAX_DOMAINS];
};

void	hvsim_conf_defaults(struct hvsim_conf *c);
/*
 * Parse the file; on error returns a negative SC_ERR_* code and writes a
 * message naming the file and line into err.
 */
int	hvsim_conf_load(struct hvsim_conf *c, const char *path, char *err,
	    size_t errsz) __attribute__((warn_unused_result));
/* Same, from a buffer (for tests and the fuzzer). */
int	hvsim_conf_parse(struct hvsim_conf *c, const char *text, size_t len,
	    const char *name, char *err, size_t errsz)
	    __attribute__((warn_unused_result));

#endif /* SC_HVSIM_CONF_H */
