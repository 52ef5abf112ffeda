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
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

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

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int outcome = -1;
static int isolated = -1;
static char failure[512];

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

static void
load(void)
{
    int deep = sanitized() ? 0 : RTLD_DEEPBIND;
    void *library = dlopen(CNNG_LIBRARY, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | deep);
    if (library == NULL) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "cannot load %s (Debian's libnng1): %s", CNNG_LIBRARY,
            why != NULL ? why : "unknown error");
        return;
    }
#define CNNG_FUNCTION(ret, name, params, args) \
    if (resolve(library, #name, &table.name, sizeof table.name) != 0) return;
#define CNNG_PROCEDURE(name, params, args) \
    if (resolve(library, #name, &table.name, sizeof table.name) != 0) return;
#include "nng_functions.h"
#undef CNNG_FUNCTION
#undef CNNG_PROCEDURE
    isolated = deep != 0;
    outcome = 0;
}

int
cnng_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (outcome != 0 && err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", failure);
    }
    return outcome;
}

int
cnng_isolated(void)
{
    return isolated;
}

#pragma GCC visibility pop
