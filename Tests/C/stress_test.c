/*
 * stress_test.c - eight broker threads emitting as fast as they can while
 * another thread calls webhook_fini; built plain, with AddressSanitizer and
 * with ThreadSanitizer. Every call after fini must answer SWIFTWEBHOOK_ESHUTDOWN,
 * nothing may crash or hang, and the counters must add up. Rounds 3 and 4
 * run with a spool (clean: spilling past 5,000 in memory; crash: every
 * event staged), so fini's save races the emitters too. Meanwhile one more
 * thread reloads the config (a new header and queue bound each time) and
 * reads the metrics, racing the emitters, the delivery and fini.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>

#include <swiftwebhook.h>

#define THREADS 8

static swiftwebhook *wh;
static atomic_int started;
static atomic_long results[4]; /* queued, filtered, dropped, shutdown */
static atomic_long invalid;
static atomic_long reloads;
static char reload_path[96];
static char reload_configs[2][1024];

static void *
emitter(void *arg)
{
    long id = (long) (intptr_t) arg;
    char clientid[32], payload[64];
    snprintf(clientid, sizeof clientid, "client-%ld", id);
    atomic_fetch_add(&started, 1);
    for (long i = 0;; i++) {
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        ev.type = (i % 5 == 0) ? SWIFTWEBHOOK_CLIENT_CONNACK : SWIFTWEBHOOK_MESSAGE_PUBLISH;
        ev.clientid = clientid;
        ev.topic = (i % 3 == 0) ? "ignored/topic" : "stress/data";
        int n = snprintf(payload, sizeof payload, "%ld:%ld", id, i);
        ev.payload = payload;
        ev.payload_len = (size_t) n;
        switch (webhook_emit(wh, &ev)) {
        case SWIFTWEBHOOK_OK: atomic_fetch_add(&results[0], 1); break;
        case SWIFTWEBHOOK_FILTERED: atomic_fetch_add(&results[1], 1); break;
        case SWIFTWEBHOOK_DROPPED: atomic_fetch_add(&results[2], 1); break;
        case SWIFTWEBHOOK_ESHUTDOWN:
            /* Once shut down, it stays shut down. */
            for (int k = 0; k < 100; k++) {
                if (webhook_emit(wh, &ev) != SWIFTWEBHOOK_ESHUTDOWN) {
                    atomic_fetch_add(&invalid, 1);
                }
            }
            atomic_fetch_add(&results[3], 1);
            return NULL;
        default: atomic_fetch_add(&invalid, 1); return NULL;
        }
    }
}

/* Rewrites the config file (alternating two) and reloads it, reading the
 * metrics between, until the handle is finalised. */
static void *
reloader(void *arg)
{
    char why[512];
    (void) arg;
    for (long i = 0;; i++) {
        FILE *file = fopen(reload_path, "w");
        if (file == NULL) {
            atomic_fetch_add(&invalid, 1);
            return NULL;
        }
        fputs(reload_configs[i % 2], file);
        fclose(file);
        int rv = webhook_reload(wh, reload_path, why, sizeof why);
        size_t needed = 0;
        int metrics = webhook_get_metrics(wh, NULL, 0, &needed);
        if (rv == SWIFTWEBHOOK_ESHUTDOWN) {
            return NULL;
        }
        if (rv != SWIFTWEBHOOK_OK || (metrics != SWIFTWEBHOOK_ETOOSMALL && metrics != SWIFTWEBHOOK_ESHUTDOWN)) {
            fprintf(stderr, "reload: %d %s (metrics %d)\n", rv, why, metrics);
            atomic_fetch_add(&invalid, 1);
            return NULL;
        }
        atomic_fetch_add(&reloads, 1);
        sleep_ms(5);
    }
}

int
main(void)
{
    char why[512];
    char config[1024];
    pthread_t threads[THREADS];
    char spool[256], spool_dir[64];
    /* Each variant (plain, asan, tsan) its own directory: one process per spool. */
    snprintf(spool_dir, sizeof spool_dir, "./stress-spool-%ld", (long) getpid());
    for (int round = 0; round < 5; round++) {
        spool[0] = '\0';
        if (round >= 3) {
            snprintf(spool, sizeof spool, " spool { dir = \"%s\", durability = %s }\n", spool_dir, round == 3 ? "clean" : "crash");
        }
        snprintf(config, sizeof config,
            "webhook {\n url = \"http://127.0.0.1:%d/hook\"\n pool_size = 4\n drain_timeout = 300ms\n"
            " queue { max_events = 5000 }\n%s"
            " events = [ { event = on_message_publish, topic = \"stress/#\" } ] }", hook_port(), spool);
        atomic_store(&started, 0);
        for (int k = 0; k < 4; k++) {
            atomic_store(&results[k], 0);
        }
        CHECK_EQ_INT(webhook_init_text(&wh, config, "stress.conf", why, sizeof why), SWIFTWEBHOOK_OK);
        snprintf(reload_path, sizeof reload_path, "./stress-reload-%ld.conf", (long) getpid());
        for (int k = 0; k < 2; k++) {
            snprintf(reload_configs[k], sizeof reload_configs[k],
                "webhook {\n url = \"http://127.0.0.1:%d/hook\"\n pool_size = 4\n drain_timeout = 300ms\n"
                " headers.x-reload = \"%d\"\n queue { max_events = %d }\n%s"
                " events = [ { event = on_message_publish, topic = \"stress/#\" } ] }", hook_port(), k, 5000 - 1000 * k, spool);
        }
        atomic_store(&reloads, 0);
        pthread_t reload_thread;
        pthread_create(&reload_thread, NULL, reloader, NULL);
        for (long t = 0; t < THREADS; t++) {
            pthread_create(&threads[t], NULL, emitter, (void *) (intptr_t) t);
        }
        while (atomic_load(&started) < THREADS) {
            sleep_ms(1);
        }
        sleep_ms(200 + 100 * (round % 3));

        swiftwebhook_stats before;
        memset(&before, 0, sizeof before);
        before.size = sizeof before;
        CHECK_EQ_INT(webhook_get_stats(wh, &before), SWIFTWEBHOOK_OK);
        CHECK(before.matched > 0);

        webhook_fini(wh); /* races the emitters and the reloads */
        for (int t = 0; t < THREADS; t++) {
            pthread_join(threads[t], NULL);
        }
        pthread_join(reload_thread, NULL);
        CHECK(atomic_load(&reloads) > 0);
        unlink(reload_path);
        CHECK_EQ_INT(atomic_load(&results[3]), THREADS);
        CHECK(atomic_load(&results[0]) > 0 && atomic_load(&results[1]) > 0);
        webhook_fini(wh);
    }
    CHECK_EQ_INT(atomic_load(&invalid), 0);
    static const char *spool_files[] = {"swiftwebhook-spool.db", "swiftwebhook-spool.db-wal", "swiftwebhook-spool.db-shm",
                                        "swiftwebhook-spool.lock"};
    for (int f = 0; f < 4; f++) {
        snprintf(spool, sizeof spool, "%s/%s", spool_dir, spool_files[f]);
        unlink(spool);
    }
    CHECK_EQ_INT(rmdir(spool_dir), 0);

    /* Counters add up when fini drains everything (a live endpoint, time to spare). */
    snprintf(config, sizeof config,
        "webhook {\n url = \"http://127.0.0.1:%d/hook\"\n pool_size = 4\n drain_timeout = 30s\n"
        " events = [ { event = on_message_publish, topic = \"stress/#\" } ] }", hook_port());
    CHECK_EQ_INT(webhook_init_text(&wh, config, "stress.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    long queued = 0;
    for (long i = 0; i < 4000; i++) {
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
        ev.clientid = "one";
        ev.topic = "stress/x";
        queued += webhook_emit(wh, &ev) == SWIFTWEBHOOK_OK;
    }
    swiftwebhook_stats s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    for (int i = 0; i < 3000; i++) {
        webhook_get_stats(wh, &s);
        if (s.delivered + s.failed + s.dropped_queue_full == 4000) {
            break;
        }
        sleep_ms(10);
    }
    CHECK_EQ_INT(s.matched, 4000);
    CHECK_EQ_INT(s.delivered + s.failed + s.dropped_queue_full + s.dropped_shutdown + s.queued + s.in_flight, s.matched);
    CHECK_EQ_INT(s.delivered, queued);
    webhook_fini(wh);
    return test_summary("stress_test");
}
