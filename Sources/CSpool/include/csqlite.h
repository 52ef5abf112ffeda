/*
 * csqlite.h - the parts of SQLite the spool uses, bound to Debian's
 * libsqlite3 at run time (see binding.c for why).
 *
 * The spool calls sqlite3_* by their usual names; those names resolve to
 * private forwarders inside the library, never to the sqlite3_* a host
 * process exports (NanoMQ built with its SQLite option does).
 * csqlite_load() must have succeeded before the first call.
 */
#ifndef SWIFTWEBHOOK_CSQLITE_H
#define SWIFTWEBHOOK_CSQLITE_H

#include <stddef.h>
#include <sqlite3.h>

/* The shared object loaded: Debian's libsqlite3-0 package, whose SONAME this is. */
#define CSQLITE_LIBRARY "libsqlite3.so.0"

/* The oldest SQLite the spool runs on: WITHOUT ROWID tables came in 3.8.2. */
#define CSQLITE_MINIMUM_VERSION 3008002

/*
 * Loads CSQLITE_LIBRARY and resolves every function the spool calls, once
 * per process (a fresh copy after fork()), and checks its version. Returns
 * 0, or -1 with the reason in err (always NUL-terminated when errlen > 0).
 */
int csqlite_load(char *err, size_t errlen);

/* SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift
 * cannot import as a macro. */
static inline sqlite3_destructor_type cswh_sqlite_transient(void) { return SQLITE_TRANSIENT; }

#endif
