#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include "CLinux.h"

int cz_posix_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

void cz_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }
