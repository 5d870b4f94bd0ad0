#ifndef ONEKUBE_CLINUX_H
#define ONEKUBE_CLINUX_H
#include <sys/types.h>
#include <spawn.h>
#include <sys/xattr.h>

/// posix_spawn flag that makes the child a session leader (glibc >= 2.26); a macro Swift cannot import.
int cz_posix_spawn_setsid_flag(void);

/// Closes every descriptor from `lowfd` up in the spawned child (glibc's addclosefrom_np, a
/// GNU extension Swift's Glibc module does not expose).
int cz_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd);

/// Ignores SIGPIPE process-wide so that a peer closing a socket never kills the daemon.
void cz_ignore_sigpipe(void);

#endif
