/*
 * swiftwebhook.h - libswiftwebhook, NanoMQ's WebHook as a shared library.
 *
 * A broker calls webhook_init() once with its config file, webhook_emit()
 * for every broker event, and webhook_fini() at shutdown. The library reads
 * the `webhook {}` section (HOCON, or NanoMQ 0.13's `web.hook.*` lines),
 * keeps the events its rules ask for, turns each into the JSON body
 * NanoMQ's receivers expect, and POSTs it over persistent HTTP(S)
 * connections on its own threads.
 *
 * Threads: every function may be called from any thread. webhook_emit()
 * never blocks on the network and never waits for a lock held during I/O:
 * it copies the event and queues it. webhook_fini() may run while other
 * threads are inside webhook_emit(); they get SWIFTWEBHOOK_ESHUTDOWN.
 *
 * fork(): nng's threads do not survive it, so in the child the handles
 * from before the fork answer SWIFTWEBHOOK_ESHUTDOWN, webhook_fini() on them
 * returns at once, and what they had queued stays the parent's to deliver.
 * A new webhook_init() in the child works (it loads a fresh copy of libnng).
 *
 * Memory: the library copies everything it keeps. Strings and payloads
 * passed in may be freed as soon as the call returns.
 *
 * C99 and C++11. Link with -lswiftwebhook, or load it at run time with
 * swiftwebhook_loader.h.
 */
#ifndef SWIFTWEBHOOK_H
#define SWIFTWEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Version of this header (and of the library it ships with).
 *
 * 1.1.0 moved every type, constant and macro under the swiftwebhook_ /
 * SWIFTWEBHOOK_ prefix: the 1.0 names (`webhook_event`, `WEBHOOK_OK`, ...)
 * collided with NanoMQ's own `webhook_event` in NanoNNG's conf.h. A source
 * change only: the functions keep their names, every layout and value is
 * the same, so binaries built against 1.0 keep working (ABI version 1).
 *
 * 1.2.0 added the spool's counters at the end of swiftwebhook_stats (its
 * size field versions it: an older caller's struct is filled as before).
 *
 * 1.3.0 added webhook_get_metrics() and webhook_reload() (under the symbol
 * version SWIFTWEBHOOK_1.3, so a binary that calls them refuses to load
 * against an older library) and SWIFTWEBHOOK_ETOOSMALL.
 *
 * 1.4.0 added the endpoints' state at the end of swiftwebhook_stats (several
 * endpoints, circuit breakers, failover to a backup_url), versioned by its
 * size field like 1.2.0's counters, and webhook_get_endpoint_stats() (under
 * SWIFTWEBHOOK_1.4).
 */
#define SWIFTWEBHOOK_VERSION_MAJOR 1
#define SWIFTWEBHOOK_VERSION_MINOR 4
#define SWIFTWEBHOOK_VERSION_PATCH 0
#define SWIFTWEBHOOK_VERSION "1.4.0"

/*
 * ABI version: bumped only on an incompatible change. Compare it with
 * webhook_abi_version() at run time (the loader does this for you).
 * Compatible additions (new functions, new fields at the end of a struct,
 * new event types) keep it.
 */
#define SWIFTWEBHOOK_ABI_VERSION 1

/*
 * A running webhook instance. Opaque: never dereference it. It is a tagged
 * id, not a pointer to memory, so a handle used after webhook_fini() is
 * recognised and answered with SWIFTWEBHOOK_ESHUTDOWN instead of touching freed
 * memory. At most SWIFTWEBHOOK_MAX_HANDLES may be alive at once in a process.
 */
typedef struct swiftwebhook swiftwebhook;
#define SWIFTWEBHOOK_MAX_HANDLES 4096

/*
 * Return codes. Zero and positive values are outcomes, negative values
 * are errors. webhook_strerror() names each one.
 */
typedef enum swiftwebhook_result {
    SWIFTWEBHOOK_OK = 0,          /* success; for webhook_emit(): copied and queued */
    SWIFTWEBHOOK_FILTERED = 1,    /* webhook_emit(): no rule wants this event (not an error) */
    SWIFTWEBHOOK_DROPPED = 2,     /* webhook_emit(): the queue is full (queue.overflow = drop_new); counted */
    SWIFTWEBHOOK_EINVAL = -1,     /* a NULL or malformed argument */
    SWIFTWEBHOOK_ESHUTDOWN = -2,  /* the handle is shutting down or was finalised */
    SWIFTWEBHOOK_ECONFIG = -3,    /* the config cannot be used; the message says why */
    SWIFTWEBHOOK_ESTART = -4,     /* the config is fine but delivery could not start (TLS files, ...) */
    SWIFTWEBHOOK_ENOMEM = -5,     /* out of memory, or SWIFTWEBHOOK_MAX_HANDLES handles alive */
    SWIFTWEBHOOK_EVERSION = -6,   /* the loader found a library of another ABI version */
    SWIFTWEBHOOK_ETOOSMALL = -7   /* since 1.3.0: the buffer is too small; *needed says how big */
} swiftwebhook_result;

/*
 * The twelve broker events (NanoMQ's names, without "on_"). Values are
 * fixed; new types are only ever appended.
 */
typedef enum swiftwebhook_event_type {
    SWIFTWEBHOOK_CLIENT_CONNECT = 0,       /* CONNECT received, before authentication */
    SWIFTWEBHOOK_CLIENT_CONNACK = 1,       /* CONNACK sent (reason_code: its reason code) */
    SWIFTWEBHOOK_CLIENT_CONNECTED = 2,     /* the client was accepted */
    SWIFTWEBHOOK_CLIENT_DISCONNECTED = 3,  /* the connection ended (reason_code / reason) */
    SWIFTWEBHOOK_CLIENT_SUBSCRIBE = 4,     /* SUBSCRIBE received: one event per topic filter */
    SWIFTWEBHOOK_CLIENT_UNSUBSCRIBE = 5,   /* UNSUBSCRIBE received: one event per topic filter */
    SWIFTWEBHOOK_SESSION_SUBSCRIBED = 6,   /* a subscription was added to the session */
    SWIFTWEBHOOK_SESSION_UNSUBSCRIBED = 7, /* a subscription was removed */
    SWIFTWEBHOOK_SESSION_TERMINATED = 8,   /* the session was discarded (reason_code / reason) */
    SWIFTWEBHOOK_MESSAGE_PUBLISH = 9,      /* PUBLISH received from a client */
    SWIFTWEBHOOK_MESSAGE_DELIVERED = 10,   /* a message is about to go to a subscriber */
    SWIFTWEBHOOK_MESSAGE_ACKED = 11        /* PUBACK / PUBCOMP received from the subscriber */
} swiftwebhook_event_type;
#define SWIFTWEBHOOK_EVENT_TYPE_COUNT 12

/*
 * One broker event. Zero it, set `size` to sizeof(swiftwebhook_event), then set
 * what the event has (SWIFTWEBHOOK_EVENT_INIT does the first two steps).
 *
 * Strings are NUL-terminated UTF-8 (invalid bytes are repaired in the
 * body, never rejected), at most 65535 bytes (MQTT's limit); NULL means
 * absent. The payload is bytes with a length and may hold NULs.
 *
 * Which fields each type uses:
 *   connect, connected:        clientid, username, peer_address, keepalive, proto_ver
 *   connack:                   clientid, username, keepalive, proto_ver, reason_code
 *   disconnected, terminated:  clientid, username, reason_code, reason
 *   subscribe family:          clientid, username, topic (the filter), qos, no_local,
 *                              retain_as_published, retain_handling, share_group
 *   publish:                   clientid, username (the publisher), topic, qos, retain, payload
 *   delivered, acked:          clientid, username (the receiver), from_clientid,
 *                              from_username (the publisher), topic, qos, retain, payload
 */
typedef struct swiftwebhook_event {
    size_t size;                 /* sizeof(swiftwebhook_event), set by the caller */
    int type;                    /* a swiftwebhook_event_type */
    uint8_t proto_ver;           /* MQTT protocol level: 3, 4 (3.1.1) or 5 */
    uint8_t qos;                 /* 0-2 */
    uint8_t retain;              /* 0 or 1 */
    uint8_t reason_code;         /* CONNACK / DISCONNECT reason code; 0 = success / normal */
    uint16_t keepalive;          /* seconds */
    uint8_t no_local;            /* subscription option nl, 0 or 1 */
    uint8_t retain_as_published; /* subscription option rap, 0 or 1 */
    uint8_t retain_handling;     /* subscription option rh, 0-2 */
    uint8_t reserved_[3];        /* zero */
    const char *clientid;
    const char *username;
    const char *peer_address;    /* "1.2.3.4:5678", "[::1]:5678" or a bare address */
    const char *reason;          /* optional reason text ("kicked", "keepalive_timeout", ...) */
    const char *topic;           /* topic name, or the topic filter for subscribe events;
                                    "$share/<group>/<filter>" is understood */
    const void *payload;         /* NULL only when payload_len is 0 */
    size_t payload_len;
    const char *share_group;     /* shared subscription group, if not in the topic */
    const char *from_clientid;   /* delivered / acked: the publisher */
    const char *from_username;
    uint64_t timestamp_ms;       /* milliseconds since the epoch; 0 = now */
} swiftwebhook_event;

/* Declares a zeroed event with its size set: swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT; */
#define SWIFTWEBHOOK_EVENT_INIT {sizeof(swiftwebhook_event), 0, 0, 0, 0, 0, 0, 0, 0, 0, {0, 0, 0}, \
    NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0}

/*
 * Counters since webhook_init(), read without stopping delivery. At any
 * quiet moment: matched + spool_replayed == delivered + failed +
 * dropped_queue_full + dropped_shutdown + dropped_spool + queued + in_flight +
 * spooled. (Without a spool the spool fields stay 0.) With several endpoints
 * (endpoints { } in the config) the counters are the endpoints' added up:
 * an event sent to two endpoints is matched, and delivered, twice; the
 * latency percentiles are the slowest endpoint's. Per endpoint:
 * webhook_get_endpoint_stats(), and the metrics.
 */
typedef struct swiftwebhook_stats {
    size_t size;                 /* sizeof(swiftwebhook_stats), set by the caller */
    uint64_t matched;            /* events that passed the filter */
    uint64_t queued;             /* waiting in the queue now */
    uint64_t in_flight;          /* being sent, or waiting to be retried, now */
    uint64_t delivered;          /* answered with a 2xx */
    uint64_t failed;             /* given up: a 4xx, or every attempt used */
    uint64_t retried;            /* attempts beyond the first */
    uint64_t dropped_queue_full; /* dropped at queue.max_events / queue.max_bytes */
    uint64_t dropped_shutdown;   /* dropped because drain_timeout ran out */
    uint64_t connections_open;   /* HTTP connections open now */
    uint64_t connections_opened; /* HTTP connections opened since init */
    uint64_t queued_bytes;       /* memory held by queued events */
    uint64_t latency_p50_us;     /* emit-to-2xx latency, median, microseconds */
    uint64_t latency_p99_us;     /* emit-to-2xx latency, 99th percentile */
    /* Since 1.2.0: the spool (spool { ... } in the config). */
    uint64_t spooled;            /* held by the spool (staged or on disk), not in memory */
    uint64_t spool_replayed;     /* found in the spool at init: an earlier run's events */
    uint64_t dropped_spool;      /* dropped: the spool was full, or could not keep up */
    uint64_t spool_written;      /* committed to the spool since init (durability = crash:
                                    these survive kill -9) */
    uint64_t spool_rows;         /* events in the spool's database now */
    uint64_t spool_bytes;        /* the spool database's size now */
    /* Since 1.4.0: the endpoints (one with a single url; endpoints { } names several). */
    uint64_t endpoints;          /* endpoints configured */
    uint64_t endpoints_down;     /* of them down (failed attempts in a row) or disabled
                                    (they answered 410 Gone) now */
    uint64_t circuits_open;      /* of them with the circuit breaker open or half open now */
    uint64_t circuit_opened;     /* times a circuit breaker opened since init */
    uint64_t on_backup;          /* of them sending to their backup_url now */
    uint64_t failovers;          /* switches to a backup_url, or back, since init */
} swiftwebhook_stats;

/* Log levels for webhook_set_log(). */
typedef enum swiftwebhook_log_level {
    SWIFTWEBHOOK_LOG_ERROR = 1,
    SWIFTWEBHOOK_LOG_WARNING = 2,
    SWIFTWEBHOOK_LOG_INFO = 3,
    SWIFTWEBHOOK_LOG_DEBUG = 4
} swiftwebhook_log_level;

/*
 * Receives the library's log messages (one line, no newline, NUL-terminated,
 * valid only during the call). Called from the library's threads and from
 * the caller's; it must not call back into the library.
 */
typedef void (*swiftwebhook_log_fn)(void *userdata, int level, const char *message);

/*
 * Starts an instance from a broker config file (a whole nanomq.conf, or any
 * file with a `webhook {}` section or `web.hook.*` keys).
 *   out:     receives the handle on success; untouched on failure
 *   path:    the config file
 *   errbuf:  NULL, or a buffer that receives the reason on failure, e.g.
 *            "nanomq.conf:42:19: webhook.body.encoding: expected plain, base64
 *            or base62, got \"base63\"" (truncated to errlen, always NUL-terminated)
 * Returns SWIFTWEBHOOK_OK, or SWIFTWEBHOOK_EINVAL / ECONFIG / ESTART / ENOMEM; on
 * failure nothing is started and nothing leaks. When errbuf is NULL the
 * reason goes to the log instead. A config with `enable = false` succeeds
 * and filters every event.
 */
int webhook_init(swiftwebhook **out, const char *path, char *errbuf, size_t errlen);

/*
 * The same from config text in memory. `name` is what messages call it
 * (NULL: "<text>"); includes are resolved against the current directory.
 */
int webhook_init_text(swiftwebhook **out, const char *text, const char *name, char *errbuf, size_t errlen);

/*
 * Hands one event to the library. Copies what it needs, queues it, and
 * returns: SWIFTWEBHOOK_OK (queued), SWIFTWEBHOOK_FILTERED (no rule wants it),
 * SWIFTWEBHOOK_DROPPED (queue full, counted), SWIFTWEBHOOK_EINVAL (NULL handle or
 * event, size below the first version's, unknown type, payload NULL with
 * a length, a string over 65535 bytes) or SWIFTWEBHOOK_ESHUTDOWN.
 */
int webhook_emit(swiftwebhook *wh, const swiftwebhook_event *event);

/*
 * Whether any rule of the config names this event type: 1 yes, 0 no, or
 * SWIFTWEBHOOK_EINVAL / SWIFTWEBHOOK_ESHUTDOWN. Lets a broker skip work (or a hook it
 * would otherwise register) for types nobody asked for.
 */
int webhook_wants(swiftwebhook *wh, int type);

/*
 * Stops accepting events, delivers what is queued for up to the config's
 * drain_timeout, counts the rest as dropped, closes connections and frees
 * everything. Blocks for at most drain_timeout plus a moment. Harmless with
 * NULL, twice, or from several threads at once; calls racing it get
 * SWIFTWEBHOOK_ESHUTDOWN. After it returns, the handle answers every call with
 * SWIFTWEBHOOK_ESHUTDOWN until the process ends.
 */
void webhook_fini(swiftwebhook *wh);

/*
 * Copies the counters into *out. Set out->size = sizeof(swiftwebhook_stats)
 * first; fields past an older caller's size are not written.
 * Returns SWIFTWEBHOOK_OK, SWIFTWEBHOOK_EINVAL or SWIFTWEBHOOK_ESHUTDOWN.
 */
int webhook_get_stats(swiftwebhook *wh, swiftwebhook_stats *out);

/*
 * Since 1.4.0. One endpoint's counters, as webhook_get_stats() fills them
 * for the whole instance: the endpoints in config order, index 0 to
 * stats.endpoints - 1 (a single url is one endpoint, named "default").
 * Its endpoint fields describe it alone (endpoints = 1).
 *   name, namelen: NULL and 0, or where the endpoint's name goes,
 *                  NUL-terminated and cut to fit.
 * Returns SWIFTWEBHOOK_OK, SWIFTWEBHOOK_EINVAL (NULL handle or out, a bad
 * size, an index past the last, a handle with `enable = false`) or
 * SWIFTWEBHOOK_ESHUTDOWN.
 */
int webhook_get_endpoint_stats(swiftwebhook *wh, size_t index, swiftwebhook_stats *out, char *name, size_t namelen);

/*
 * Since 1.3.0. Reads the config again and puts it in force without a
 * restart: `path`, or when NULL the file webhook_init() was given.
 *   Takes effect: the rules at once (webhook_wants() follows); queue and
 *   batch limits for what comes next; the URL, headers, TLS files, signing
 *   secrets and retry rules for each event a connection begins from now on
 *   (an event already being sent finishes, retries and is signed as it
 *   began). Nothing queued or spooled is dropped or sent twice.
 *   Refused, changing nothing: a config with an error (the reason names the
 *   file, line and key), an endpoint that cannot be made (a TLS file that
 *   does not load), and what takes a restart: enable, pool_size, ordering,
 *   spool { }, delivery_nice, cancel_timeout.
 * Returns SWIFTWEBHOOK_OK; SWIFTWEBHOOK_ECONFIG with the reason in errbuf
 * (or the log when errbuf is NULL) and the running config in force;
 * SWIFTWEBHOOK_EINVAL (NULL handle, or NULL path for a handle started with
 * webhook_init_text()) or SWIFTWEBHOOK_ESHUTDOWN. Safe from any thread, and
 * racing emits, other reloads and webhook_fini().
 */
int webhook_reload(swiftwebhook *wh, const char *path, char *errbuf, size_t errlen);

/*
 * Since 1.3.0. The instance's metrics as text in the Prometheus exposition
 * format (text/plain; version=0.0.4), for a broker's metrics endpoint:
 * every counter and gauge of swiftwebhook_stats, matched / delivered /
 * failed per event type, the emit-to-2xx latency histogram, the endpoint's
 * state and the age of its last 2xx, the oldest waiting event's age; with
 * several endpoints one sample of each per endpoint, labelled endpoint="name".
 * Every name starts with "swiftwebhook_"; docs/operating.md lists them.
 *   buf, len: where the text goes, NUL-terminated. buf may be NULL when len
 *             is 0 (to ask for the size).
 *   needed:   NULL, or receives the bytes the text needs, NUL included.
 * Returns SWIFTWEBHOOK_OK (the whole text is in buf), SWIFTWEBHOOK_ETOOSMALL
 * (nothing written but an empty string when len > 0; call again with
 * *needed bytes, plus some: the numbers may have grown), SWIFTWEBHOOK_EINVAL
 * or SWIFTWEBHOOK_ESHUTDOWN. A handle with `enable = false` gets the info
 * lines only.
 */
int webhook_get_metrics(swiftwebhook *wh, char *buf, size_t len, size_t *needed);

/*
 * Routes log messages at `max_level` and more severe to `fn` (for example
 * the broker's own logger). Process-wide, for every handle. NULL restores
 * the default: messages at SWIFTWEBHOOK_LOG_WARNING and above to stderr.
 */
void webhook_set_log(swiftwebhook_log_fn fn, void *userdata, int max_level);

/* A static English name for a return code ("queued", "filtered out", ...). */
const char *webhook_strerror(int code);

/* The library's version, SWIFTWEBHOOK_VERSION. */
const char *webhook_version(void);

/* The library's SWIFTWEBHOOK_ABI_VERSION. */
int webhook_abi_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SWIFTWEBHOOK_H */
