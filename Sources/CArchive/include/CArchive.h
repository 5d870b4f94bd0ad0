#ifndef ONEKUBE_CARCHIVE_H
#define ONEKUBE_CARCHIVE_H
#include <archive.h>
#include <archive_entry.h>
#endif
