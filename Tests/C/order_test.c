/*
 * order_test.c - eight broker threads, each emitting for its own 100 client
 * ids, every event numbered per client; verify_order.py then checks that the
 * receiver got every event exactly once and each client's in order.
 *
 *     order_test [EVENTS_PER_CLIENT [SPOOL_DIR]]   (default 50: 40,000 events; 1250 is a million)
 *
 * With SPOOL_DIR the memory queue holds 1,000 events and the rest go through
 * a spool there, so the eight threads stage, spill and refill concurrently.
 */
#include "testutil.h"

#include <pthread.h>

#include <swiftwebhook.h>

#define THREADS 8
#define CLIENTS_PER_THREAD 100

static swiftwebhook *wh;
static long per_client = 50;
static long not_queued;

static void *
emitter(void *arg)
{
    long thread = (long) (intptr_t) arg;
    char clientid[32], payload[64];
    for (long seq = 0; seq < per_client; seq++) {
        for (int k = 0; k < CLIENTS_PER_THREAD; k++) {
            snprintf(clientid, sizeof clientid, "c%ld-%d", thread, k);
            int n = snprintf(payload, sizeof payload, "%s:%ld", clientid, seq);
            swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
            ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
            ev.clientid = clientid;
            ev.topic = "order/test";
            ev.payload = payload;
            ev.payload_len = (size_t) n;
            if (webhook_emit(wh, &ev) != SWIFTWEBHOOK_OK) {
                __atomic_fetch_add(&not_queued, 1, __ATOMIC_RELAXED);
            }
        }
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    char config[1024], why[512], spool[512] = "";
    pthread_t threads[THREADS];
    if (argc > 1) {
        per_client = atol(argv[1]);
    }
    long total = per_client * CLIENTS_PER_THREAD * THREADS;
    if (argc > 2) {
        snprintf(spool, sizeof spool, " spool { dir = \"%s\" }\n", argv[2]);
    }
    snprintf(config, sizeof config,
        "webhook {\n url = \"http://127.0.0.1:%d/hook\"\n pool_size = 8\n ordering = per_client\n"
        " queue { max_events = %ld }\n drain_timeout = 300s\n events = [ { event = on_message_publish } ]\n%s}",
        hook_port(), argc > 2 ? 1000 : total + 1, spool);
    CHECK_EQ_INT(webhook_init_text(&wh, config, "order.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    for (long t = 0; t < THREADS; t++) {
        pthread_create(&threads[t], NULL, emitter, (void *) (intptr_t) t);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    CHECK_EQ_INT(not_queued, 0);
    if (argc > 2) {
        /* fini drains memory only (a spool keeps its rows for the next start): wait for them all. */
        swiftwebhook_stats stats;
        do {
            sleep_ms(20);
            memset(&stats, 0, sizeof stats);
            stats.size = sizeof stats;
            webhook_get_stats(wh, &stats);
        } while (stats.delivered + stats.failed < (uint64_t) total);
        CHECK(stats.spool_written > 0);
        CHECK_EQ_INT(stats.dropped_spool, 0);
    }
    webhook_fini(wh); /* drains every queued event (drain_timeout 300 s) */
    printf("order_test: %ld events from %d threads x %d client ids emitted\n", total, THREADS, CLIENTS_PER_THREAD);
    return test_summary("order_test");
}
