/*
 * pidfile.h — one daemon per configuration.
 *
 * sc_pidfile_lock() opens (creating, 0644) a pid file, takes an exclusive
 * flock() on it without waiting and writes our pid; the lock is held for
 * the daemon's life through the returned descriptor (close-on-exec, kept
 * across fork: a daemonising parent may exit, the child keeps the lock; call
 * sc_pidfile_update() in the child to write its pid).  While another
 * process holds it: SC_ERR_BUSY and *other = its pid (0 if unreadable).
 * sc_pidfile_release() unlinks the file while still holding the lock.
 *
 * sc_unix_socket_live() tells whether something accepts connections on a
 * unix socket path (stream or seqpacket): a daemon must not unlink a live
 * socket, only a stale one.
 */
#ifndef SC_PIDFILE_H
#define SC_PIDFILE_H

#include <stdbool.h>

int	sc_pidfile_lock(const char *path, int *fd, long *other);
int	sc_pidfile_update(int fd);
void	sc_pidfile_release(const char *path, int fd);
bool	sc_unix_socket_live(const char *path, int type);

#endif /* SC_PIDFILE_H */
