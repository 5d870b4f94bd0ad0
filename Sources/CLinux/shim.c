#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "CLinux.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int cz_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

void cz_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int cz_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
}

int cz_unshare(int flags) { return unshare(flags); }
int cz_setns(int fd, int nstype) { return setns(fd, nstype); }
int cz_pivot_root(const char *new_root, const char *put_old) { return (int)syscall(SYS_pivot_root, new_root, put_old); }

int cz_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int cz_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int cz_waitid_pidfd(int pidfd, int flags, int *status) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | flags) != 0) return -1;
    if (info.si_pid == 0) { errno = EAGAIN; return -1; }
    *status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    return 0;
}

int cz_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int cz_set_keepcaps(int on) { return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0); }
int cz_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int cz_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
int cz_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int cz_cap_last_cap(void) {
    int last = CAP_LAST_CAP;
    while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) last++;
    return last;
}
int cz_capbset_drop(int cap) { return prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); }
int cz_ambient_clear_all(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); }

int cz_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)effective; data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted; data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = (uint32_t)inheritable; data[1].inheritable = (uint32_t)(inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

int cz_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    *effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = (uint64_t)data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}

int cz_openpty(int *master, int *slave, unsigned short rows, unsigned short cols) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0) { int e = errno; close(m); errno = e; return -1; }
    char name[128];
    if (ptsname_r(m, name, sizeof name) != 0) { int e = errno; close(m); errno = e; return -1; }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) { int e = errno; close(m); errno = e; return -1; }
    if (rows > 0 && cols > 0) cz_set_winsize(m, rows, cols);
    *master = m;
    *slave = s;
    return 0;
}

int cz_set_controlling_tty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }

int cz_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize size = { rows, cols, 0, 0 };
    return ioctl(fd, TIOCSWINSZ, &size);
}

int cz_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *cols = size.ws_col;
    return 0;
}

int cz_make_raw(int fd, void **saved) {
    struct termios *old = malloc(sizeof(struct termios));
    if (old == NULL) return -1;
    if (tcgetattr(fd, old) != 0) { free(old); return -1; }
    struct termios raw = *old;
    cfmakeraw(&raw);
    if (tcsetattr(fd, TCSANOW, &raw) != 0) { free(old); return -1; }
    *saved = old;
    return 0;
}

int cz_restore_termios(int fd, void *saved) {
    int rc = tcsetattr(fd, TCSANOW, (struct termios *)saved);
    free(saved);
    return rc;
}

int cz_send_fd(int socket, int fd) {
    char byte = 0;
    struct iovec iov = { &byte, 1 };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t n;
    do { n = sendmsg(socket, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

int cz_recv_fd(int socket) {
    char byte = 0;
    struct iovec iov = { &byte, 1 };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n;
    do { n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n <= 0) { if (n == 0) errno = 0; return -1; }
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS) { errno = EPROTO; return -1; }
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

int cz_send_message(int socket, const void *bytes, size_t length, const int *fds, int count) {
    if (count < 0 || count > 8) { errno = EINVAL; return -1; }
    struct iovec iov = { (void *)bytes, length };
    union { char buf[CMSG_SPACE(8 * sizeof(int))]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (count > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(count * sizeof(int));
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(count * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, count * sizeof(int));
    }
    ssize_t n;
    do { n = sendmsg(socket, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == (ssize_t)length ? 0 : -1;
}

long cz_recv_message(int socket, void *bytes, size_t capacity, int *fds, int capacity_fds, int *count) {
    struct iovec iov = { bytes, capacity };
    union { char buf[CMSG_SPACE(8 * sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n;
    do { n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    *count = 0;
    if (n < 0) return -1;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        int received = (int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *data = (int *)CMSG_DATA(cmsg);
        for (int i = 0; i < received; i++) {
            if (*count < capacity_fds) fds[(*count)++] = data[i]; else close(data[i]);
        }
    }
    return (long)n;
}

int cz_signalfd_sigchld(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC);
}

void cz_reset_signals(void) {
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int cz_close_from(int low) { return (int)syscall(SYS_close_range, low, ~0U, 0); }

long cz_splice(int fd_in, int fd_out, size_t length) {
    return (long)splice(fd_in, NULL, fd_out, NULL, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

int cz_pipe_nonblocking(int fds[2], int size) {
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    // Refused above /proc/sys/fs/pipe-max-size for an unprivileged process: the default will do.
    (void)fcntl(fds[1], F_SETPIPE_SZ, size);
    int capacity = fcntl(fds[1], F_GETPIPE_SZ);
    if (capacity < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
    }
    return capacity;
}

int cz_accept_nonblocking(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cz_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cz_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
