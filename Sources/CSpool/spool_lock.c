/*
 * spool_lock.c - spool directory locks, let go of in a fork() child (see
 * include/spool_lock.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#pragma GCC visibility push(hidden)
#include "spool_lock.h"

/* The lock fds this process holds. Guarded by `guard`, which fork() holds
 * too (prepare), so the child's copy is consistent. */
static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int *held;
static size_t held_count, held_capacity;

static void fork_prepare(void) { pthread_mutex_lock(&guard); }
static void fork_parent(void) { pthread_mutex_unlock(&guard); }

static void
fork_child(void)
{
    /* close(), never flock(LOCK_UN): the description, and its lock, is
     * the parent's as well. */
    for (size_t i = 0; i < held_count; i++) {
        close(held[i]);
    }
    held_count = 0;
    pthread_mutex_unlock(&guard);
}

static void register_atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

int
cspool_lock(const char *path)
{
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&guard);
    int fd = -1, saved = 0;
    if (held_count == held_capacity) {
        size_t capacity = held_capacity ? 2 * held_capacity : 4;
        int *grown = realloc(held, capacity * sizeof *held);
        if (grown == NULL) {
            pthread_mutex_unlock(&guard);
            errno = ENOMEM;
            return -1;
        }
        held = grown;
        held_capacity = capacity;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        saved = errno;
        close(fd);
        fd = -1;
        errno = saved;
    }
    if (fd >= 0) {
        held[held_count++] = fd;
    }
    saved = errno;
    pthread_mutex_unlock(&guard);
    errno = saved;
    return fd;
}

void
cspool_unlock(int fd)
{
    pthread_mutex_lock(&guard);
    for (size_t i = 0; i < held_count; i++) {
        if (held[i] == fd) {
            held[i] = held[--held_count];
            break;
        }
    }
    flock(fd, LOCK_UN);
    close(fd);
    pthread_mutex_unlock(&guard);
}

#pragma GCC visibility pop
