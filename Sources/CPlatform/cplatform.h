/*
 * cplatform.h - the C library, as the library's Swift code sees it.
 *
 * The library's targets import this module, never Glibc: Embedded Swift has
 * no Glibc overlay, and one module names every libc call the library makes.
 * What Swift cannot import as it is gets a small inline wrapper here:
 * errno (a macro), and open() and fcntl() (variadic). The Swift side of it,
 * where each call's failure becomes an `Errno` and EINTR is retried, is
 * WebhookCore/Platform/SystemCall.swift.
 */
#ifndef SWIFTWEBHOOK_CPLATFORM_H
#define SWIFTWEBHOOK_CPLATFORM_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The calling thread's errno. */
static inline int cplatform_errno(void) { return errno; }

/* open(2) with its mode always given. */
static inline int cplatform_open(const char *path, int flags, mode_t mode) { return open(path, flags, mode); }

/* fcntl(2) with an int argument (F_GETFL, F_SETFL, F_GETFD, F_SETFD). */
static inline int cplatform_fcntl(int fd, int command, int argument) { return fcntl(fd, command, argument); }

/* Names the calling thread (15 bytes at most are kept), as top, perf and
 * /proc/PID/task/TID/comm show it: prctl(2), variadic. */
static inline void cplatform_name_thread(const char *name) { prctl(PR_SET_NAME, (unsigned long) name, 0, 0, 0); }

#endif
