#ifndef ONEKUBE_CSQLITE_H
#define ONEKUBE_CSQLITE_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer: Swift cannot import it.
int cz_sqlite3_bind_text_transient(sqlite3_stmt *s, int i, const char *v, int n);
int cz_sqlite3_bind_blob_transient(sqlite3_stmt *s, int i, const void *v, int n);
#endif
