/*
 * ctlog.h — the ciphertext log, the sink the relay hands every record's
 * ciphertext to (sccrypt.conf(5) log_dir; PROTOCOL.md §9.5): one file per
 * domain, LOG_DIR/NAME.sclog, of entries
 *
 *   dir:u8 ('I' input, 'O' output)  ts_ms:u64  len:u16  ciphertext[len]
 *
 * big-endian.  It rotates to NAME.sclog.1 before an entry could pass
 * max_bytes.  Only ever given record ciphertext: dom0 holds no key, the log
 * holds nothing it could read.  A failure (open, write) is logged once and
 * stops that domain's log until sc_ctlog_retry() (the next domain rescan);
 * a failed write is cut off, so the file stays whole entries.  No error
 * reaches the relay: a full disk must not end a console session.
 */
#ifndef SC_CONSOLED_CTLOG_H
#define SC_CONSOLED_CTLOG_H

#include <stddef.h>
#include <stdint.h>

#define SC_CTLOG_SUFFIX		".sclog"

struct sc_ctlog {
	int		fd;	/* -1: not open; -2: failed, until sc_ctlog_retry() */
	uint64_t	size;	/* bytes in the open file */
};

/* A closed log (fd -1). */
void	sc_ctlog_init(struct sc_ctlog *l);
/* Close the file (the domain is gone, the backend down, the daemon exits). */
void	sc_ctlog_close(struct sc_ctlog *l);
/* Let a log that failed try again at its next entry. */
void	sc_ctlog_retry(struct sc_ctlog *l);
/*
 * Append one entry of domain `name` to dir/name.sclog (nothing if dir is
 * "" or len > SC_RECORD_CT_MAX); opens the file on first use.
 */
void	sc_ctlog_append(struct sc_ctlog *l, const char *dir, uint64_t max_bytes,
	    const char *name, uint8_t direction, uint64_t ts_ms,
	    const uint8_t *ct, size_t len);

#endif /* SC_CONSOLED_CTLOG_H */
