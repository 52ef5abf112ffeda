/*
 * swiftwebhook_loader.h - load libswiftwebhook.so at run time with dlopen().
 *
 * For brokers that load plugins at run time (NanoMQ's style) instead of
 * linking. Header-only; link the broker with -ldl on older glibc.
 *
 *     swiftwebhook_api api;
 *     char why[256];
 *     if (swiftwebhook_load(&api, "libswiftwebhook.so", why, sizeof why) != 0) {
 *         log_error("webhook disabled: %s", why);
 *     } else {
 *         swiftwebhook *wh;
 *         if (api.init(&wh, "/etc/nanomq.conf", why, sizeof why) == SWIFTWEBHOOK_OK) { ... }
 *         ...
 *         api.fini(wh);
 *         swiftwebhook_unload(&api);
 *     }
 *
 * swiftwebhook_load() resolves every function, checks that the library's
 * ABI version is the one this header was written for, and on failure
 * says which file, symbol or version was wrong. Functions added after 1.0
 * (get_metrics and reload, 1.3.0; get_endpoint_stats, 1.4.0) are NULL when
 * the library is older.
 */
#ifndef SWIFTWEBHOOK_LOADER_H
#define SWIFTWEBHOOK_LOADER_H

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "swiftwebhook.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every function of the library, resolved. */
typedef struct swiftwebhook_api {
    void *library; /* the dlopen() handle; NULL when not loaded */
    int (*init)(swiftwebhook **, const char *, char *, size_t);
    int (*init_text)(swiftwebhook **, const char *, const char *, char *, size_t);
    int (*emit)(swiftwebhook *, const swiftwebhook_event *);
    int (*wants)(swiftwebhook *, int);
    void (*fini)(swiftwebhook *);
    int (*get_stats)(swiftwebhook *, swiftwebhook_stats *);
    void (*set_log)(swiftwebhook_log_fn, void *, int);
    const char *(*strerror)(int);
    const char *(*version)(void);
    int (*abi_version)(void);
    /* Since 1.3.0; NULL when the library is older (every other field is
     * resolved or the load fails). */
    int (*get_metrics)(swiftwebhook *, char *, size_t, size_t *);
    int (*reload)(swiftwebhook *, const char *, char *, size_t);
    /* Since 1.4.0; NULL when the library is older. */
    int (*get_endpoint_stats)(swiftwebhook *, size_t, swiftwebhook_stats *, char *, size_t);
} swiftwebhook_api;

/* Copies a symbol's address into a function pointer without the
 * object-to-function pointer cast ISO C forbids. */
static inline int
swiftwebhook_resolve_(void *library, const char *name, void *target, size_t size, char *err, size_t errlen)
{
    void *symbol;
    dlerror();
    symbol = dlsym(library, name);
    if (symbol == NULL) {
        if (err != NULL && errlen > 0) {
            const char *why = dlerror();
            snprintf(err, errlen, "symbol %s not found in libswiftwebhook: %s", name, why != NULL ? why : "NULL");
        }
        return -1;
    }
    memcpy(target, &symbol, size);
    return 0;
}

/*
 * Loads the library at `path` (a file name searched like any dlopen()
 * path, or an absolute path) with RTLD_NOW | RTLD_LOCAL.
 * Returns 0, or SWIFTWEBHOOK_EINVAL / SWIFTWEBHOOK_EVERSION with the reason in err.
 */
static inline int
swiftwebhook_load(swiftwebhook_api *api, const char *path, char *err, size_t errlen)
{
    int version;
    if (api == NULL || path == NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "swiftwebhook_load: api and path must not be NULL");
        }
        return SWIFTWEBHOOK_EINVAL;
    }
    memset(api, 0, sizeof(*api));
    api->library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (api->library == NULL) {
        if (err != NULL && errlen > 0) {
            const char *why = dlerror();
            snprintf(err, errlen, "cannot load %s: %s", path, why != NULL ? why : "unknown error");
        }
        return SWIFTWEBHOOK_EINVAL;
    }
#define SWIFTWEBHOOK_RESOLVE_(field, name) \
    if (swiftwebhook_resolve_(api->library, name, &api->field, sizeof(api->field), err, errlen) != 0) { \
        dlclose(api->library); \
        memset(api, 0, sizeof(*api)); \
        return SWIFTWEBHOOK_EINVAL; \
    }
    SWIFTWEBHOOK_RESOLVE_(abi_version, "webhook_abi_version")
    version = api->abi_version();
    if (version != SWIFTWEBHOOK_ABI_VERSION) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "%s has ABI version %d, this broker was built for %d", path, version,
                SWIFTWEBHOOK_ABI_VERSION);
        }
        dlclose(api->library);
        memset(api, 0, sizeof(*api));
        return SWIFTWEBHOOK_EVERSION;
    }
    SWIFTWEBHOOK_RESOLVE_(init, "webhook_init")
    SWIFTWEBHOOK_RESOLVE_(init_text, "webhook_init_text")
    SWIFTWEBHOOK_RESOLVE_(emit, "webhook_emit")
    SWIFTWEBHOOK_RESOLVE_(wants, "webhook_wants")
    SWIFTWEBHOOK_RESOLVE_(fini, "webhook_fini")
    SWIFTWEBHOOK_RESOLVE_(get_stats, "webhook_get_stats")
    SWIFTWEBHOOK_RESOLVE_(set_log, "webhook_set_log")
    SWIFTWEBHOOK_RESOLVE_(strerror, "webhook_strerror")
    SWIFTWEBHOOK_RESOLVE_(version, "webhook_version")
#undef SWIFTWEBHOOK_RESOLVE_
    /* Optional: a 1.2 library has neither. */
    if (swiftwebhook_resolve_(api->library, "webhook_get_metrics", &api->get_metrics, sizeof(api->get_metrics), NULL, 0) != 0) {
        api->get_metrics = NULL;
    }
    if (swiftwebhook_resolve_(api->library, "webhook_reload", &api->reload, sizeof(api->reload), NULL, 0) != 0) {
        api->reload = NULL;
    }
    /* Optional: a 1.3 library has no webhook_get_endpoint_stats. */
    if (swiftwebhook_resolve_(api->library, "webhook_get_endpoint_stats", &api->get_endpoint_stats, sizeof(api->get_endpoint_stats),
                              NULL, 0) != 0) {
        api->get_endpoint_stats = NULL;
    }
    return 0;
}

/* Unloads the library. Finalise every handle first. */
static inline void
swiftwebhook_unload(swiftwebhook_api *api)
{
    if (api != NULL && api->library != NULL) {
        dlclose(api->library);
        memset(api, 0, sizeof(*api));
    }
}

#ifdef __cplusplus
}
#endif

#endif /* SWIFTWEBHOOK_LOADER_H */
