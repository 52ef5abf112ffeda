/*
 * broker_process.c - a broker process driven by commands, for
 * metrics_test.py (metrics parsed by a real Prometheus parser) and
 * reload_test.py (webhook_reload under load), which run the receivers.
 *
 *   broker_process PORT [CONFIG]
 *
 * Starts the library from CONFIG, or else delivering to 127.0.0.1:PORT
 * (retries quick, at most 3 attempts); checks the bad-argument answers of
 * webhook_get_metrics and webhook_reload itself; then reads commands on
 * stdin, one per line:
 *   emit N TYPE   emits N events of TYPE (a swiftwebhook_event_type number),
 *                 payloads "TYPE:SEQ" with SEQ counting over the whole run
 *   reload PATH   webhook_reload(PATH); prints "reload RC WHY"
 *   settle        waits until every matched event is finished (delivered,
 *                 failed or dropped)
 *   waitdown      waits until the metrics say the endpoint is down
 *   report        prints "stats key=value ...", then the metrics text
 *                 between "metrics-begin" and "metrics-end"
 *   quit          webhook_fini, checks ESHUTDOWN after it, exits
 * and answers each with "ok <command>". The library's log goes to stderr.
 * Exits 1 when a check failed.
 */
#include "testutil.h"

#include <stdint.h>

static swiftwebhook *wh;
static long emitted; /* payload numbers, unique over the run */

static void
log_to_stderr(void *userdata, int level, const char *message)
{
    (void) userdata;
    fprintf(stderr, "[swiftwebhook %d] %s\n", level, message);
}

/* The whole text, in a buffer of the size the library asks for. */
static char *
metrics_text(void)
{
    size_t needed = 0;
    CHECK_EQ_INT(webhook_get_metrics(wh, NULL, 0, &needed), SWIFTWEBHOOK_ETOOSMALL);
    for (;;) {
        size_t size = needed + 256; /* the numbers may grow between the calls */
        char *text = malloc(size);
        if (text == NULL) {
            abort();
        }
        int rv = webhook_get_metrics(wh, text, size, &needed);
        if (rv == SWIFTWEBHOOK_OK) {
            CHECK_EQ_INT(strlen(text) + 1, needed);
            return text;
        }
        CHECK_EQ_INT(rv, SWIFTWEBHOOK_ETOOSMALL);
        free(text);
    }
}

/* What a caller can get wrong: each is refused with nothing written past
 * the buffer, and a buffer too small gets the size it needs. */
static void
check_bad_arguments(void)
{
    char small[16];
    size_t needed = 0;
    memset(small, 'x', sizeof small);
    CHECK_EQ_INT(webhook_get_metrics(NULL, small, sizeof small, &needed), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_metrics(wh, NULL, 5, &needed), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_metrics(wh, small, SIZE_MAX, &needed), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_metrics(wh, small, SIZE_MAX / 2 + 1, &needed), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_metrics((swiftwebhook *) (uintptr_t) 0xdeadbeef, small, sizeof small, &needed), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(small[0], 'x');
    CHECK_EQ_INT(webhook_get_metrics(wh, small, sizeof small, &needed), SWIFTWEBHOOK_ETOOSMALL);
    CHECK_EQ_INT(small[0], 0);
    CHECK_EQ_INT(small[1], 'x');
    CHECK(needed > sizeof small);
    /* Exactly the size it asked for fits, NUL included; one byte less does not. */
    size_t exact = needed;
    char *text = malloc(exact);
    CHECK_EQ_INT(webhook_get_metrics(wh, text, exact - 1, NULL), SWIFTWEBHOOK_ETOOSMALL);
    CHECK_EQ_INT(webhook_get_metrics(wh, text, exact, &needed), SWIFTWEBHOOK_OK);
    CHECK_EQ_INT(strlen(text) + 1, exact);
    free(text);
    CHECK(strcmp(webhook_strerror(SWIFTWEBHOOK_ETOOSMALL), "the buffer is too small") == 0);

    /* webhook_reload: a NULL or bogus handle, and a missing file, change nothing and say why. */
    char why_reload[512];
    CHECK_EQ_INT(webhook_reload(NULL, "x.conf", why_reload, sizeof why_reload), SWIFTWEBHOOK_EINVAL);
    CHECK(strstr(why_reload, "must not be NULL") != NULL);
    CHECK_EQ_INT(webhook_reload((swiftwebhook *) (uintptr_t) 0xdeadbeef, NULL, why_reload, sizeof why_reload), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_reload(wh, "/nonexistent/webhook.conf", why_reload, sizeof why_reload), SWIFTWEBHOOK_ECONFIG);
    CHECK(strstr(why_reload, "/nonexistent/webhook.conf") != NULL && strstr(why_reload, "the running config stays") != NULL);
    CHECK_EQ_INT(webhook_reload(wh, "/nonexistent/webhook.conf", why_reload, 1), SWIFTWEBHOOK_ECONFIG);
    CHECK_EQ_INT(why_reload[0], 0);

    /* A disabled instance: the info lines, enabled 0. */
    swiftwebhook *disabled = NULL;
    char why[256];
    CHECK_EQ_INT(webhook_init_text(&disabled, "webhook { enable = false, url = \"http://127.0.0.1:1/\" }", "off.conf",
                     why, sizeof why), SWIFTWEBHOOK_OK);
    char off[1024];
    CHECK_EQ_INT(webhook_get_metrics(disabled, off, sizeof off, NULL), SWIFTWEBHOOK_OK);
    /* Started from text: a reload must name its file. */
    CHECK_EQ_INT(webhook_reload(disabled, NULL, why, sizeof why), SWIFTWEBHOOK_EINVAL);
    CHECK(strstr(why, "name the file") != NULL);
    CHECK(strstr(off, "\nswiftwebhook_enabled 0\n") != NULL);
    CHECK(strstr(off, "swiftwebhook_info{version=\"" SWIFTWEBHOOK_VERSION "\"} 1\n") != NULL);
    CHECK(strstr(off, "delivered") == NULL);
    webhook_fini(disabled);
    CHECK_EQ_INT(webhook_get_metrics(disabled, off, sizeof off, NULL), SWIFTWEBHOOK_ESHUTDOWN);
    CHECK_EQ_INT(webhook_reload(disabled, "x.conf", why, sizeof why), SWIFTWEBHOOK_ESHUTDOWN);
}

static void
report(void)
{
    swiftwebhook_stats s = stats_of(wh);
    char *text = metrics_text();
    printf("stats matched=%llu queued=%llu in_flight=%llu delivered=%llu failed=%llu retried=%llu "
           "dropped_queue_full=%llu dropped_shutdown=%llu dropped_spool=%llu connections_open=%llu "
           "connections_opened=%llu queued_bytes=%llu spooled=%llu spool_replayed=%llu spool_written=%llu "
           "spool_rows=%llu spool_bytes=%llu\n",
        (unsigned long long) s.matched, (unsigned long long) s.queued, (unsigned long long) s.in_flight,
        (unsigned long long) s.delivered, (unsigned long long) s.failed, (unsigned long long) s.retried,
        (unsigned long long) s.dropped_queue_full, (unsigned long long) s.dropped_shutdown,
        (unsigned long long) s.dropped_spool, (unsigned long long) s.connections_open,
        (unsigned long long) s.connections_opened, (unsigned long long) s.queued_bytes,
        (unsigned long long) s.spooled, (unsigned long long) s.spool_replayed,
        (unsigned long long) s.spool_written, (unsigned long long) s.spool_rows, (unsigned long long) s.spool_bytes);
    printf("metrics-begin\n%smetrics-end\n", text);
    free(text);
}

static void
emit(long count, int type)
{
    char clientid[32], payload[32];
    for (long i = 0; i < count; i++) {
        long n = emitted++;
        snprintf(clientid, sizeof clientid, "c%ld", n % 7); /* client SEQ % 7 */
        int length = snprintf(payload, sizeof payload, "%d:%ld", type, n);
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        ev.type = type;
        ev.clientid = clientid;
        ev.username = "user";
        ev.topic = "metrics/test";
        ev.payload = payload;
        ev.payload_len = (size_t) length;
        ev.reason = "normal";
        int rv = webhook_emit(wh, &ev);
        CHECK(rv == SWIFTWEBHOOK_OK || rv == SWIFTWEBHOOK_DROPPED || rv == SWIFTWEBHOOK_FILTERED);
    }
}

int
main(int argc, char **argv)
{
    char config[1024], why[512], line[256];
    if (argc < 2) {
        fprintf(stderr, "usage: broker_process PORT [CONFIG]\n");
        return 2;
    }
    webhook_set_log(log_to_stderr, NULL, SWIFTWEBHOOK_LOG_INFO);
    snprintf(config, sizeof config,
        "webhook {\n url = \"http://127.0.0.1:%s/hook\"\n pool_size = 4\n drain_timeout = 0s\n"
        " cancel_timeout = 2s\n"
        " retry { max_attempts = 3, initial_backoff = 20ms, max_backoff = 50ms }\n"
        " events = [ { event = on_client_connect }, { event = on_client_disconnected },"
        " { event = on_message_publish } ] }",
        argv[1]);
    int started = argc > 2 ? webhook_init(&wh, argv[2], why, sizeof why)
                           : webhook_init_text(&wh, config, "broker_process.conf", why, sizeof why);
    if (started != SWIFTWEBHOOK_OK) {
        printf("init failed: %s\n", why);
        return 3;
    }
    check_bad_arguments();
    while (fgets(line, sizeof line, stdin) != NULL) {
        long count = 0;
        int type = 0;
        char path[200];
        if (sscanf(line, "emit %ld %d", &count, &type) == 2) {
            emit(count, type);
        } else if (sscanf(line, "reload %199s", path) == 1) {
            char reason[1024];
            int rv = webhook_reload(wh, path, reason, sizeof reason);
            printf("reload %d %s\n", rv, reason);
        } else if (strncmp(line, "settle", 6) == 0) {
            for (;;) {
                swiftwebhook_stats s = stats_of(wh);
                if (s.queued == 0 && s.in_flight == 0 && s.spooled == 0) {
                    break;
                }
                sleep_ms(10);
            }
        } else if (strncmp(line, "waitdown", 8) == 0) {
            for (;;) {
                char *text = metrics_text();
                int down = strstr(text, "swiftwebhook_endpoint_state{state=\"down\"} 1\n") != NULL;
                free(text);
                if (down) {
                    break;
                }
                sleep_ms(20);
            }
        } else if (strncmp(line, "report", 6) == 0) {
            report();
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
        line[strcspn(line, "\n")] = 0;
        printf("ok %s\n", line);
        fflush(stdout);
    }
    webhook_fini(wh);
    CHECK_EQ_INT(webhook_get_metrics(wh, line, sizeof line, NULL), SWIFTWEBHOOK_ESHUTDOWN);
    CHECK_EQ_INT(webhook_reload(wh, NULL, line, sizeof line), SWIFTWEBHOOK_ESHUTDOWN);
    fprintf(stderr, "broker_process: %d passed, %d failed\n", test_passed, test_failed);
    return test_failed == 0 ? 0 : 1;
}
