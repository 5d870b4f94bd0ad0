#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include "CLinux.h"

int cz_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

void cz_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int cz_posix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
}
