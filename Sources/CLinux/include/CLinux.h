#ifndef ONEKUBE_CLINUX_H
#define ONEKUBE_CLINUX_H
#include <sys/types.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/xattr.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/sched.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/veth.h>

/// posix_spawn flag that makes the child a session leader (glibc >= 2.26); a macro Swift cannot import.
int cz_posix_spawn_setsid_flag(void);

/// Closes every descriptor from `lowfd` up in the spawned child (glibc's addclosefrom_np, a
/// GNU extension Swift's Glibc module does not expose).
int cz_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd);

/// Ignores SIGPIPE process-wide so that a peer closing a socket never kills the daemon.
void cz_ignore_sigpipe(void);

// Namespaces and the root file system (the container helper; never called in the threaded daemon).
int cz_unshare(int flags);
int cz_setns(int fd, int nstype);
int cz_pivot_root(const char *new_root, const char *put_old);

// Processes.
int cz_pidfd_open(pid_t pid);
int cz_pidfd_send_signal(int pidfd, int sig);
/// waitid(P_PIDFD, …, WEXITED | flags): 0 and the shell-style status (exit code, or 128+signal)
/// in `status` when the child has exited; -1 with errno otherwise (EAGAIN/ECHILD…).
int cz_waitid_pidfd(int pidfd, int flags, int *status);
int cz_set_pdeathsig(int sig);
int cz_set_keepcaps(int on);
int cz_set_no_new_privs(void);
int cz_memfd_create(const char *name);
/// pipe2(fds, O_CLOEXEC).
int cz_pipe_cloexec(int fds[2]);

// Capabilities (only what runc-style setup needs).
int cz_cap_last_cap(void);
int cz_capbset_drop(int cap);
int cz_ambient_clear_all(void);
int cz_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int cz_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);

// Terminals.
int cz_openpty(int *master, int *slave, unsigned short rows, unsigned short cols);
int cz_set_controlling_tty(int fd);
/// Passes a descriptor over a unix socket (SCM_RIGHTS); the receiver gets its own copy.
int cz_send_fd(int socket, int fd);
/// Receives one descriptor (close-on-exec); -1 with errno, or -1 and errno 0 at EOF.
int cz_recv_fd(int socket);
/// A message with up to 8 descriptors (SCM_RIGHTS) on a SOCK_SEQPACKET socket.
int cz_send_message(int socket, const void *bytes, size_t length, const int *fds, int count);
/// Receives one message and its descriptors (close-on-exec): the message length (0 at EOF) or -1.
long cz_recv_message(int socket, void *bytes, size_t capacity, int *fds, int capacity_fds, int *count);
/// Blocks SIGCHLD and returns a signalfd for it (close-on-exec).
int cz_signalfd_sigchld(void);
/// Unblocks every signal and restores default dispositions (a forked child of the zygote).
void cz_reset_signals(void);
/// Closes every descriptor from `low` up.
int cz_close_from(int low);
int cz_set_winsize(int fd, unsigned short rows, unsigned short cols);
int cz_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int cz_make_raw(int fd, void **saved);
int cz_restore_termios(int fd, void *saved);

// The service proxy's splice path (GNU extensions Swift's Glibc module does not expose).
/// splice(2) between two descriptors, one of them a pipe, without blocking: bytes moved, 0 at
/// EOF, or -1 with errno (EAGAIN when nothing can move now).
long cz_splice(int fd_in, int fd_out, size_t length);
/// pipe2(fds, O_NONBLOCK | O_CLOEXEC), then F_SETPIPE_SZ to `size` (kept at the default when
/// refused): the capacity, or -1 with errno.
int cz_pipe_nonblocking(int fds[2], int size);
/// accept4(fd, …, SOCK_NONBLOCK | SOCK_CLOEXEC).
int cz_accept_nonblocking(int fd, struct sockaddr *address, socklen_t *length);
/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC).
int cz_eventfd(void);
/// Names the calling thread as ps, top -H and perf show it (PR_SET_NAME; 15 bytes kept).
int cz_set_thread_name(const char *name);

#endif
