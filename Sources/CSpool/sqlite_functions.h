/*
 * Every function the spool calls from libsqlite3.so.0, once: binding.c
 * turns this list into the table of resolved addresses and into the
 * forwarders the spool links against (Sources/CBinding/include/
 * cbinding_table.h). A new call in the spool needs a line here (the link
 * fails with an undefined sqlite3_* symbol otherwise).
 *
 *   CBIND_FUNCTION(return type, name, (parameters), (arguments))
 */
CBIND_FUNCTION(int, sqlite3_libversion_number, (void), ())
CBIND_FUNCTION(int, sqlite3_open_v2, (const char *f, sqlite3 **db, int flags, const char *vfs), (f, db, flags, vfs))
CBIND_FUNCTION(int, sqlite3_close_v2, (sqlite3 *db), (db))
CBIND_FUNCTION(int, sqlite3_busy_timeout, (sqlite3 *db, int ms), (db, ms))
CBIND_FUNCTION(int, sqlite3_exec, (sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *arg, char **errmsg), (db, sql, cb, arg, errmsg))
CBIND_FUNCTION(int, sqlite3_get_autocommit, (sqlite3 *db), (db))
CBIND_FUNCTION(int, sqlite3_errcode, (sqlite3 *db), (db))
CBIND_FUNCTION(const char *, sqlite3_errmsg, (sqlite3 *db), (db))
CBIND_FUNCTION(const char *, sqlite3_errstr, (int rv), (rv))
CBIND_FUNCTION(int, sqlite3_prepare_v2, (sqlite3 *db, const char *sql, int n, sqlite3_stmt **s, const char **tail), (db, sql, n, s, tail))
CBIND_FUNCTION(int, sqlite3_finalize, (sqlite3_stmt *s), (s))
CBIND_FUNCTION(int, sqlite3_reset, (sqlite3_stmt *s), (s))
CBIND_FUNCTION(int, sqlite3_step, (sqlite3_stmt *s), (s))
CBIND_FUNCTION(int, sqlite3_bind_int64, (sqlite3_stmt *s, int i, sqlite3_int64 v), (s, i, v))
CBIND_FUNCTION(int, sqlite3_bind_blob, (sqlite3_stmt *s, int i, const void *v, int n, void (*destructor)(void *)), (s, i, v, n, destructor))
CBIND_FUNCTION(int, sqlite3_bind_text, (sqlite3_stmt *s, int i, const char *v, int n, void (*destructor)(void *)), (s, i, v, n, destructor))
CBIND_FUNCTION(int, sqlite3_changes, (sqlite3 *db), (db))
CBIND_FUNCTION(sqlite3_int64, sqlite3_column_int64, (sqlite3_stmt *s, int i), (s, i))
CBIND_FUNCTION(int, sqlite3_column_bytes, (sqlite3_stmt *s, int i), (s, i))
CBIND_FUNCTION(const void *, sqlite3_column_blob, (sqlite3_stmt *s, int i), (s, i))
CBIND_FUNCTION(const unsigned char *, sqlite3_column_text, (sqlite3_stmt *s, int i), (s, i))
