#ifndef ONEKUBE_CLINUX_H
#define ONEKUBE_CLINUX_H
#include <sys/types.h>
#include <spawn.h>
#include <sys/xattr.h>

/// posix_spawn flag that makes the child a session leader (glibc >= 2.26); a macro Swift cannot import.
int cz_posix_spawn_setsid_flag(void);

/// Ignores SIGPIPE process-wide so that a peer closing a socket never kills the daemon.
void cz_ignore_sigpipe(void);

#endif
