/*
 * host.c - a broker host that exports its own nng, SQLite and mbedtls
 * (every nng_*, sqlite3_* and mbedtls_* function Debian's libraries have,
 * each one aborting; see gen_fake_libraries.py), built with -rdynamic like
 * NanoMQ with plugins. It loads libswiftwebhook one way, sends signed
 * events through a spool to the test server and checks they were all
 * delivered.
 *
 *     isolation_linked  linked            (built with -lswiftwebhook)
 *     isolation_dynamic loader  LIBRARY   (swiftwebhook_loader.h)
 *     isolation_dynamic dlopen  LIBRARY   (plain dlopen(path, RTLD_NOW), as NanoMQ's plugin loader)
 *     isolation_dynamic copies  LIBRARY COPY  (two copies of the library, by two paths)
 */
#include "../testutil.h"

#include <dlfcn.h>
#include <swiftwebhook_loader.h>

#define EVENTS 200

/* Signed, and through a spool that writes every event (durability =
 * crash), so mbedtls' HMAC and SQLite run for every event too. */
static const char *config =
    "    pool_size = 2\n"
    "    signing.secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n"
    "    spool { dir = \"./%s.spool\", durability = crash }\n"
    "    events = [ { event = on_message_publish } ]\n";

/* One copy of the library's API, however it was loaded. */
static swiftwebhook_api api;

/* init -> EVENTS publishes -> every one written to the spool and delivered -> fini. */
static swiftwebhook *
exercise(const char *name)
{
    char why[512] = "";
    swiftwebhook *wh = NULL;
    char body[512];
    snprintf(body, sizeof body, config, name);
    write_config(name, body);
    CHECK_EQ_INT(api.init(&wh, name, why, sizeof why), SWIFTWEBHOOK_OK);
    if (wh == NULL) {
        fprintf(stderr, "init failed: %s\n", why);
        return NULL;
    }
    for (int i = 0; i < EVENTS; i++) {
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
        ev.clientid = "host";
        ev.topic = "iso/lation";
        ev.payload = "x";
        ev.payload_len = 1;
        CHECK_EQ_INT(api.emit(wh, &ev), SWIFTWEBHOOK_OK);
    }
    for (int i = 0; i < 3000 && stats_with(api.get_stats, wh).delivered < EVENTS; i++) {
        sleep_ms(10);
    }
    swiftwebhook_stats stats = stats_with(api.get_stats, wh);
    CHECK_EQ_INT(stats.delivered, EVENTS);
    CHECK_EQ_INT(stats.spool_written, EVENTS);
    remove(name);
    return wh;
}

#ifdef ISOLATION_LINKED
int
main(void)
{
    api.init = webhook_init;
    api.emit = webhook_emit;
    api.get_stats = webhook_get_stats;
    api.fini = webhook_fini;
    api.fini(exercise("isolation_linked.conf"));
    return test_summary("isolation_linked");
}
#else
/* Resolves what exercise() needs from a plain dlopen() handle. */
static int
resolve_plain(void *library)
{
    void *init = dlsym(library, "webhook_init"), *emit = dlsym(library, "webhook_emit");
    void *stats = dlsym(library, "webhook_get_stats"), *fini = dlsym(library, "webhook_fini");
    if (!init || !emit || !stats || !fini) {
        return -1;
    }
    memcpy(&api.init, &init, sizeof init);
    memcpy(&api.emit, &emit, sizeof emit);
    memcpy(&api.get_stats, &stats, sizeof stats);
    memcpy(&api.fini, &fini, sizeof fini);
    api.library = library;
    return 0;
}

int
main(int argc, char **argv)
{
    char why[512] = "";
    if (argc >= 3 && strcmp(argv[1], "loader") == 0) {
        CHECK_EQ_INT(swiftwebhook_load(&api, argv[2], why, sizeof why), 0);
        if (api.library != NULL) {
            api.fini(exercise("isolation_loader.conf"));
        }
    } else if (argc >= 3 && strcmp(argv[1], "dlopen") == 0) {
        void *library = dlopen(argv[2], RTLD_NOW);
        CHECK(library != NULL && resolve_plain(library) == 0);
        if (api.library != NULL) {
            api.fini(exercise("isolation_dlopen.conf"));
        }
    } else if (argc >= 4 && strcmp(argv[1], "copies") == 0) {
        /* Two copies by two paths: two independent instances of the library,
         * each with its own handle table. A handle given to the other copy
         * is answered with a return code, never followed. */
        swiftwebhook_api first, second;
        CHECK_EQ_INT(swiftwebhook_load(&first, argv[2], why, sizeof why), 0);
        CHECK_EQ_INT(swiftwebhook_load(&second, argv[3], why, sizeof why), 0);
        CHECK(first.library != NULL && second.library != NULL && first.library != second.library);
        if (first.library != NULL && second.library != NULL) {
            api = first;
            swiftwebhook *a = exercise("isolation_copy1.conf");
            api = second;
            swiftwebhook *b = exercise("isolation_copy2.conf");
            swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
            ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
            ev.topic = "iso/lation";
            /* Each copy's first handle has the same id: the other copy
             * accepts it as its own, which is harmless (its own instance).
             * A finalised handle is refused by both. */
            second.fini(b);
            CHECK(second.emit(b, &ev) == SWIFTWEBHOOK_ESHUTDOWN);
            CHECK(first.emit(a, &ev) == SWIFTWEBHOOK_OK);
            first.fini(a);
            CHECK(first.emit(a, &ev) == SWIFTWEBHOOK_ESHUTDOWN);
            CHECK(second.emit(a, &ev) == SWIFTWEBHOOK_ESHUTDOWN);
        }
    } else {
        fprintf(stderr, "usage: isolation_dynamic loader|dlopen LIBRARY | copies LIBRARY COPY\n");
        return 2;
    }
    return test_summary(argv[1]);
}
#endif
