/*
 * driver.c - the benchmark driver: uses libswiftwebhook through its public
 * header, exactly as a broker does, and prints one JSON object per run.
 *
 *     driver emit-filtered  N                      B1: cost of an event no rule wants
 *     driver emit-matched   URL N THREADS [CONFIG] B2: cost of a matched publish (64 B payload); B14: with a spool
 *     driver throughput     URL N POOL [CONFIG]    B3/B4: first emit to last 2xx (CONFIG: e.g. a batch block)
 *     driver fanout         URL DEAD N POOL        B17: the same to endpoint live, alone (DEAD "-") or beside a dead one
 *     driver latency        URL RATE SECONDS       B5: paced emits, emit-to-2xx percentiles
 *     driver memory         URL N MAX_EVENTS       B6: endpoint down, RSS growth, drops
 *     driver outage         URL RATE SECONDS UP_AT "UP_COMMAND"   B7: endpoint comes back
 *     driver soak           URL RATE SECONDS REPORT_EVERY         scripts/soak: mixed events, RSS over time
 *     driver recovery       URL N RATE DIR|- "UP_COMMAND" [CONFIG]  B14: N events while the endpoint is down, into the
 *                           memory queue (DIR -) or a spool in DIR past 10,000 in memory, then UP_COMMAND
 *                           starts it: events/s in, events/s out, disk bytes per event
 *     driver cpu            URL RATE SECONDS [CONFIG]  B15: the library's CPU and context switches per delivered
 *                           event, the emitting thread's own subtracted; RATE 0: as fast as emit goes, SECONDS
 *                           then counts events (saturated)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <swiftwebhook.h>

#include "usage.h"

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* CPU time of the calling thread: what a call costs the broker's thread
 * itself, apart from the time the scheduler gave other threads. */
static uint64_t
thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static int
compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static long
rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *file = fopen("/proc/self/status", "r");
    while (file != NULL && fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    if (file != NULL) {
        fclose(file);
    }
    return kib;
}

static swiftwebhook *
start(const char *webhook_body)
{
    char config[2048], why[512];
    swiftwebhook *wh = NULL;
    snprintf(config, sizeof config, "webhook {\n%s\n}\n", webhook_body);
    webhook_set_log(NULL, NULL, SWIFTWEBHOOK_LOG_ERROR);
    if (webhook_init_text(&wh, config, "bench.conf", why, sizeof why) != SWIFTWEBHOOK_OK) {
        fprintf(stderr, "webhook_init_text: %s\n", why);
        exit(2);
    }
    return wh;
}

static swiftwebhook_stats
stats_of(swiftwebhook *wh)
{
    swiftwebhook_stats s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    webhook_get_stats(wh, &s);
    return s;
}

static void
print_stats(const char *prefix, swiftwebhook_stats s)
{
    printf("%s\"matched\": %llu, \"delivered\": %llu, \"failed\": %llu, \"retried\": %llu, \"dropped\": %llu, "
           "\"queued\": %llu, \"in_flight\": %llu, \"connections_opened\": %llu, \"p50_us\": %llu, \"p99_us\": %llu",
        prefix, (unsigned long long) s.matched, (unsigned long long) s.delivered, (unsigned long long) s.failed,
        (unsigned long long) s.retried, (unsigned long long) (s.dropped_queue_full + s.dropped_shutdown),
        (unsigned long long) s.queued, (unsigned long long) s.in_flight, (unsigned long long) s.connections_opened,
        (unsigned long long) s.latency_p50_us, (unsigned long long) s.latency_p99_us);
}

/* A publish with a 64-byte payload on a 3-level topic; the client id varies. */
static char payload64[64];
static char clientids[1024][16];

static swiftwebhook_event
publish_event(unsigned i)
{
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
    ev.clientid = clientids[i % 1024];
    ev.username = "bench";
    ev.topic = "site/line7/temperature";
    ev.qos = 1;
    ev.payload = payload64;
    ev.payload_len = sizeof payload64;
    return ev;
}

/* B1: an event type no rule names, 10M times: per-call median of batches. */
static int
emit_filtered(long n)
{
    swiftwebhook *wh = start("url = \"http://127.0.0.1:1/\"\nevents = [ { event = on_message_publish } ]");
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    ev.type = SWIFTWEBHOOK_CLIENT_CONNACK;
    ev.clientid = "c";
    swiftwebhook_event topic_miss = publish_event(0);
    enum { BATCHES = 50 };
    uint64_t per_call[BATCHES], miss_call[BATCHES];
    long batch = n / BATCHES;
    for (int b = 0; b < BATCHES; b++) {
        uint64_t t0 = now_ns();
        for (long i = 0; i < batch; i++) {
            if (webhook_emit(wh, &ev) != SWIFTWEBHOOK_FILTERED) {
                return 1;
            }
        }
        per_call[b] = (now_ns() - t0) * 1000 / (uint64_t) batch; /* picoseconds */
    }
    webhook_fini(wh);
    /* The same with a type that has a rule whose topic filter misses. */
    wh = start("url = \"http://127.0.0.1:1/\"\nevents = [ { event = on_message_publish, topic = \"other/#\" } ]");
    for (int b = 0; b < BATCHES; b++) {
        uint64_t t0 = now_ns();
        for (long i = 0; i < batch / 4; i++) {
            webhook_emit(wh, &topic_miss);
        }
        miss_call[b] = (now_ns() - t0) * 1000 / (uint64_t) (batch / 4);
    }
    webhook_fini(wh);
    qsort(per_call, BATCHES, sizeof per_call[0], compare_u64);
    qsort(miss_call, BATCHES, sizeof miss_call[0], compare_u64);
    printf("{\"calls\": %ld, \"ns_per_call_median\": %.2f, \"topic_miss_ns_per_call_median\": %.2f}\n", n,
        per_call[BATCHES / 2] / 1000.0, miss_call[BATCHES / 2] / 1000.0);
    return 0;
}

/* B2: matched publishes from 1 or more threads, queue large enough. */
typedef struct {
    swiftwebhook *wh;
    long n;
    unsigned offset;
    uint64_t median_ps;
    uint64_t cpu_median_ps;
    long queued;
} emitter_arg;

static void *
matched_emitter(void *p)
{
    emitter_arg *arg = p;
    enum { BATCHES = 100 };
    uint64_t per_call[BATCHES], cpu_per_call[BATCHES];
    long batch = arg->n / BATCHES;
    for (int b = 0; b < BATCHES; b++) {
        uint64_t t0 = now_ns(), c0 = thread_cpu_ns();
        for (long i = 0; i < batch; i++) {
            swiftwebhook_event ev = publish_event(arg->offset + (unsigned) i);
            arg->queued += webhook_emit(arg->wh, &ev) == SWIFTWEBHOOK_OK;
        }
        per_call[b] = (now_ns() - t0) * 1000 / (uint64_t) batch;
        cpu_per_call[b] = (thread_cpu_ns() - c0) * 1000 / (uint64_t) batch;
    }
    qsort(per_call, BATCHES, sizeof per_call[0], compare_u64);
    qsort(cpu_per_call, BATCHES, sizeof cpu_per_call[0], compare_u64);
    arg->median_ps = per_call[BATCHES / 2];
    arg->cpu_median_ps = cpu_per_call[BATCHES / 2];
    return NULL;
}

static int
emit_matched(const char *url, long n, int threads, const char *extra)
{
    char body[1024];
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = 32\ndrain_timeout = 60s\n"
             "queue { max_events = 10000000, max_bytes = 8GB }\nevents = [ { event = on_message_publish } ]\n%s", url, extra);
    swiftwebhook *wh = start(body);
    pthread_t tid[16];
    emitter_arg args[16];
    for (int t = 0; t < threads; t++) {
        args[t] = (emitter_arg) {wh, n / threads, (unsigned) t * 512u, 0, 0, 0};
        pthread_create(&tid[t], NULL, matched_emitter, &args[t]);
    }
    uint64_t worst = 0, worst_cpu = 0;
    long queued = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        worst = args[t].median_ps > worst ? args[t].median_ps : worst;
        worst_cpu = args[t].cpu_median_ps > worst_cpu ? args[t].cpu_median_ps : worst_cpu;
        queued += args[t].queued;
    }
    webhook_fini(wh);
    printf("{\"threads\": %d, \"calls\": %ld, \"queued\": %ld, \"ns_per_call_median\": %.1f, "
           "\"thread_cpu_ns_per_call_median\": %.1f}\n", threads, n, queued, worst / 1000.0, worst_cpu / 1000.0);
    return queued == n ? 0 : 1;
}

/* Emits N events about 200 bytes of body each (waiting while the queue is
 * full), waits until each is delivered or failed, prints the JSON line
 * (first emit to last 2xx) and finishes the instance. */
static int
deliver_all(swiftwebhook *wh, long n, int pool)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        swiftwebhook_event ev = publish_event((unsigned) i);
        while (webhook_emit(wh, &ev) != SWIFTWEBHOOK_OK) {
            usleep(100);
        }
    }
    uint64_t emitted = now_ns();
    swiftwebhook_stats s;
    for (;;) {
        s = stats_of(wh);
        if (s.delivered + s.failed >= (uint64_t) n) {
            break;
        }
        usleep(1000);
    }
    uint64_t done = now_ns();
    double seconds = (done - t0) / 1e9;
    printf("{\"events\": %ld, \"pool_size\": %d, \"seconds\": %.3f, \"events_per_s\": %.0f, \"emit_seconds\": %.3f, ", n,
        pool, seconds, n / seconds, (emitted - t0) / 1e9);
    print_stats("", s);
    printf("}\n");
    webhook_fini(wh);
    return s.failed == 0 ? 0 : 1;
}

/* B3/B4: N events to URL. EXTRA is more config (B3 batched: "batch { max_events = 100 }"). */
static int
throughput(const char *url, long n, int pool, const char *extra)
{
    char body[1024];
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = %d\ndrain_timeout = 120s\n"
             "queue { max_events = 10000000, max_bytes = 8GB }\nevents = [ { event = on_message_publish } ]\n%s",
             url, pool, extra);
    return deliver_all(start(body), n, pool);
}

/* B17 (issue 23): THROUGHPUT to an endpoint named live, alone (DEAD "-")
 * or beside an endpoint named dead at DEAD, a black hole (connections
 * pending, never answered): how much a dead endpoint costs a live one.
 * Both configs have the same endpoints { } shape; the dead endpoint
 * delivers nothing, so every delivered event is live's. */
static int
fanout(const char *url, const char *dead, long n, int pool)
{
    char body[2048], dead_block[512] = "";
    if (strcmp(dead, "-") != 0) {
        snprintf(dead_block, sizeof dead_block, "    dead { url = \"%s\", pool_size = 4, ordering = none, cancel_timeout = 600s, "
                 "queue { max_events = 1000 } }\n", dead);
    }
    snprintf(body, sizeof body, "drain_timeout = 1s\nevents = [ { event = on_message_publish } ]\nendpoints {\n"
             "    live { url = \"%s\", pool_size = %d, queue { max_events = 10000000, max_bytes = 8GB } }\n%s}\n",
             url, pool, dead_block);
    return deliver_all(start(body), n, pool);
}

/* Paces a load in 1 ms slots: each call sleeps until the next slot and
 * returns how many events should have been sent by then, or -1 when
 * `seconds` have passed. */
typedef struct pacer {
    uint64_t t0;
    uint64_t slot;
    long rate;
    double seconds;
} pacer;

static long
pacer_next(pacer *p)
{
    uint64_t due = p->t0 + p->slot * 1000000ull;
    if (due - p->t0 >= (uint64_t) (p->seconds * 1e9)) {
        return -1;
    }
    uint64_t now = now_ns();
    if (due > now) {
        struct timespec ts = {0, (long) (due - now)};
        nanosleep(&ts, NULL);
    }
    p->slot++;
    return (long) (p->slot * (uint64_t) p->rate / 1000);
}

/* Emits at `rate` events/s for `seconds`; runs UP_COMMAND once at `up_at`. */
static long
paced(swiftwebhook *wh, long rate, double seconds, double up_at, const char *up_command)
{
    pacer p = {now_ns(), 0, rate, seconds};
    long sent = 0, target;
    int up = 0;
    while ((target = pacer_next(&p)) >= 0) {
        if (!up && up_command != NULL && now_ns() - p.t0 >= (uint64_t) (up_at * 1e9)) {
            up = 1;
            if (system(up_command) != 0) {
                fprintf(stderr, "up command failed\n");
            }
        }
        while (sent < target) {
            swiftwebhook_event ev = publish_event((unsigned) sent);
            webhook_emit(wh, &ev);
            sent++;
        }
    }
    return sent;
}

/* B5: paced load, emit-to-2xx percentiles from the library's histogram. */
static int
latency(const char *url, long rate, double seconds)
{
    char body[512];
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = 32\nevents = [ { event = on_message_publish } ]", url);
    swiftwebhook *wh = start(body);
    long sent = paced(wh, rate, seconds, 0, NULL);
    swiftwebhook_stats s;
    for (int i = 0; i < 10000; i++) {
        s = stats_of(wh);
        if (s.delivered + s.failed >= (uint64_t) sent) {
            break;
        }
        usleep(1000);
    }
    printf("{\"rate\": %ld, \"seconds\": %.1f, \"sent\": %ld, ", rate, seconds, sent);
    print_stats("", s);
    printf("}\n");
    webhook_fini(wh);
    return 0;
}

/* B6: endpoint down, N events, queue.max_events bound: RSS growth and drops. */
static int
memory(const char *url, long n, long max_events)
{
    char body[512];
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = 32\ndrain_timeout = 100ms\n"
             "retry { max_attempts = 1000000, initial_backoff = 1s, max_backoff = 10s }\n"
             "queue { max_events = %ld }\nevents = [ { event = on_message_publish } ]", url, max_events);
    swiftwebhook *wh = start(body);
    long before = rss_kib();
    long dropped = 0;
    for (long i = 0; i < n; i++) {
        swiftwebhook_event ev = publish_event((unsigned) i);
        dropped += webhook_emit(wh, &ev) == SWIFTWEBHOOK_DROPPED;
    }
    long after = rss_kib();
    swiftwebhook_stats s = stats_of(wh);
    printf("{\"events\": %ld, \"max_events\": %ld, \"rss_before_kib\": %ld, \"rss_after_kib\": %ld, "
           "\"rss_growth_mib\": %.1f, \"emit_returned_dropped\": %ld, \"balanced\": %s, ",
        n, max_events, before, after, (after - before) / 1024.0, dropped,
        s.matched == s.delivered + s.failed + s.dropped_queue_full + s.dropped_shutdown + s.queued + s.in_flight ? "true" : "false");
    print_stats("", s);
    printf("}\n");
    webhook_fini(wh);
    return 0;
}

/* B7: the endpoint is down until `up_at` seconds, then UP_COMMAND starts it. */
static int
outage(const char *url, long rate, double seconds, double up_at, const char *up_command)
{
    char body[512];
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = 32\ndrain_timeout = 60s\n"
             "retry { max_attempts = 1000000, initial_backoff = 100ms, max_backoff = 1s }\n"
             "queue { max_events = 1000000 }\nevents = [ { event = on_message_publish } ]", url);
    swiftwebhook *wh = start(body);
    long sent = paced(wh, rate, seconds, up_at, up_command);
    uint64_t t0 = now_ns();
    swiftwebhook_stats s;
    for (;;) {
        s = stats_of(wh);
        if (s.delivered + s.failed + s.dropped_queue_full >= (uint64_t) sent || now_ns() - t0 > 60000000000ull) {
            break;
        }
        usleep(1000);
    }
    printf("{\"rate\": %ld, \"seconds\": %.1f, \"down_for_s\": %.1f, \"sent\": %ld, \"lost\": %lld, ", rate, seconds,
        up_at, sent, (long long) sent - (long long) s.delivered);
    print_stats("", s);
    printf("}\n");
    webhook_fini(wh);
    return 0;
}

/* B14: the endpoint is down while N events are emitted (at RATE/s, 0 = as
 * fast as possible) into memory (dir "-": a queue that holds them all) or a
 * spool in DIR (memory holds 10,000); "in" ends when every event is queued,
 * on disk or dropped. Then UP_COMMAND starts the endpoint; "out" ends when
 * every accepted event is delivered. */
static int
recovery(const char *url, long n, long rate, const char *dir, const char *up_command, const char *extra)
{
    char body[1024];
    int spool = strcmp(dir, "-") != 0;
    char spool_block[512] = "";
    if (spool) {
        snprintf(spool_block, sizeof spool_block, "spool { dir = \"%s\", max_bytes = 8GB }", dir);
    }
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = 32\ndrain_timeout = 0s\n"
             "retry { max_attempts = 1000000, initial_backoff = 10ms, max_backoff = 100ms }\n"
             "queue { max_events = %ld, max_bytes = 8GB }\nevents = [ { event = on_message_publish } ]\n%s\n%s",
             url, spool ? 10000 : n + 1, spool_block, extra);
    swiftwebhook *wh = start(body);
    uint64_t t0 = now_ns();
    pacer p = {t0, 0, rate, 1e9};
    long sent = 0;
    while (sent < n) {
        long target = rate > 0 ? pacer_next(&p) : n;
        while (sent < target && sent < n) {
            swiftwebhook_event ev = publish_event((unsigned) sent);
            webhook_emit(wh, &ev);
            sent++;
        }
    }
    uint64_t emitted = now_ns();
    swiftwebhook_stats s;
    for (;;) {
        s = stats_of(wh);
        uint64_t settled = s.queued + s.in_flight + s.dropped_queue_full + s.dropped_spool + (spool ? s.spool_written : 0);
        if (!spool || settled >= (uint64_t) n) {
            break;
        }
        usleep(200);
    }
    uint64_t in_done = now_ns();
    swiftwebhook_stats at_peak = s;
    uint64_t accepted = s.matched - s.dropped_queue_full - s.dropped_spool;
    if (system(up_command) != 0) {
        fprintf(stderr, "up command failed\n");
    }
    uint64_t up = now_ns();
    for (;;) {
        s = stats_of(wh);
        if (s.delivered + s.failed >= accepted) {
            break;
        }
        usleep(1000);
    }
    uint64_t out_done = now_ns();
    printf("{\"events\": %ld, \"rate\": %ld, \"spool\": %s, \"emit_seconds\": %.3f, \"in_seconds\": %.3f, "
           "\"in_events_per_s\": %.0f, \"out_seconds\": %.3f, \"out_events_per_s\": %.0f, \"accepted\": %llu, "
           "\"dropped_spool\": %llu, \"spool_written\": %llu, \"spool_bytes_at_peak\": %llu, \"disk_bytes_per_event\": %.1f, ",
        n, rate, spool ? "true" : "false", (emitted - t0) / 1e9, (in_done - t0) / 1e9, accepted / ((in_done - t0) / 1e9),
        (out_done - up) / 1e9, accepted / ((out_done - up) / 1e9), (unsigned long long) accepted,
        (unsigned long long) at_peak.dropped_spool, (unsigned long long) at_peak.spool_written,
        (unsigned long long) at_peak.spool_bytes,
        at_peak.spool_written > 0 ? (double) at_peak.spool_bytes / (double) at_peak.spool_written : 0.0);
    print_stats("", s);
    printf("}\n");
    webhook_fini(wh);
    return s.failed == 0 ? 0 : 1;
}

/* Mixed events at a steady rate; RSS every `every` seconds; at the end a
 * long drain, then the counters must add up and nothing may be lost. */
static int
soak(const char *url, long rate, double seconds, double every)
{
    char body[1024];
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = 8\ncancel_timeout = 2s\ndrain_timeout = 120s\n"
             "retry { max_attempts = 1000000, initial_backoff = 20ms, max_backoff = 500ms }\n"
             "queue { max_events = 1000000, max_bytes = 256MB }\n"
             "events = [ { event = on_message_publish }, { event = on_client_connack }, { event = on_client_disconnected },"
             " { event = on_client_subscribe }, { event = on_message_delivered } ]", url);
    swiftwebhook *wh = start(body);
    static const int types[] = {SWIFTWEBHOOK_MESSAGE_PUBLISH, SWIFTWEBHOOK_MESSAGE_PUBLISH, SWIFTWEBHOOK_MESSAGE_PUBLISH,
        SWIFTWEBHOOK_CLIENT_CONNACK, SWIFTWEBHOOK_CLIENT_DISCONNECTED, SWIFTWEBHOOK_CLIENT_SUBSCRIBE, SWIFTWEBHOOK_MESSAGE_DELIVERED,
        SWIFTWEBHOOK_CLIENT_CONNECT /* no rule: filtered */};
    pacer p = {now_ns(), 0, rate, seconds};
    uint64_t t0 = p.t0, next_report = 0;
    long sent = 0, queued = 0, target;
    while ((target = pacer_next(&p)) >= 0) {
        uint64_t now = now_ns();
        if (now - t0 >= next_report) {
            swiftwebhook_stats s = stats_of(wh);
            printf("soak t=%5.0fs rss=%ld KiB queued=%llu queued_kib=%llu in_flight=%llu delivered=%llu retried=%llu\n",
                (now - t0) / 1e9, rss_kib(), (unsigned long long) s.queued, (unsigned long long) (s.queued_bytes / 1024),
                (unsigned long long) s.in_flight, (unsigned long long) s.delivered, (unsigned long long) s.retried);
            fflush(stdout);
            next_report += (uint64_t) (every * 1e9);
        }
        while (sent < target) {
            swiftwebhook_event ev = publish_event((unsigned) sent);
            ev.type = types[sent % 8];
            ev.reason_code = (uint8_t) (sent % 3 == 0 ? 0x8D : 0);
            queued += webhook_emit(wh, &ev) == SWIFTWEBHOOK_OK;
            sent++;
        }
    }
    /* Let delivery finish while the endpoint is up, then check the books. */
    swiftwebhook_stats s = stats_of(wh);
    for (int i = 0; i < 120000 && (s.queued > 0 || s.in_flight > 0); i++) {
        usleep(1000);
        s = stats_of(wh);
    }
    int balanced = s.matched == s.delivered + s.failed + s.dropped_queue_full + s.dropped_shutdown + s.queued + s.in_flight;
    long long lost = (long long) queued - (long long) s.delivered;
    printf("{\"sent\": %ld, \"accepted\": %ld, \"lost\": %lld, \"balanced\": %s, \"rss_end_kib\": %ld, ", sent, queued,
        lost, balanced ? "true" : "false", rss_kib());
    print_stats("", s);
    printf("}\n");
    webhook_fini(wh);
    return balanced && lost == 0 && s.failed == 0 && s.dropped_queue_full == 0 ? 0 : 1;
}


/* B15: what delivery costs the host's process per event: the process's CPU
 * and context switches from the first emit to the last 2xx, less those of
 * the emitting thread (its emits, its pacing sleeps: a broker's thread pays
 * for its own emits, measured in B2). Paced runs space events evenly (one
 * absolute sleep per event, as publishes from many clients arrive), not in
 * bursts. Started and stopped outside the window: init's and fini's threads
 * are not counted. */
static int
cpu_per_event(const char *url, long rate, double seconds, const char *extra)
{
    char body[1024];
    snprintf(body, sizeof body, "url = \"%s\"\npool_size = 32\ndrain_timeout = 120s\n"
             "queue { max_events = 10000000, max_bytes = 8GB }\nevents = [ { event = on_message_publish } ]\n%s",
             url, extra);
    swiftwebhook *wh = start(body);
    long n = rate > 0 ? (long) (rate * seconds) : (long) seconds;
    usleep(200000);  /* the pool's first connections and nng's threads settle */
    usage p0 = usage_of(RUSAGE_SELF), t0 = usage_of(RUSAGE_THREAD);
    uint64_t start_ns = now_ns();
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    uint64_t gap_ns = rate > 0 ? 1000000000ull / (uint64_t) rate : 0;
    for (long i = 0; i < n; i++) {
        if (gap_ns > 0) {
            pace_next(&due, (long) gap_ns);
        }
        swiftwebhook_event ev = publish_event((unsigned) i);
        while (webhook_emit(wh, &ev) != SWIFTWEBHOOK_OK) {
            usleep(100);
        }
    }
    usage t1 = usage_of(RUSAGE_THREAD);
    swiftwebhook_stats s;
    for (;;) {
        s = stats_of(wh);
        if (s.delivered + s.failed >= (uint64_t) n) {
            break;
        }
        usleep(200);
    }
    usage p1 = usage_of(RUSAGE_SELF), t2 = usage_of(RUSAGE_THREAD);
    uint64_t elapsed_ns = now_ns() - start_ns;
    /* The waiting loop after the last emit is the emitting thread's too. */
    double cpu = (double) ((p1.cpu_ns - p0.cpu_ns) - (t2.cpu_ns - t0.cpu_ns));
    double vol = (double) ((p1.voluntary - p0.voluntary) - (t2.voluntary - t0.voluntary));
    double invol = (double) ((p1.involuntary - p0.involuntary) - (t2.involuntary - t0.involuntary));
    printf("{\"rate\": %ld, \"events\": %ld, \"seconds\": %.3f, \"events_per_s\": %.0f, \"cpu_ns_per_event\": %.0f, "
           "\"voluntary_per_event\": %.3f, \"involuntary_per_event\": %.3f, \"emit_thread_cpu_ns_per_event\": %.0f, ",
        rate, n, elapsed_ns / 1e9, n / (elapsed_ns / 1e9), cpu / (double) n, vol / (double) n, invol / (double) n,
        (double) (t1.cpu_ns - t0.cpu_ns) / (double) n);
    print_stats("", s);
    printf("}\n");
    webhook_fini(wh);
    return s.failed == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    memset(payload64, 'x', sizeof payload64);
    for (int i = 0; i < 1024; i++) {
        snprintf(clientids[i], sizeof clientids[i], "dev-%04d", i);
    }
    if (argc >= 3 && strcmp(argv[1], "emit-filtered") == 0) {
        return emit_filtered(atol(argv[2]));
    } else if (argc >= 5 && strcmp(argv[1], "emit-matched") == 0) {
        return emit_matched(argv[2], atol(argv[3]), atoi(argv[4]), argc >= 6 ? argv[5] : "");
    } else if (argc >= 5 && strcmp(argv[1], "throughput") == 0) {
        return throughput(argv[2], atol(argv[3]), atoi(argv[4]), argc >= 6 ? argv[5] : "");
    } else if (argc >= 6 && strcmp(argv[1], "fanout") == 0) {
        return fanout(argv[2], argv[3], atol(argv[4]), atoi(argv[5]));
    } else if (argc >= 5 && strcmp(argv[1], "latency") == 0) {
        return latency(argv[2], atol(argv[3]), atof(argv[4]));
    } else if (argc >= 5 && strcmp(argv[1], "memory") == 0) {
        return memory(argv[2], atol(argv[3]), atol(argv[4]));
    } else if (argc >= 6 && strcmp(argv[1], "soak") == 0) {
        return soak(argv[2], atol(argv[3]), atof(argv[4]), atof(argv[5]));
    } else if (argc >= 7 && strcmp(argv[1], "recovery") == 0) {
        return recovery(argv[2], atol(argv[3]), atol(argv[4]), argv[5], argv[6], argc >= 8 ? argv[7] : "");
    } else if (argc >= 5 && strcmp(argv[1], "cpu") == 0) {
        return cpu_per_event(argv[2], atol(argv[3]), atof(argv[4]), argc >= 6 ? argv[5] : "");
    } else if (argc >= 7 && strcmp(argv[1], "outage") == 0) {
        return outage(argv[2], atol(argv[3]), atof(argv[4]), atof(argv[5]), argv[6]);
    }
    fprintf(stderr, "usage: see the comment at the top of driver.c\n");
    return 2;
}
