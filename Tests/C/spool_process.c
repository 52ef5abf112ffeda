/*
 * spool_process.c - a broker process with the spool on, for spool_test.py,
 * which starts it, stops and kills it, and runs the receiver.
 *
 *   spool_process PORT DIR DURABILITY QUEUE_MAX COUNT CLIENTS THEN [FIRST [RATE]]
 *
 * Starts the library with spool { dir = DIR, durability = DURABILITY } and
 * queue.max_events = QUEUE_MAX, delivering to 127.0.0.1:PORT, then emits
 * COUNT publishes round-robin over CLIENTS client ids, each with the payload
 * "c<client>:<n>", n counting from FIRST (default 0) per client, at RATE
 * events/s (default 0: as fast as it can; a broker's are paced by MQTT). Then:
 *   THEN = stop     webhook_fini at once (what is queued goes to the spool)
 *   THEN = deliver  waits until everything, the spool's old events included,
 *                   is delivered, then webhook_fini
 *   THEN = hold     waits to be killed
 *   THEN = sync     emits in rounds of 10,000 and after each waits until
 *                   spool_written counts every event emitted so far, and
 *                   says so ("synced N"), then goes on; waits to be killed
 *                   after the last
 * Prints "init failed: <reason>" and exits 3 when webhook_init refuses, and
 * the counters as "stats key=value ..." lines. The library's log goes to stderr.
 */
#include "testutil.h"

#include <swiftwebhook.h>

static swiftwebhook *wh;

static void
log_to_stderr(void *userdata, int level, const char *message)
{
    (void) userdata;
    fprintf(stderr, "[swiftwebhook %d] %s\n", level, message);
}

static swiftwebhook_stats
stats_now(void)
{
    swiftwebhook_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.size = sizeof stats;
    webhook_get_stats(wh, &stats);
    return stats;
}

static void
print_stats(const char *when)
{
    swiftwebhook_stats s = stats_now();
    printf("stats %s matched=%llu replayed=%llu delivered=%llu failed=%llu dropped=%llu queued=%llu in_flight=%llu "
           "spooled=%llu written=%llu rows=%llu bytes=%llu\n", when,
        (unsigned long long) s.matched, (unsigned long long) s.spool_replayed, (unsigned long long) s.delivered,
        (unsigned long long) s.failed,
        (unsigned long long) (s.dropped_queue_full + s.dropped_shutdown + s.dropped_spool),
        (unsigned long long) s.queued, (unsigned long long) s.in_flight, (unsigned long long) s.spooled,
        (unsigned long long) s.spool_written, (unsigned long long) s.spool_rows, (unsigned long long) s.spool_bytes);
    fflush(stdout);
}

int
main(int argc, char **argv)
{
    char config[1024], why[512], clientid[32], payload[64];
    if (argc < 8) {
        fprintf(stderr, "usage: spool_process PORT DIR DURABILITY QUEUE_MAX COUNT CLIENTS stop|deliver|hold|sync [FIRST [RATE]]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *dir = argv[2], *durability = argv[3], *then = argv[7];
    long queue_max = atol(argv[4]), count = atol(argv[5]), clients = atol(argv[6]);
    long first = argc > 8 ? atol(argv[8]) : 0;
    long rate = argc > 9 ? atol(argv[9]) : 0;
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    webhook_set_log(log_to_stderr, NULL, SWIFTWEBHOOK_LOG_INFO);
    snprintf(config, sizeof config,
        "webhook {\n url = \"http://127.0.0.1:%d/hook\"\n pool_size = 4\n"
        " queue { max_events = %ld }\n drain_timeout = 0s\n"
        " retry { initial_backoff = 20ms, max_backoff = 200ms }\n batch { max_events = 500 }\n"
        " spool { dir = \"%s\", durability = %s, max_bytes = 2GB }\n"
        " events = [ { event = on_message_publish } ] }",
        port, queue_max, dir, durability);
    int rv = webhook_init_text(&wh, config, "spool_process.conf", why, sizeof why);
    if (rv != SWIFTWEBHOOK_OK) {
        printf("init failed: %s\n", why);
        return 3;
    }
    print_stats("start");
    long not_queued = 0;
    for (long i = 0; i < count; i++) {
        long client = i % clients, n = first + i / clients;
        snprintf(clientid, sizeof clientid, "c%ld", client);
        int length = snprintf(payload, sizeof payload, "c%ld:%ld", client, n);
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
        ev.clientid = clientid;
        ev.topic = "spool/test";
        ev.payload = payload;
        ev.payload_len = (size_t) length;
        if (webhook_emit(wh, &ev) != SWIFTWEBHOOK_OK) {
            not_queued++;
        }
        if (rate > 0 && i % 1000 == 999) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed = (double) (now.tv_sec - started.tv_sec) + (double) (now.tv_nsec - started.tv_nsec) / 1e9;
            double due = (double) (i + 1) / (double) rate;
            if (due > elapsed) {
                sleep_ms((long) ((due - elapsed) * 1000));
            }
        }
        if (strcmp(then, "sync") == 0 && (i + 1) % 10000 == 0) {
            while (stats_now().spool_written < (uint64_t) (i + 1 - not_queued)) {
                sleep_ms(1);
            }
            printf("synced %ld\n", i + 1);
            fflush(stdout);
        }
    }
    printf("emitted %ld not_queued %ld\n", count, not_queued);
    print_stats("emitted");
    if (strcmp(then, "hold") == 0 || strcmp(then, "sync") == 0) {
        for (;;) {
            sleep_ms(1000);
        }
    }
    if (strcmp(then, "deliver") == 0) {
        for (;;) {
            swiftwebhook_stats s = stats_now();
            if (s.delivered + s.failed + s.dropped_queue_full + s.dropped_shutdown + s.dropped_spool
                    >= s.matched + s.spool_replayed) {
                break;
            }
            sleep_ms(20);
        }
    }
    print_stats("end");
    webhook_fini(wh);
    return 0;
}
