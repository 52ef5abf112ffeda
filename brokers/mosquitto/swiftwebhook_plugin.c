/*
 * swiftwebhook_plugin.c - NanoMQ's WebHook for Mosquitto 2.0 (plugin API v5).
 *
 *     plugin /usr/local/lib/libmosquitto_swiftwebhook.so
 *     plugin_opt_config /etc/mosquitto/webhook.conf
 *
 * Mosquitto event            webhook event
 * MOSQ_EVT_MESSAGE        -> on_message_publish
 * MOSQ_EVT_DISCONNECT     -> on_client_disconnected
 * MOSQ_EVT_BASIC_AUTH     -> on_client_connect          (opt-in, see below)
 * MOSQ_EVT_ACL_CHECK      -> on_client_subscribe        (SUBSCRIBE access, opt-in)
 *                            on_client_unsubscribe      (UNSUBSCRIBE access, opt-in)
 *                            on_message_delivered       (READ access, opt-in)
 *
 * The plugin never decides who may connect, publish or subscribe. Every
 * callback returns "success" for MESSAGE/DISCONNECT (which decide nothing)
 * and "defer" for BASIC_AUTH/ACL_CHECK, so the broker's own password_file /
 * acl_file (or another auth plugin) decides. In Mosquitto 2.0.11, when every
 * callback defers the answer is a denial; so the auth and ACL hooks are
 * registered only when the config has rules for those events AND the
 * operator sets plugin_opt_observe_auth / plugin_opt_observe_acl to true,
 * stating that a password_file / acl_file is in place to decide.
 *
 * Mosquitto 2.0.11 gives plugins no hook after authentication succeeds, so
 * on_client_connack cannot be reported truthfully; a rule for it is
 * reported at start-up and ignored.
 *
 * The library logs from its own threads; mosquitto_log_printf is not safe
 * there (it may publish to $SYS), so messages are queued and written from
 * the broker's thread on MOSQ_EVT_TICK.
 *
 * On a reload (SIGHUP: MOSQ_EVT_RELOAD), the webhook config file
 * (plugin_opt_config, which may now name another file) is read again and
 * put in force (webhook_reload); a refused one is logged with its reason
 * and the running one stays.
 *
 * Every plugin_opt_sys_interval seconds (default 10, Mosquitto's own
 * sys_interval default; 0 turns it off: a plugin cannot read mosquitto.conf's
 * sys_interval, so set both alike), the counters are published, retained,
 * under $SYS/broker/webhook/ (docs/mosquitto.md lists the topics), where
 * $SYS exporters look; also from the broker's thread, on MOSQ_EVT_TICK.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <swiftwebhook.h>

#define LOG_QUEUE 256

/* Only the three entry points Mosquitto looks up are exported. */
#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef struct plugin {
    mosquitto_plugin_id_t *id;
    swiftwebhook *wh;
    char *config;            /* the webhook config file, for reloads */
    bool observe_auth;
    bool observe_acl;
    bool registered_auth;
    bool registered_acl;
    long sys_interval;       /* seconds; 0: no $SYS topics */
    struct timespec sys_due; /* when they are published next */
} plugin;

/* Library log lines waiting for the broker's thread. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[LOG_QUEUE];
static int log_levels[LOG_QUEUE];
static int log_count;
static unsigned long log_lost;

static void
queue_log(void *userdata, int level, const char *message)
{
    (void) userdata;
    pthread_mutex_lock(&log_lock);
    if (log_count < LOG_QUEUE) {
        log_lines[log_count] = strdup(message);
        log_levels[log_count] = level;
        log_count += log_lines[log_count] != NULL;
    } else {
        log_lost++;
    }
    pthread_mutex_unlock(&log_lock);
}

static int
mosquitto_level(int level)
{
    switch (level) {
    case SWIFTWEBHOOK_LOG_ERROR: return MOSQ_LOG_ERR;
    case SWIFTWEBHOOK_LOG_WARNING: return MOSQ_LOG_WARNING;
    case SWIFTWEBHOOK_LOG_INFO: return MOSQ_LOG_INFO;
    default: return MOSQ_LOG_DEBUG;
    }
}

/* On the broker's thread: hand queued lines to Mosquitto's logger. */
static void
flush_log(void)
{
    char *lines[LOG_QUEUE];
    int levels[LOG_QUEUE];
    int count;
    unsigned long lost;
    pthread_mutex_lock(&log_lock);
    count = log_count;
    lost = log_lost;
    memcpy(lines, log_lines, sizeof(char *) * (size_t) count);
    memcpy(levels, log_levels, sizeof(int) * (size_t) count);
    log_count = 0;
    log_lost = 0;
    pthread_mutex_unlock(&log_lock);
    for (int i = 0; i < count; i++) {
        mosquitto_log_printf(mosquitto_level(levels[i]), "webhook: %s", lines[i]);
        free(lines[i]);
    }
    if (lost > 0) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "webhook: %lu log line(s) lost (queue full)", lost);
    }
}

/* Fills the fields every event shares from the client. */
static void
describe_client(swiftwebhook_event *ev, int type, struct mosquitto *client)
{
    ev->type = type;
    ev->clientid = mosquitto_client_id(client);
    ev->username = mosquitto_client_username(client);
    ev->peer_address = mosquitto_client_address(client);
    ev->proto_ver = (uint8_t) mosquitto_client_protocol_version(client);
    ev->keepalive = (uint16_t) mosquitto_client_keepalive(client);
}

static int
on_message(int event, void *event_data, void *userdata)
{
    plugin *p = userdata;
    struct mosquitto_evt_message *msg = event_data;
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    (void) event;
    describe_client(&ev, SWIFTWEBHOOK_MESSAGE_PUBLISH, msg->client);
    ev.topic = msg->topic;
    ev.payload = msg->payload;
    ev.payload_len = msg->payloadlen;
    ev.qos = msg->qos;
    ev.retain = msg->retain ? 1 : 0;
    webhook_emit(p->wh, &ev);
    return MOSQ_ERR_SUCCESS; /* the message goes on unchanged */
}

/* Mosquitto's disconnect reasons (MOSQ_ERR_*) as NanoMQ / EMQX name them.
 * Mosquitto 2.0.11 passes -1 for every disconnect, clean or not: the body
 * then says "unknown" rather than guess. */
static const char *
disconnect_reason(int reason)
{
    switch (reason) {
    case -1: return "unknown";
    case MOSQ_ERR_SUCCESS: return NULL; /* a clean DISCONNECT: "normal" */
    case MOSQ_ERR_KEEPALIVE: return "keepalive_timeout";
    case MOSQ_ERR_CONN_LOST: return "closed";
    case MOSQ_ERR_PROTOCOL:
    case MOSQ_ERR_MALFORMED_PACKET: return "protocol_error";
    case MOSQ_ERR_ADMINISTRATIVE_ACTION: return "kicked";
    case MOSQ_ERR_AUTH: return "not_authorized";
    case MOSQ_ERR_OVERSIZE_PACKET: return "packet_too_large";
    default: return "closed";
    }
}

static int
on_disconnect(int event, void *event_data, void *userdata)
{
    plugin *p = userdata;
    struct mosquitto_evt_disconnect *d = event_data;
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    (void) event;
    if (mosquitto_client_id(d->client) == NULL) {
        return MOSQ_ERR_SUCCESS; /* never sent CONNECT (a port probe): no client to report */
    }
    describe_client(&ev, SWIFTWEBHOOK_CLIENT_DISCONNECTED, d->client);
    ev.reason = disconnect_reason(d->reason);
    ev.reason_code = d->reason == MOSQ_ERR_SUCCESS ? 0 : 0x80; /* any non-zero code: the reason text wins */
    webhook_emit(p->wh, &ev);
    return MOSQ_ERR_SUCCESS;
}

static int
on_basic_auth(int event, void *event_data, void *userdata)
{
    plugin *p = userdata;
    struct mosquitto_evt_basic_auth *auth = event_data;
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    (void) event;
    describe_client(&ev, SWIFTWEBHOOK_CLIENT_CONNECT, auth->client);
    ev.username = auth->username; /* as sent in CONNECT; never the password */
    webhook_emit(p->wh, &ev);
    return MOSQ_ERR_PLUGIN_DEFER; /* the password_file decides */
}

static int
on_acl_check(int event, void *event_data, void *userdata)
{
    plugin *p = userdata;
    struct mosquitto_evt_acl_check *acl = event_data;
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    int type;
    (void) event;
    switch (acl->access) {
    case MOSQ_ACL_SUBSCRIBE: type = SWIFTWEBHOOK_CLIENT_SUBSCRIBE; break;
    case MOSQ_ACL_UNSUBSCRIBE: type = SWIFTWEBHOOK_CLIENT_UNSUBSCRIBE; break;
    case MOSQ_ACL_READ: type = SWIFTWEBHOOK_MESSAGE_DELIVERED; break;
    default: return MOSQ_ERR_PLUGIN_DEFER; /* publishes come through MOSQ_EVT_MESSAGE */
    }
    describe_client(&ev, type, acl->client);
    ev.topic = acl->topic;
    ev.qos = acl->qos;
    ev.retain = acl->retain ? 1 : 0;
    if (type == SWIFTWEBHOOK_MESSAGE_DELIVERED) {
        ev.payload = acl->payload;
        ev.payload_len = acl->payloadlen;
    }
    webhook_emit(p->wh, &ev);
    return MOSQ_ERR_PLUGIN_DEFER; /* the acl_file decides */
}

/* One retained $SYS topic with a number. */
static void
publish_sys(const char *name, unsigned long long value)
{
    char topic[96], payload[32];
    snprintf(topic, sizeof topic, "$SYS/broker/webhook/%s", name);
    int length = snprintf(payload, sizeof payload, "%llu", value);
    mosquitto_broker_publish_copy(NULL, topic, length, payload, 0, true, NULL);
}

/* How bad an endpoint state is: the broker-wide state is the worst endpoint's. */
static int
state_rank(const char *state)
{
    static const char *const order[] = {"up", "retrying", "down", "disabled"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(state, order[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* The value of label `name` in a sample's `{...}`, copied into out; false when absent. */
static bool
label_value(const char *labels, const char *end, const char *name, char *out, size_t size)
{
    char key[32];
    snprintf(key, sizeof key, "%s=\"", name);
    const char *at = strstr(labels, key);
    if (at == NULL || at >= end) {
        return false;
    }
    at += strlen(key);
    const char *close = memchr(at, '"', (size_t) (end - at));
    if (close == NULL || (size_t) (close - at) >= size) {
        return false;
    }
    memcpy(out, at, (size_t) (close - at));
    out[close - at] = '\0';
    return true;
}

/*
 * The endpoints' states, from the metrics text (the one place they are
 * told): each current one (`... 1`) is published, per endpoint under
 * endpoint/<name>/state when the config names endpoints, and the worst of
 * them as endpoint/state.
 */
static void
publish_endpoint_states(swiftwebhook *wh)
{
    static const char prefix[] = "swiftwebhook_endpoint_state{";
    const char *worst = "unknown";
    size_t needed = 0;
    webhook_get_metrics(wh, NULL, 0, &needed);
    size_t size = needed + 1024; /* the numbers may grow in between */
    char *text = malloc(size);
    if (text != NULL && webhook_get_metrics(wh, text, size, NULL) == SWIFTWEBHOOK_OK) {
        for (const char *line = strstr(text, prefix); line != NULL; line = strstr(line + 1, prefix)) {
            const char *labels = line + sizeof prefix - 1;
            const char *close = strstr(labels, "} ");
            if (close == NULL || strncmp(close, "} 1\n", 4) != 0) {
                continue;
            }
            char state[16], endpoint[72];
            if (!label_value(labels, close, "state", state, sizeof state) || state_rank(state) < 0) {
                continue;
            }
            if (label_value(labels, close, "endpoint", endpoint, sizeof endpoint)) {
                char topic[128];
                snprintf(topic, sizeof topic, "$SYS/broker/webhook/endpoint/%s/state", endpoint);
                mosquitto_broker_publish_copy(NULL, topic, (int) strlen(state), state, 0, true, NULL);
            }
            if (state_rank(state) > state_rank(worst)) {
                worst = state_rank(state) == 0 ? "up" : state_rank(state) == 1 ? "retrying" : state_rank(state) == 2 ? "down" : "disabled";
            }
        }
    }
    free(text);
    mosquitto_broker_publish_copy(NULL, "$SYS/broker/webhook/endpoint/state", (int) strlen(worst), worst, 0, true, NULL);
}

/* The library's counters now; false when it cannot say. */
static bool
read_stats(plugin *p, swiftwebhook_stats *s)
{
    memset(s, 0, sizeof *s);
    s->size = sizeof *s;
    return webhook_get_stats(p->wh, s) == SWIFTWEBHOOK_OK;
}

static void
publish_counters(plugin *p)
{
    swiftwebhook_stats s;
    if (!read_stats(p, &s)) {
        return;
    }
    publish_sys("matched", s.matched);
    publish_sys("delivered", s.delivered);
    publish_sys("failed", s.failed);
    publish_sys("retried", s.retried);
    publish_sys("dropped", s.dropped_queue_full + s.dropped_shutdown + s.dropped_spool);
    publish_sys("dropped/queue_full", s.dropped_queue_full);
    publish_sys("dropped/shutdown", s.dropped_shutdown);
    publish_sys("dropped/spool", s.dropped_spool);
    publish_sys("queued", s.queued);
    publish_sys("queued/bytes", s.queued_bytes);
    publish_sys("in_flight", s.in_flight);
    publish_sys("connections/open", s.connections_open);
    publish_sys("connections/opened", s.connections_opened);
    publish_sys("latency/p50_us", s.latency_p50_us);
    publish_sys("latency/p99_us", s.latency_p99_us);
    publish_sys("spool/held", s.spooled);
    publish_sys("spool/replayed", s.spool_replayed);
    publish_sys("spool/written", s.spool_written);
    publish_sys("spool/rows", s.spool_rows);
    publish_sys("spool/bytes", s.spool_bytes);
    publish_endpoint_states(p->wh);
}

static int
on_tick(int event, void *event_data, void *userdata)
{
    plugin *p = userdata;
    (void) event;
    (void) event_data;
    flush_log();
    if (p->sys_interval > 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > p->sys_due.tv_sec || (now.tv_sec == p->sys_due.tv_sec && now.tv_nsec >= p->sys_due.tv_nsec)) {
            publish_counters(p);
            p->sys_due = now;
            p->sys_due.tv_sec += p->sys_interval;
        }
    }
    return MOSQ_ERR_SUCCESS;
}

static void
plugin_free(plugin *p)
{
    free(p->config);
    free(p);
}

/* Mosquitto reloaded its config (SIGHUP): the webhook's follows. */
static int
on_reload(int event, void *event_data, void *userdata)
{
    plugin *p = userdata;
    struct mosquitto_evt_reload *reload = event_data;
    char why[1024];
    (void) event;
    for (int i = 0; reload != NULL && i < reload->option_count; i++) {
        if (strcmp(reload->options[i].key, "config") == 0 && reload->options[i].value != NULL
            && strcmp(reload->options[i].value, p->config) != 0) {
            char *path = strdup(reload->options[i].value);
            if (path != NULL) {
                free(p->config);
                p->config = path;
            }
        }
    }
    if (webhook_reload(p->wh, p->config, why, sizeof why) == SWIFTWEBHOOK_OK) {
        flush_log();
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "webhook: config reloaded from %s", p->config);
    } else {
        flush_log();
        mosquitto_log_printf(MOSQ_LOG_ERR, "webhook: config not reloaded, the running one stays: %s", why);
    }
    return MOSQ_ERR_SUCCESS;
}

static bool
option_true(const char *value)
{
    return value != NULL && (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "on") == 0);
}

PLUGIN_EXPORT int
mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

/* Registers one callback, and says which one Mosquitto refused. */
static bool
register_callback(mosquitto_plugin_id_t *identifier, int event, const char *name, MOSQ_FUNC_generic_callback callback,
    plugin *p)
{
    int rv = mosquitto_callback_register(identifier, event, callback, NULL, p);
    if (rv != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "webhook: Mosquitto refused the %s callback: %s", name, mosquitto_strerror(rv));
        return false;
    }
    return true;
}

PLUGIN_EXPORT int
mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int option_count)
{
    const char *config = NULL;
    char why[1024];
    plugin *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return MOSQ_ERR_NOMEM;
    }
    p->id = identifier;
    p->sys_interval = 10;
    for (int i = 0; i < option_count; i++) {
        if (strcmp(options[i].key, "config") == 0) {
            config = options[i].value;
        } else if (strcmp(options[i].key, "observe_auth") == 0) {
            p->observe_auth = option_true(options[i].value);
        } else if (strcmp(options[i].key, "observe_acl") == 0) {
            p->observe_acl = option_true(options[i].value);
        } else if (strcmp(options[i].key, "sys_interval") == 0) {
            char *end = NULL;
            long seconds = options[i].value != NULL ? strtol(options[i].value, &end, 10) : -1;
            if (end == options[i].value || end == NULL || *end != 0 || seconds < 0 || seconds > 86400) {
                mosquitto_log_printf(MOSQ_LOG_ERR, "webhook: plugin_opt_sys_interval must be 0 to 86400 seconds, got \"%s\"",
                    options[i].value != NULL ? options[i].value : "");
                plugin_free(p);
                return MOSQ_ERR_INVAL;
            }
            p->sys_interval = seconds;
        } else {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "webhook: unknown option plugin_opt_%s ignored", options[i].key);
        }
    }
    if (config == NULL) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "webhook: plugin_opt_config is required (the webhook config file)");
        plugin_free(p);
        return MOSQ_ERR_INVAL;
    }
    p->config = strdup(config);
    if (p->config == NULL) {
        plugin_free(p);
        return MOSQ_ERR_NOMEM;
    }
    webhook_set_log(queue_log, NULL, SWIFTWEBHOOK_LOG_INFO);
    int rv = webhook_init(&p->wh, config, why, sizeof why);
    if (rv != SWIFTWEBHOOK_OK) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "webhook: %s", why);
        webhook_set_log(NULL, NULL, 0);
        plugin_free(p);
        return MOSQ_ERR_INVAL;
    }
    flush_log();

    if (!register_callback(identifier, MOSQ_EVT_MESSAGE, "message", on_message, p)
        || !register_callback(identifier, MOSQ_EVT_DISCONNECT, "disconnect", on_disconnect, p)
        || !register_callback(identifier, MOSQ_EVT_TICK, "tick", on_tick, p)
        || !register_callback(identifier, MOSQ_EVT_RELOAD, "reload", on_reload, p)) {
        mosquitto_callback_unregister(identifier, MOSQ_EVT_MESSAGE, on_message, NULL);
        mosquitto_callback_unregister(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
        mosquitto_callback_unregister(identifier, MOSQ_EVT_TICK, on_tick, NULL);
        webhook_fini(p->wh);
        webhook_set_log(NULL, NULL, 0);
        plugin_free(p);
        return MOSQ_ERR_UNKNOWN;
    }

    if (webhook_wants(p->wh, SWIFTWEBHOOK_CLIENT_CONNECT) == 1) {
        if (p->observe_auth) {
            p->registered_auth = register_callback(identifier, MOSQ_EVT_BASIC_AUTH, "basic auth", on_basic_auth, p);
        } else {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "webhook: on_client_connect needs plugin_opt_observe_auth true "
                "(and a password_file to decide logins); rule ignored");
        }
    }
    if (webhook_wants(p->wh, SWIFTWEBHOOK_CLIENT_SUBSCRIBE) == 1 || webhook_wants(p->wh, SWIFTWEBHOOK_CLIENT_UNSUBSCRIBE) == 1
        || webhook_wants(p->wh, SWIFTWEBHOOK_MESSAGE_DELIVERED) == 1) {
        if (p->observe_acl) {
            p->registered_acl = register_callback(identifier, MOSQ_EVT_ACL_CHECK, "ACL check", on_acl_check, p);
        } else {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "webhook: on_client_subscribe, on_client_unsubscribe and "
                "on_message_delivered need plugin_opt_observe_acl true (and an acl_file to decide access); rules ignored");
        }
    }
    static const int unsupported[] = {SWIFTWEBHOOK_CLIENT_CONNACK, SWIFTWEBHOOK_CLIENT_CONNECTED, SWIFTWEBHOOK_SESSION_SUBSCRIBED,
        SWIFTWEBHOOK_SESSION_UNSUBSCRIBED, SWIFTWEBHOOK_SESSION_TERMINATED, SWIFTWEBHOOK_MESSAGE_ACKED};
    static const char *names[] = {"on_client_connack", "on_client_connected", "on_session_subscribed",
        "on_session_unsubscribed", "on_session_terminated", "on_message_acked"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        if (webhook_wants(p->wh, unsupported[i]) == 1) {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "webhook: Mosquitto 2.0 has no plugin event for %s; rule ignored", names[i]);
        }
    }
    mosquitto_log_printf(MOSQ_LOG_INFO, "webhook: libswiftwebhook %s loaded with %s", webhook_version(), config);
    *userdata = p;
    return MOSQ_ERR_SUCCESS;
}

PLUGIN_EXPORT int
mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
    plugin *p = userdata;
    (void) options;
    (void) option_count;
    if (p == NULL) {
        return MOSQ_ERR_SUCCESS;
    }
    mosquitto_callback_unregister(p->id, MOSQ_EVT_MESSAGE, on_message, NULL);
    mosquitto_callback_unregister(p->id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
    mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, NULL);
    mosquitto_callback_unregister(p->id, MOSQ_EVT_RELOAD, on_reload, NULL);
    if (p->registered_auth) {
        mosquitto_callback_unregister(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
    }
    if (p->registered_acl) {
        mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    }
    swiftwebhook_stats s;
    if (read_stats(p, &s)) {
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "webhook: matched %llu, delivered %llu, failed %llu, retried %llu, "
            "dropped %llu, queued %llu, in flight %llu, connections opened %llu, latency p50 %llu us p99 %llu us",
            (unsigned long long) s.matched, (unsigned long long) s.delivered, (unsigned long long) s.failed,
            (unsigned long long) s.retried, (unsigned long long) (s.dropped_queue_full + s.dropped_shutdown + s.dropped_spool),
            (unsigned long long) s.queued, (unsigned long long) s.in_flight, (unsigned long long) s.connections_opened,
            (unsigned long long) s.latency_p50_us, (unsigned long long) s.latency_p99_us);
    }
    webhook_fini(p->wh); /* delivers what is queued, up to drain_timeout */
    flush_log();
    webhook_set_log(NULL, NULL, 0);
    plugin_free(p);
    return MOSQ_ERR_SUCCESS;
}
