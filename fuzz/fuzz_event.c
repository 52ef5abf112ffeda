/*
 * fuzz_event.c - libFuzzer target: random swiftwebhook_event structs through
 * webhook_emit (argument checks, filtering, copying) and, for those queued,
 * the body builder on the delivery threads. Strings and the payload point
 * into the fuzz input; the size field, type and flags come from it too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <swiftwebhook.h>

static swiftwebhook *wh;

static void
quiet(void *userdata, int level, const char *message)
{
    (void) userdata;
    (void) level;
    (void) message;
}

/* Takes `n` bytes from the input, or NULL when it runs out. */
static const uint8_t *
take(const uint8_t **data, size_t *size, size_t n)
{
    if (*size < n) {
        return NULL;
    }
    const uint8_t *p = *data;
    *data += n;
    *size -= n;
    return p;
}

/* A NUL-terminated string from the input (length from one byte), or NULL. */
static char *
string_from(const uint8_t **data, size_t *size, char *storage)
{
    const uint8_t *length = take(data, size, 1);
    if (length == NULL || *length == 0xFF) {
        return NULL;
    }
    const uint8_t *bytes = take(data, size, *length % 64);
    if (bytes == NULL) {
        return NULL;
    }
    memcpy(storage, bytes, *length % 64);
    storage[*length % 64] = '\0';
    return storage;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    char strings[9][65];
    if (wh == NULL) {
        webhook_set_log(quiet, NULL, SWIFTWEBHOOK_LOG_ERROR);
        const char *config =
            "webhook {\n url = \"http://127.0.0.1:1/\"\n pool_size = 2\n body.encoding = base62\n"
            " cancel_timeout = 50ms\n retry { max_attempts = 1 }\n queue { max_events = 1000 }\n events = [\n"
            "  { event = on_client_connect }, { event = on_client_connack }, { event = on_client_connected }\n"
            "  { event = on_client_disconnected }, { event = on_client_subscribe, topic = \"a/#\" }\n"
            "  { event = on_client_unsubscribe }, { event = on_session_subscribed }\n"
            "  { event = on_session_unsubscribed }, { event = on_session_terminated }\n"
            "  { event = on_message_publish, topic = \"+/+\" }, { event = on_message_delivered }\n"
            "  { event = on_message_acked } ] }";
        if (webhook_init_text(&wh, config, "fuzz.conf", why, sizeof why) != SWIFTWEBHOOK_OK) {
            abort();
        }
    }
    swiftwebhook_event ev;
    const uint8_t *header = take(&data, &size, 12);
    if (header == NULL) {
        return 0;
    }
    memset(&ev, 0, sizeof ev);
    /* Mostly the right size; sometimes a wrong one. */
    ev.size = header[0] < 240 ? sizeof ev : (size_t) header[1] * 8;
    ev.type = (int) (int8_t) header[2];
    ev.proto_ver = header[3];
    ev.qos = header[4];
    ev.retain = header[5];
    ev.reason_code = header[6];
    ev.keepalive = (uint16_t) (header[7] | header[8] << 8);
    ev.no_local = header[9] & 1;
    ev.retain_as_published = header[9] >> 1 & 1;
    ev.retain_handling = header[9] >> 2;
    ev.clientid = string_from(&data, &size, strings[0]);
    ev.username = string_from(&data, &size, strings[1]);
    ev.peer_address = string_from(&data, &size, strings[2]);
    ev.reason = string_from(&data, &size, strings[3]);
    ev.topic = string_from(&data, &size, strings[4]);
    ev.share_group = string_from(&data, &size, strings[5]);
    ev.from_clientid = string_from(&data, &size, strings[6]);
    ev.from_username = string_from(&data, &size, strings[7]);
    /* The rest is the payload; header[10] sometimes makes it inconsistent. */
    ev.payload = header[10] == 0xEE ? NULL : data;
    ev.payload_len = size;
    ev.timestamp_ms = header[11];
    int rv = webhook_emit(wh, &ev);
    if (rv != SWIFTWEBHOOK_OK && rv != SWIFTWEBHOOK_FILTERED && rv != SWIFTWEBHOOK_DROPPED && rv != SWIFTWEBHOOK_EINVAL) {
        abort();
    }
    return 0;
}
