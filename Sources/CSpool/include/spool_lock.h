/*
 * spool_lock.h - the lock that gives a spool directory to one process.
 *
 * flock() on the directory's lock file: held by an open file description,
 * so two engines (or two processes) on one directory refuse each other, and
 * it goes when the holder dies. But a fork() child shares the parent's
 * descriptions: a broker that inits, forks and exits to daemonize would
 * leave its child holding the lock its own new engine then waits for. So
 * the child closes every lock fd it inherited (never unlocking them: that
 * would unlock the parent's too); the parent keeps its lock while it lives.
 */
#ifndef SWIFTWEBHOOK_SPOOL_LOCK_H
#define SWIFTWEBHOOK_SPOOL_LOCK_H

/*
 * Opens (creating it, mode 0600) and locks `path`: the fd, or -1 with errno
 * (EWOULDBLOCK: another holder). A fork() never sees the fd half-registered.
 */
int cspool_lock(const char *path);

/* Unlocks and closes a fd cspool_lock() returned. */
void cspool_unlock(int fd);

#endif
