/*
 * cbinding.c - opening a dependency and filling its table (see cbinding.h
 * for why the engine's C dependencies are bound this way).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Everything defined here stays inside the library. */
#pragma GCC visibility push(hidden)
#include "cbinding.h"

/* One lock for every binding: loading is rare, and one lock is one thing
 * to hold across fork(). */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static char failure[512];

/* load_lock must not be held across fork() by another thread. */
static void fork_prepare(void) { pthread_mutex_lock(&load_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&load_lock); }
static void fork_child(void) { pthread_mutex_unlock(&load_lock); }
static void register_atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* Whether a sanitizer runtime is in the process (it would abort on
 * RTLD_DEEPBIND). Their init functions are exported whenever they run. */
static int
sanitized(void)
{
    static const char *const runtimes[] = {"__asan_init", "__tsan_init", "__msan_init", "__hwasan_init"};
    for (size_t i = 0; i < sizeof runtimes / sizeof runtimes[0]; i++) {
        if (dlsym(RTLD_DEFAULT, runtimes[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* The file the current table came from (to copy it after a fork). */
static int
loaded_file(const struct cbind_library *library, char *path, size_t size)
{
    Dl_info info;
    void *symbol;
    memcpy(&symbol, &library->table[0], sizeof symbol);
    if (dladdr(symbol, &info) == 0 || info.dli_fname == NULL) {
        return -1;
    }
    snprintf(path, size, "%s", info.dli_fname);
    return 0;
}

/* A fresh copy of the file at `path`, as a memfd: returns "/proc/self/fd/N"
 * in `copy` and the fd, or -1. The fd stays open for good, one per
 * dependency and fork: the dynamic loader knows loaded objects by their
 * path, so were N closed and reused for the next dependency's copy,
 * dlopen() would hand back this one. */
static int
fresh_copy(const char *path, char *copy, size_t size)
{
    char buffer[65536];
    ssize_t n;
    int source = open(path, O_RDONLY | O_CLOEXEC);
    int target = memfd_create("swiftwebhook-after-fork", MFD_CLOEXEC);
    if (source < 0 || target < 0) {
        snprintf(failure, sizeof failure, "after fork: cannot copy %s for a fresh copy: %s", path, strerror(errno));
        if (source >= 0) close(source);
        if (target >= 0) close(target);
        return -1;
    }
    while ((n = read(source, buffer, sizeof buffer)) > 0) {
        if (write(target, buffer, (size_t) n) != n) {
            n = -1;
            break;
        }
    }
    close(source);
    if (n < 0) {
        snprintf(failure, sizeof failure, "after fork: cannot copy %s for a fresh copy", path);
        close(target);
        return -1;
    }
    snprintf(copy, size, "/proc/self/fd/%d", target);
    return target;
}

/* Opens `path` (named `name` in errors) and fills the table from it; 0, or
 * -1 with `failure` set. */
static int
load_from(struct cbind_library *library, const char *path, const char *name)
{
    int deep = sanitized() ? 0 : RTLD_DEEPBIND;
    /* Loaded already (the host links the same file): dlopen hands back
     * that copy, whose state (nng's threads) the host shares. */
    void *already = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    library->shared = already != NULL;
    if (already != NULL) {
        dlclose(already);
    }
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | deep);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "cannot load %s (%s): %s", name, library->package,
            why != NULL ? why : "unknown error");
        return -1;
    }
    for (size_t i = 0; i < library->count; i++) {
        /* Copied, not cast: ISO C has no object-to-function pointer cast. */
        void *symbol;
        dlerror();
        symbol = dlsym(handle, library->names[i]);
        if (symbol == NULL) {
            const char *why = dlerror();
            snprintf(failure, sizeof failure, "%s has no %s (%s); %s", library->file, library->names[i],
                why != NULL ? why : "not found", library->requirement);
            return -1;
        }
        memcpy(&library->table[i], &symbol, sizeof symbol);
    }
    library->isolated = deep != 0;
    return 0;
}

int
cbind_load(struct cbind_library *library, char *err, size_t errlen)
{
    int outcome = 0;
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&load_lock);
    if (library->loaded_in == 0) {
        outcome = load_from(library, library->file, library->file);
    } else if (library->loaded_in != getpid()) {
        char path[4096], copy[64];
        int fd = -1;
        outcome = loaded_file(library, path, sizeof path);
        if (outcome != 0) {
            snprintf(failure, sizeof failure, "after fork: cannot find the file %s was loaded from", library->file);
        } else if ((fd = fresh_copy(path, copy, sizeof copy)) < 0) {
            outcome = -1;
        } else {
            outcome = load_from(library, copy, path); /* fd stays open (see fresh_copy) */
        }
    }
    if (outcome == 0) {
        library->loaded_in = getpid();
    } else if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", failure);
    }
    pthread_mutex_unlock(&load_lock);
    return outcome;
}

#pragma GCC visibility pop
