/*
 * io.h — small I/O helpers for user-space programs.
 */
#ifndef SC_IO_H
#define SC_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write/read all n bytes, retrying on EINTR/EAGAIN (poll). 0 or SC_ERR_*. */
int	sc_write_all(int fd, const void *buf, size_t n) __attribute__((warn_unused_result));
int	sc_read_all(int fd, void *buf, size_t n) __attribute__((warn_unused_result));
int	sc_set_nonblock(int fd, int on) __attribute__((warn_unused_result));
int	sc_set_cloexec(int fd) __attribute__((warn_unused_result));
/* Read a whole small file (<= max bytes) into malloc'd *out. */
int	sc_read_file(const char *path, size_t max, unsigned char **out, size_t *len)
	    __attribute__((warn_unused_result));
/* Write a file atomically (temp + fsync + rename) with the given mode. */
int	sc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
	    __attribute__((warn_unused_result));
/*
 * Parse a whole string as an unsigned number in base (0: C prefixes) within
 * [min, max]: no sign, no trailing characters, no overflow.  0 or
 * SC_ERR_FORMAT (not a number) / SC_ERR_TOOLONG (out of range).
 */
int	sc_parse_ulong(const char *s, int base, unsigned long min,
	    unsigned long max, unsigned long *out) __attribute__((warn_unused_result));
/* Monotonic milliseconds, and the same clock in microseconds (0: no clock). */
unsigned long long sc_now_ms(void);
unsigned long long sc_now_us(void);
/*
 * A registration blob's generation (core/blob.h): wall-clock microseconds
 * since the epoch, at least 1, so a blob sealed later on a sane clock binds
 * over an earlier one.
 */
uint64_t sc_blob_generation_now(void);

#endif /* SC_IO_H */
