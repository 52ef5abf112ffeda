/*
 * binding.c - the engine's nng calls, bound to Debian's libnng and to
 * nothing else.
 *
 * Why: a host broker may carry its own nng. NanoMQ links its fork (NanoNNG)
 * statically and, built for plugins with -rdynamic, exports ~660 nng_*
 * symbols. Had the library imported nng_* the usual way (DT_NEEDED libnng),
 * the dynamic linker would bind those imports - and libnng's calls into its
 * own API - to the host's definitions first, whose structs differ.
 *
 * How: the library has no nng imports at all. The nng_* names the engine
 * calls are the hidden forwarders below, each one an indirect call through
 * a table. cnng_load() fills the table from libnng.so.1 opened with
 * RTLD_DEEPBIND, so libnng (and the mbedtls it loads with it) look up
 * symbols in their own objects before the process's global scope, and
 * dlsym() on that handle searches only libnng's own dependency tree.
 *
 * Cost: one indirect call per nng call, one dlopen per process; ldd no
 * longer lists libnng (packages must still depend on libnng1); and libnng's
 * calls to malloc go straight to libc's, past any allocator the host
 * interposes (libnng frees what it allocates, so this stays consistent).
 * The sanitizer runtimes abort on RTLD_DEEPBIND, so under ASan, TSan or
 * MSan the library loads libnng without it: isolation is then off, which
 * only matters for a sanitized host that also exports nng_*.
 *
 * After fork(): nng's threads stay behind in the parent and its locks may
 * be held forever in the child, so the copy of libnng the parent used is
 * dead there. A child's first cnng_load() opens a fresh copy of the same
 * file (through a memfd: another inode, so another object with its own
 * globals) and resolves the table again; the old copy stays mapped, unused.
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

/* Everything declared and defined here stays inside the library. */
#pragma GCC visibility push(hidden)
#include "cnng.h"

static struct {
#define CNNG_FUNCTION(ret, name, params, args) ret(*name) params;
#define CNNG_PROCEDURE(name, params, args) void(*name) params;
#include "nng_functions.h"
#undef CNNG_FUNCTION
#undef CNNG_PROCEDURE
} table;

/* The forwarders the engine links against. */
#define CNNG_FUNCTION(ret, name, params, args) \
    ret name params { return table.name args; }
#define CNNG_PROCEDURE(name, params, args) \
    void name params { table.name args; }
#include "nng_functions.h"
#undef CNNG_FUNCTION
#undef CNNG_PROCEDURE

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* The process that loaded the table (0: none yet); another pid means a fork. */
static pid_t loaded_in;
static int isolated = -1;
static int shared = 0;
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

/* Copies a symbol's address into a function pointer without the
 * object-to-function pointer cast ISO C forbids. */
static int
resolve(void *library, const char *name, void *slot, size_t size)
{
    void *symbol;
    dlerror();
    symbol = dlsym(library, name);
    if (symbol == NULL) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "%s has no %s (%s); libswiftwebhook needs nng 1.5 or later",
            CNNG_LIBRARY, name, why != NULL ? why : "not found");
        return -1;
    }
    memcpy(slot, &symbol, size);
    return 0;
}

/* The file the current table came from (to copy it after a fork). */
static int
loaded_file(char *path, size_t size)
{
    Dl_info info;
    void *symbol;
    memcpy(&symbol, &table.nng_aio_alloc, sizeof symbol);
    if (dladdr(symbol, &info) == 0 || info.dli_fname == NULL) {
        return -1;
    }
    snprintf(path, size, "%s", info.dli_fname);
    return 0;
}

/* A fresh copy of the file at `path`, as a memfd: returns "/proc/self/fd/N"
 * in `copy` and the fd to close once it is loaded, or -1. */
static int
fresh_copy(const char *path, char *copy, size_t size)
{
    char buffer[65536];
    ssize_t n;
    int source = open(path, O_RDONLY | O_CLOEXEC);
    int target = memfd_create("libnng-after-fork", MFD_CLOEXEC);
    if (source < 0 || target < 0) {
        snprintf(failure, sizeof failure, "after fork: cannot copy %s for a fresh nng: %s", path, strerror(errno));
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
        snprintf(failure, sizeof failure, "after fork: cannot copy %s for a fresh nng", path);
        close(target);
        return -1;
    }
    snprintf(copy, size, "/proc/self/fd/%d", target);
    return target;
}

/* Opens `path` and fills the table from it; 0, or -1 with `failure` set. */
static int
load_from(const char *path, const char *name)
{
    int deep = sanitized() ? 0 : RTLD_DEEPBIND;
    /* Loaded already (the host links libnng.so.1 too): dlopen hands back
     * that copy, whose threads then run the host's nng work as well. */
    void *already = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    shared = already != NULL;
    if (already != NULL) {
        dlclose(already);
    }
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | deep);
    if (library == NULL) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "cannot load %s (Debian's libnng1): %s", name,
            why != NULL ? why : "unknown error");
        return -1;
    }
#define CNNG_FUNCTION(ret, name, params, args) \
    if (resolve(library, #name, &table.name, sizeof table.name) != 0) return -1;
#define CNNG_PROCEDURE(name, params, args) \
    if (resolve(library, #name, &table.name, sizeof table.name) != 0) return -1;
#include "nng_functions.h"
#undef CNNG_FUNCTION
#undef CNNG_PROCEDURE
    isolated = deep != 0;
    return 0;
}

int
cnng_load(char *err, size_t errlen)
{
    int outcome = 0;
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&load_lock);
    if (loaded_in == 0) {
        outcome = load_from(CNNG_LIBRARY, CNNG_LIBRARY);
    } else if (loaded_in != getpid()) {
        char path[4096], copy[64];
        int fd = -1;
        outcome = loaded_file(path, sizeof path);
        if (outcome != 0) {
            snprintf(failure, sizeof failure, "after fork: cannot find the file %s was loaded from", CNNG_LIBRARY);
        } else if ((fd = fresh_copy(path, copy, sizeof copy)) < 0) {
            outcome = -1;
        } else {
            outcome = load_from(copy, path);
            close(fd);
        }
    }
    if (outcome == 0) {
        loaded_in = getpid();
    } else if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", failure);
    }
    pthread_mutex_unlock(&load_lock);
    return outcome;
}

int
cnng_isolated(void)
{
    return isolated;
}

int
cnng_shared_with_host(void)
{
    return shared;
}

#pragma GCC visibility pop
