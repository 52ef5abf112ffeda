/*
 * abi_test.c - the C ABI as a broker uses it: init from real config files,
 * every event type to a real HTTP server, every invalid input with its
 * exact return code, several handles, stats, logging, and fini rules.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "testutil.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <swiftwebhook.h>

static const char *all_rules =
    "    body.encoding = base64\n"
    "    pool_size = 4\n"
    "    events = [\n"
    "        { event = on_client_connect }\n        { event = on_client_connack }\n"
    "        { event = on_client_connected }\n      { event = on_client_disconnected }\n"
    "        { event = on_client_subscribe }\n      { event = on_client_unsubscribe }\n"
    "        { event = on_session_subscribed }\n    { event = on_session_unsubscribed }\n"
    "        { event = on_session_terminated }\n    { event = on_message_publish }\n"
    "        { event = on_message_delivered }\n     { event = on_message_acked }\n"
    "    ]\n";

static int
wait_settled(swiftwebhook *wh, uint64_t expected_done)
{
    for (int i = 0; i < 1000; i++) {
        swiftwebhook_stats s = stats_of(wh);
        if (s.delivered + s.failed + s.dropped_queue_full >= expected_done) {
            return 1;
        }
        sleep_ms(10);
    }
    return 0;
}

static void
test_names(void)
{
    CHECK(strcmp(webhook_version(), SWIFTWEBHOOK_VERSION) == 0);
    CHECK_EQ_INT(webhook_abi_version(), SWIFTWEBHOOK_ABI_VERSION);
    CHECK(strcmp(webhook_strerror(SWIFTWEBHOOK_OK), "success (queued)") == 0);
    CHECK(strstr(webhook_strerror(SWIFTWEBHOOK_FILTERED), "filtered") != NULL);
    CHECK(strstr(webhook_strerror(SWIFTWEBHOOK_ESHUTDOWN), "shutting down") != NULL);
    CHECK(strcmp(webhook_strerror(12345), "unknown code") == 0);
}

static void
test_init_errors(void)
{
    char why[512];
    swiftwebhook *wh = NULL;
    const char *path = "abi_test_bad.conf";

    CHECK_EQ_INT(webhook_init(NULL, "x.conf", why, sizeof why), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_init(&wh, NULL, why, sizeof why), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_init_text(&wh, NULL, NULL, why, sizeof why), SWIFTWEBHOOK_EINVAL);

    CHECK_EQ_INT(webhook_init(&wh, "/nonexistent/nanomq.conf", why, sizeof why), SWIFTWEBHOOK_ECONFIG);
    CHECK(strcmp(why, "cannot read config file /nonexistent/nanomq.conf: No such file or directory") == 0);
    CHECK(wh == NULL);

    write_config(path, "    body.encoding = base63\n");
    CHECK_EQ_INT(webhook_init(&wh, path, why, sizeof why), SWIFTWEBHOOK_ECONFIG);
    CHECK(strcmp(why, "abi_test_bad.conf:10:21: webhook.body.encoding: expected plain, base64 or base62, got \"base63\"") == 0);
    if (strcmp(why, "abi_test_bad.conf:10:21: webhook.body.encoding: expected plain, base64 or base62, got \"base63\"") != 0) {
        fprintf(stderr, "  got: %s\n", why);
    }

    /* A short buffer gets a truncated, terminated message. */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    CHECK_EQ_INT(webhook_init(&wh, path, tiny, sizeof tiny), SWIFTWEBHOOK_ECONFIG);
    CHECK(strcmp(tiny, "abi_tes") == 0);
    CHECK_EQ_INT(webhook_init(&wh, path, NULL, 0), SWIFTWEBHOOK_ECONFIG); /* reason goes to the log */

    CHECK_EQ_INT(webhook_init_text(&wh, "webhook { url = \"http://h/\", events = [ { event = on_nothing } ] }",
                     "inline.conf", why, sizeof why), SWIFTWEBHOOK_ECONFIG);
    CHECK(strstr(why, "inline.conf:1:51: webhook.events[0].event: unknown event \"on_nothing\"") == why);

    /* Config fine, TLS material unusable: the engine cannot start. */
    CHECK_EQ_INT(webhook_init_text(&wh, "webhook { url = \"https://127.0.0.1:1/\", tls { cacertfile = \"abi_test_bad.conf\" } }",
                     NULL, why, sizeof why), SWIFTWEBHOOK_ESTART);
    CHECK(strstr(why, "tls.cacertfile abi_test_bad.conf") != NULL);
    CHECK(wh == NULL);
    remove(path);
}

static swiftwebhook_event
event_of(int type)
{
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    ev.type = type;
    ev.clientid = "c1";
    ev.username = "alice";
    ev.peer_address = "127.0.0.1:50000";
    ev.proto_ver = 4;
    ev.keepalive = 60;
    ev.topic = "a/b";
    ev.qos = 1;
    ev.payload = "hi";
    ev.payload_len = 2;
    ev.from_clientid = "pub1";
    ev.from_username = "bob";
    ev.timestamp_ms = 1700000000000ULL;
    return ev;
}

static void
test_every_event_type(void)
{
    char why[512];
    swiftwebhook *wh = NULL;
    write_config("abi_test_all.conf", all_rules);
    CHECK_EQ_INT(webhook_init(&wh, "abi_test_all.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    for (int type = 0; type < SWIFTWEBHOOK_EVENT_TYPE_COUNT; type++) {
        swiftwebhook_event ev = event_of(type);
        CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_OK);
    }
    CHECK(wait_settled(wh, SWIFTWEBHOOK_EVENT_TYPE_COUNT));
    swiftwebhook_stats s = stats_of(wh);
    CHECK_EQ_INT(s.delivered, SWIFTWEBHOOK_EVENT_TYPE_COUNT);
    CHECK_EQ_INT(s.matched, SWIFTWEBHOOK_EVENT_TYPE_COUNT);
    webhook_fini(wh);

    char *requests = hook_get("/_control/requests");
    CHECK(requests != NULL);
    CHECK_EQ_INT(count_occurrences(requests, "\"method\": \"POST\""), SWIFTWEBHOOK_EVENT_TYPE_COUNT);
    CHECK_EQ_INT(count_occurrences(requests, "\"path\": \"/hook\""), SWIFTWEBHOOK_EVENT_TYPE_COUNT);
    free(requests);
    remove("abi_test_all.conf");
}

static void
test_invalid_input(void)
{
    char why[512];
    swiftwebhook *wh = NULL;
    CHECK_EQ_INT(webhook_init_text(&wh, "webhook { url = \"http://127.0.0.1:1/\", drain_timeout = 100ms\n"
                                        "  events = [ { event = on_message_publish } ] }",
                     NULL, why, sizeof why), SWIFTWEBHOOK_OK);
    swiftwebhook_event ev = event_of(SWIFTWEBHOOK_MESSAGE_PUBLISH);

    CHECK_EQ_INT(webhook_emit(NULL, &ev), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_emit(wh, NULL), SWIFTWEBHOOK_EINVAL);

    ev.size = 0;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    ev.size = sizeof ev - 1;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    ev.size = (size_t) 1 << 20;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    ev.size = sizeof ev;

    ev.type = -1;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    ev.type = SWIFTWEBHOOK_EVENT_TYPE_COUNT;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;

    ev.payload = NULL;
    ev.payload_len = 5;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    ev.payload_len = 0;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_OK); /* an empty payload is fine */

    /* Every size_t over the limit, the ones that are negative as a signed
     * size among them, is refused before a byte is read. */
    static const char small[8] = "payload";
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 4, (SIZE_MAX >> 1) + 1, (SIZE_MAX >> 1) + 2,
                                  ((size_t) 256 << 20) + 1, (size_t) PTRDIFF_MAX};
    ev.payload = small;
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        ev.payload_len = huge[i];
        CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    }
    ev.payload_len = sizeof small;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_OK);
    ev.size = SIZE_MAX;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    ev.size = sizeof ev;

    /* A 64 KiB topic: MQTT's limit is fine, one byte more is not. */
    char *topic = malloc(65537);
    memset(topic, 'a', 65536);
    topic[65535] = '\0';
    ev.topic = topic;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_OK);
    topic[65535] = 'a';
    topic[65536] = '\0';
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_EINVAL);
    free(topic);
    ev.topic = "a/b";

    /* Optional strings absent, and bytes that are not UTF-8. */
    swiftwebhook_event sparse = SWIFTWEBHOOK_EVENT_INIT;
    sparse.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
    CHECK_EQ_INT(webhook_emit(wh, &sparse), SWIFTWEBHOOK_OK);
    ev.clientid = "\xff\xfe\xc0\xaf";
    ev.payload = "bin\0\xff\xfe";
    ev.payload_len = 6;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_OK);

    /* A newer broker's larger struct is accepted. */
    struct {
        swiftwebhook_event ev;
        uint64_t future_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.ev = event_of(SWIFTWEBHOOK_MESSAGE_PUBLISH);
    newer.ev.size = sizeof newer;
    CHECK_EQ_INT(webhook_emit(wh, &newer.ev), SWIFTWEBHOOK_OK);

    /* Something that never was a handle. */
    CHECK_EQ_INT(webhook_emit((swiftwebhook *) (uintptr_t) 0x7fff0000u, &ev), SWIFTWEBHOOK_EINVAL);

    /* No rule for this type. */
    swiftwebhook_event connack = event_of(SWIFTWEBHOOK_CLIENT_CONNACK);
    CHECK_EQ_INT(webhook_emit(wh, &connack), SWIFTWEBHOOK_FILTERED);
    CHECK_EQ_INT(webhook_wants(wh, SWIFTWEBHOOK_MESSAGE_PUBLISH), 1);
    CHECK_EQ_INT(webhook_wants(wh, SWIFTWEBHOOK_CLIENT_CONNACK), 0);
    CHECK_EQ_INT(webhook_wants(wh, 99), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_wants(NULL, 0), SWIFTWEBHOOK_EINVAL);

    swiftwebhook_stats stats;
    CHECK_EQ_INT(webhook_get_stats(wh, NULL), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_stats(NULL, &stats), SWIFTWEBHOOK_EINVAL);
    stats.size = 0;
    CHECK_EQ_INT(webhook_get_stats(wh, &stats), SWIFTWEBHOOK_EINVAL);
    webhook_fini(wh);
}

static void
test_filters_and_drops(void)
{
    char why[512];
    swiftwebhook *wh = NULL;
    /* A dead endpoint, one connection, room for two queued events. */
    CHECK_EQ_INT(webhook_init_text(&wh,
                     "webhook {\n url = \"http://127.0.0.1:1/\"\n pool_size = 1\n drain_timeout = 100ms\n"
                     " queue { max_events = 2 }\n"
                     " retry { max_attempts = 1000, initial_backoff = 50ms, max_backoff = 50ms }\n"
                     " events = [ { event = on_message_publish, topic = \"sensors/#\" } ] }",
                     NULL, why, sizeof why), SWIFTWEBHOOK_OK);
    swiftwebhook_event ev = event_of(SWIFTWEBHOOK_MESSAGE_PUBLISH);
    ev.topic = "other/x";
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_FILTERED);
    ev.topic = "sensors/1";
    int dropped = 0;
    for (int i = 0; i < 20; i++) {
        if (webhook_emit(wh, &ev) == SWIFTWEBHOOK_DROPPED) {
            dropped++;
        }
        sleep_ms(i == 0 ? 100 : 0); /* let the first one go in flight */
    }
    swiftwebhook_stats s = stats_of(wh);
    CHECK_EQ_INT(dropped, 17);
    CHECK_EQ_INT(s.dropped_queue_full, 17);
    CHECK_EQ_INT(s.queued, 2);
    CHECK_EQ_INT(s.in_flight, 1);
    CHECK_EQ_INT(s.matched, 20);

    /* An older caller's smaller struct: nothing past its size is written. */
    swiftwebhook_stats old;
    memset(&old, 0xAB, sizeof old);
    old.size = offsetof(swiftwebhook_stats, latency_p50_us);
    CHECK_EQ_INT(webhook_get_stats(wh, &old), SWIFTWEBHOOK_OK);
    CHECK_EQ_INT(old.matched, 20);
    CHECK(old.latency_p50_us == 0xABABABABABABABABULL && old.latency_p99_us == 0xABABABABABABABABULL);
    /* A 1.3 caller's struct ends before 1.4.0's endpoint fields. */
    memset(&old, 0xAB, sizeof old);
    old.size = offsetof(swiftwebhook_stats, endpoints);
    CHECK_EQ_INT(webhook_get_stats(wh, &old), SWIFTWEBHOOK_OK);
    CHECK_EQ_INT(old.spool_bytes, 0);
    CHECK(old.endpoints == 0xABABABABABABABABULL && old.failovers == 0xABABABABABABABABULL);
    /* The one endpoint is dead: it goes down, and its circuit opens (no backup_url: no failover). */
    CHECK_EQ_INT(s.endpoints, 1);
    for (int i = 0; i < 1000 && !(s.endpoints_down == 1 && s.circuits_open == 1); i++) {
        sleep_ms(10);
        s = stats_of(wh);
    }
    CHECK(s.endpoints_down == 1 && s.circuits_open == 1 && s.circuit_opened >= 1);
    CHECK_EQ_INT(s.on_backup + s.failovers, 0);

    webhook_fini(wh);
}

static int log_lines;
static char last_log[512];

static void
capture_log(void *userdata, int level, const char *message)
{
    int *count = userdata;
    (*count)++;
    if (level <= SWIFTWEBHOOK_LOG_WARNING) {
        snprintf(last_log, sizeof last_log, "%s", message);
    }
}

static void
test_log_callback(void)
{
    char why[512];
    swiftwebhook *wh = NULL;
    webhook_set_log(capture_log, &log_lines, SWIFTWEBHOOK_LOG_DEBUG);
    CHECK_EQ_INT(webhook_init_text(&wh, "webhook {\n url = \"http://127.0.0.1:1/\"\n pool_sise = 3\n}", "typo.conf",
                     why, sizeof why), SWIFTWEBHOOK_OK);
    CHECK(log_lines >= 2); /* the warning and the info line */
    CHECK(strcmp(last_log, "typo.conf:3:14: webhook.pool_sise: unknown key, ignored (did you mean pool_size?)") == 0);
    webhook_fini(wh);
    webhook_set_log(NULL, NULL, 0);
}

static void
test_handles_and_fini(void)
{
    char why[512];
    swiftwebhook *first = NULL, *second = NULL, *disabled = NULL;
    write_config("abi_test_first.conf", "    events = [ { event = on_client_connack } ]\n");
    CHECK_EQ_INT(webhook_init(&first, "abi_test_first.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    CHECK_EQ_INT(webhook_init(&second, "abi_test_first.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    CHECK_EQ_INT(webhook_init_text(&disabled, "webhook { enable = false }", NULL, why, sizeof why), SWIFTWEBHOOK_OK);
    CHECK(first != second && first != disabled);

    swiftwebhook_event connack = event_of(SWIFTWEBHOOK_CLIENT_CONNACK);
    CHECK_EQ_INT(webhook_emit(disabled, &connack), SWIFTWEBHOOK_FILTERED);
    CHECK_EQ_INT(webhook_emit(first, &connack), SWIFTWEBHOOK_OK);
    webhook_fini(first);
    CHECK_EQ_INT(webhook_emit(first, &connack), SWIFTWEBHOOK_ESHUTDOWN);
    CHECK_EQ_INT(webhook_wants(first, SWIFTWEBHOOK_CLIENT_CONNACK), SWIFTWEBHOOK_ESHUTDOWN);
    swiftwebhook_stats s;
    s.size = sizeof s;
    CHECK_EQ_INT(webhook_get_stats(first, &s), SWIFTWEBHOOK_ESHUTDOWN);
    webhook_fini(first); /* twice: harmless */
    webhook_fini(NULL);  /* NULL: harmless */

    /* The other handle is untouched, and a new one does not revive the old. */
    CHECK_EQ_INT(webhook_emit(second, &connack), SWIFTWEBHOOK_OK);
    swiftwebhook *third = NULL;
    CHECK_EQ_INT(webhook_init(&third, "abi_test_first.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    CHECK_EQ_INT(webhook_emit(first, &connack), SWIFTWEBHOOK_ESHUTDOWN);
    CHECK_EQ_INT(webhook_emit(third, &connack), SWIFTWEBHOOK_OK);
    CHECK(wait_settled(second, 1));
    CHECK(wait_settled(third, 1));
    webhook_fini(second);
    webhook_fini(third);
    webhook_fini(disabled);
    remove("abi_test_first.conf");
}

/* SWIFTWEBHOOK_MAX_HANDLES alive at once, then one more: ENOMEM, with the
 * reason; every one finalised, and the slots usable again. */
static void
test_handle_limit(void)
{
    static swiftwebhook *handles[SWIFTWEBHOOK_MAX_HANDLES + 1];
    char why[512] = "";
    int made = 0;
    for (; made < SWIFTWEBHOOK_MAX_HANDLES; made++) {
        if (webhook_init_text(&handles[made], "webhook { enable = false }", NULL, why, sizeof why) != SWIFTWEBHOOK_OK) {
            break;
        }
    }
    CHECK_EQ_INT(made, SWIFTWEBHOOK_MAX_HANDLES);
    swiftwebhook *extra = NULL;
    CHECK_EQ_INT(webhook_init_text(&extra, "webhook { enable = false }", NULL, why, sizeof why), SWIFTWEBHOOK_ENOMEM);
    CHECK(extra == NULL && strstr(why, "handles are already alive") != NULL);
    for (int i = 0; i < made; i++) {
        webhook_fini(handles[i]);
    }
    CHECK_EQ_INT(webhook_init_text(&extra, "webhook { enable = false }", NULL, why, sizeof why), SWIFTWEBHOOK_OK);
    webhook_fini(extra);
}

/* Strings and a payload that end right before an unreadable page: nothing
 * past their end is read. */
static void
test_guard_page(void)
{
    char why[512];
    swiftwebhook *wh = NULL;
    long page = sysconf(_SC_PAGESIZE);
    char *pages = mmap(NULL, (size_t) page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pages != MAP_FAILED);
    if (pages == MAP_FAILED) {
        return;
    }
    CHECK(mprotect(pages + page, (size_t) page, PROT_NONE) == 0);
    char *end = pages + page;
    memcpy(end - 4, "abc", 4);                 /* "abc\0" as the page's last bytes */
    CHECK_EQ_INT(webhook_init_text(&wh, "webhook { url = \"http://127.0.0.1:1/\", drain_timeout = 0s\n"
                                        "  events = [ { event = on_message_publish } ] }", NULL, why, sizeof why),
        SWIFTWEBHOOK_OK);
    swiftwebhook_event ev = event_of(SWIFTWEBHOOK_MESSAGE_PUBLISH);
    ev.clientid = end - 4;
    ev.username = end - 1;                     /* the empty string in the last byte */
    ev.topic = end - 4;
    ev.payload = end - 4;
    ev.payload_len = 4;
    CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_OK);
    webhook_fini(wh);
    munmap(pages, (size_t) page * 2);
}

/* 1.4.0: two endpoints, the test server and a dead port; each one's counters by index. */
static void
test_endpoint_stats(void)
{
    char config[1024], why[512];
    snprintf(config, sizeof config,
             "webhook {\n endpoints {\n  live { url = \"http://127.0.0.1:%d/hook\" }\n"
             "  dead { url = \"http://127.0.0.1:1/\", retry { initial_backoff = 20ms, max_backoff = 20ms } }\n }\n"
             " drain_timeout = 100ms\n events = [ { event = on_message_publish } ] }",
             hook_port());
    swiftwebhook *wh = NULL;
    CHECK_EQ_INT(webhook_init_text(&wh, config, NULL, why, sizeof why), SWIFTWEBHOOK_OK);
    swiftwebhook_event ev = event_of(SWIFTWEBHOOK_MESSAGE_PUBLISH);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(webhook_emit(wh, &ev), SWIFTWEBHOOK_OK);
    }
    swiftwebhook_stats live, dead, all;
    memset(&live, 0, sizeof live);
    live.size = sizeof live;
    dead = all = live;
    char name[8];
    for (int i = 0; i < 1000; i++) {
        CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 1, &dead, NULL, 0), SWIFTWEBHOOK_OK);
        CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 0, &live, name, sizeof name), SWIFTWEBHOOK_OK);
        if (live.delivered == 3 && dead.endpoints_down == 1) {
            break;
        }
        sleep_ms(10);
    }
    CHECK(strcmp(name, "live") == 0);
    CHECK_EQ_INT(live.matched, 3);
    CHECK_EQ_INT(live.delivered, 3);
    CHECK_EQ_INT(live.endpoints, 1);
    CHECK_EQ_INT(live.endpoints_down, 0);
    CHECK_EQ_INT(dead.matched, 3);
    CHECK_EQ_INT(dead.delivered, 0);
    CHECK_EQ_INT(dead.endpoints_down, 1);
    CHECK_EQ_INT(webhook_get_stats(wh, &all), SWIFTWEBHOOK_OK);
    CHECK_EQ_INT(all.matched, 6); /* one event to two endpoints counts twice */
    CHECK_EQ_INT(all.endpoints, 2);
    /* The name cut to fit, always terminated; any index and size a caller can pass. */
    char small[3] = {'x', 'x', 'x'};
    CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 1, &dead, small, sizeof small), SWIFTWEBHOOK_OK);
    CHECK(strcmp(small, "de") == 0);
    CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 1, &dead, small, 1), SWIFTWEBHOOK_OK);
    CHECK(small[0] == '\0');
    CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 2, &dead, NULL, 0), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_endpoint_stats(wh, (size_t) -1, &dead, NULL, 0), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 0, NULL, NULL, 0), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 0, &dead, NULL, 8), SWIFTWEBHOOK_EINVAL);
    CHECK_EQ_INT(webhook_get_endpoint_stats(NULL, 0, &dead, NULL, 0), SWIFTWEBHOOK_EINVAL);
    swiftwebhook_stats bad = live;
    bad.size = 0;
    CHECK_EQ_INT(webhook_get_endpoint_stats(wh, 0, &bad, NULL, 0), SWIFTWEBHOOK_EINVAL);
    webhook_fini(wh);
}

int
main(void)
{
    test_names();
    test_init_errors();
    test_every_event_type();
    test_invalid_input();
    test_filters_and_drops();
    test_endpoint_stats();
    test_log_callback();
    test_handles_and_fini();
    test_handle_limit();
    test_guard_page();
    return test_summary("abi_test");
}
