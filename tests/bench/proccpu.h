/*
 * proccpu.h — CPU time of other processes, for sc-bench's per-keystroke
 * figures (docs/benchmarks.md, "SCCrypt's CPU per keystroke").
 *
 * The CPU time of a task is the first field of /proc/PID/schedstat
 * (sum_exec_runtime, nanoseconds, user and system together), exact at the
 * moment the task last stopped running: read it while the task sleeps (as
 * every process of a console path does between keystrokes) and the
 * difference of two reads is the CPU it spent in between.  The programs
 * measured are single-threaded; a process's other threads are not counted.
 *
 * The third field is the number of times the task was put on a CPU (a
 * wake-up, or a return after preemption), and /proc/PID/io's syscr and
 * syscw count its read- and write-class system calls (read, write, recv,
 * send...; not poll or epoll_wait): what a keystroke costs in kernel
 * entries, which on this machine cost more than SCCrypt's code.
 *
 * A set holds open descriptors of such files, so that a snapshot costs two
 * preads per process and no directory scan.
 */
#ifndef SC_BENCH_PROCCPU_H
#define SC_BENCH_PROCCPU_H

#include <stdint.h>
#include <sys/types.h>

#define PROCCPU_MAX	8

struct proccpu {
	int	fd[PROCCPU_MAX];	/* /proc/PID/schedstat */
	int	iofd[PROCCPU_MAX];	/* /proc/PID/io */
	pid_t	pid[PROCCPU_MAX];
	int	n;
};

/* Sums over a set's processes. */
struct proccpu_val {
	uint64_t	ns;		/* CPU time, nanoseconds */
	uint64_t	runs;		/* times put on a CPU */
	uint64_t	syscalls;	/* syscr + syscw */
};

void	proccpu_init(struct proccpu *s);
/* Add pid to s; -1 if it is gone or s is full. */
int	proccpu_add(struct proccpu *s, pid_t pid);
/* The sums of s's processes now. */
void	proccpu_read(const struct proccpu *s, struct proccpu_val *v);
void	proccpu_close(struct proccpu *s);

/*
 * Add the descendants of root (root included) whose command name is not
 * skip_comm (e.g. "ssh": the transport, not SCCrypt).  Returns how many
 * were added.
 */
int	proccpu_add_tree(struct proccpu *s, pid_t root, const char *skip_comm);
/*
 * Add the processes named comm whose SSH_ORIGINAL_COMMAND, surrounded by
 * spaces or at the end, occurs in cmd: the dom0 shim sshd started for the
 * client whose command line is cmd.  Returns how many were added.
 */
int	proccpu_add_forced(struct proccpu *s, const char *comm, const char *cmd);

#endif /* SC_BENCH_PROCCPU_H */
