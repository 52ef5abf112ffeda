/*
 * cbinding.h - a shared library the engine calls, bound to one file and
 * to nothing else (the engine's C dependencies: libnng with its mbedtls,
 * libsqlite3).
 *
 * Why: a host broker may carry its own copy of any of them. NanoMQ links
 * its nng fork statically and, built for plugins with -rdynamic, exports
 * ~660 nng_* symbols; built with its SQLite option it exports sqlite3_*
 * the same way, and a gateway build may link mbedtls statically. Had the
 * library imported those names the usual way (DT_NEEDED), the dynamic
 * linker would bind them - and the dependency's calls into its own API -
 * to the host's definitions first, whose versions and structs differ.
 *
 * How: the library imports none of those names. The names the engine
 * calls are hidden forwarders, each one an indirect call through a table
 * (cbinding_table.h makes them from a list of functions). cbind_load()
 * fills the table from the file opened with RTLD_DEEPBIND, so the
 * dependency (and what it loads with it) looks up symbols in its own
 * objects before the process's global scope, and dlsym() on that handle
 * searches only the file's own dependency tree.
 *
 * Cost: one indirect call per call, one dlopen per dependency and process;
 * ldd no longer lists these dependencies (packages must still depend on
 * them); and their calls to malloc go straight to libc's, past any
 * allocator the host interposes (each frees what it allocates, so this
 * stays consistent). The sanitizer runtimes abort on RTLD_DEEPBIND, so
 * under ASan, TSan or MSan the file is opened without it: dlsym() on the
 * handle still finds the right definitions, but the dependency's calls
 * into its own API may then reach a host's copy, which only matters for
 * a sanitized host that exports them.
 *
 * After fork(): a dependency's threads stay behind in the parent and its
 * locks may be held forever in the child, so the copy the parent used is
 * dead there. A child's first cbind_load() opens a fresh copy of the same
 * file (through a memfd, kept open: another inode, so another object with
 * its own globals) and resolves the table again; the old copy stays
 * mapped, unused.
 */
#ifndef SWIFTWEBHOOK_CBINDING_H
#define SWIFTWEBHOOK_CBINDING_H

#include <stddef.h>
#include <sys/types.h>

/* What a table holds; each forwarder casts its entry back to its type. */
typedef void (*cbind_function)(void);

/* One bound dependency: a file and the functions resolved from it. */
struct cbind_library {
    /* Set by the binding. */
    const char *file;         /* the SONAME opened: "libnng.so.1" */
    const char *package;      /* named when it cannot be opened: "Debian's libnng1" */
    const char *requirement;  /* added when a function is missing: "libswiftwebhook needs ..." */
    const char *const *names; /* the functions, in table order */
    cbind_function *table;
    size_t count;
    /* Kept by cbind_load(). */
    pid_t loaded_in;          /* the process that filled the table; 0: none yet */
    int isolated;             /* 1: RTLD_DEEPBIND; 0: a sanitizer forbade it; -1: not loaded */
    int shared;               /* 1: the host had loaded the same file itself */
};

/*
 * Opens the library's file and resolves every function of its table, once
 * per process (later calls return at once; after fork() a child's first
 * call loads a fresh copy). Returns 0, or -1 with the reason in err (always
 * NUL-terminated when errlen > 0). Thread-safe.
 */
int cbind_load(struct cbind_library *library, char *err, size_t errlen);

#endif
