/*
 * swiftwebhook_nanomq.h - NanoMQ's side of libswiftwebhook.
 *
 * brokers/nanomq/patch copies this file to nanomq/include/ and
 * swiftwebhook_nanomq.c to nanomq/, and calls these functions from their
 * places in NanoMQ 0.25. The library is loaded at run time
 * (swiftwebhook_loader.h), so a NanoMQ built this way starts, and serves
 * MQTT, without it.
 */
#ifndef SWIFTWEBHOOK_NANOMQ_H
#define SWIFTWEBHOOK_NANOMQ_H

#include <stdbool.h>
#include <stdint.h>

#include "nng/nng.h"
#include "nng/supplemental/nanolib/conf.h"

struct work;

/*
 * broker_start(), before NanoMQ's own hook service: when `webhook {}` is
 * enabled, loads the library (SWIFTWEBHOOK_LIBRARY, default
 * libswiftwebhook.so.1 from the loader path) and starts it with NanoMQ's
 * config file. Returns true when the library delivers the webhook; false
 * (with one log line saying why) leaves NanoMQ's webhook as it was.
 */
bool swh_nanomq_start(conf *config, nng_socket broker);

/* Whether the library delivers the webhook (after swh_nanomq_start). */
bool swh_nanomq_active(void);

/* hook_entry(): the CONNACK, PUBLISH and DISCONNECT_EV notifications, with
 * connect / connected / session_terminated / delivered derived from them. */
int swh_nanomq_hook(struct work *work, uint8_t reason);

/* The PUBACK / PUBCOMP hook the patch adds to NanoNNG's TCP transport. */
extern void (*nmq_swh_acked)(conn_param *subscriber, nng_msg *msg);

/* After the SUBSCRIBE / UNSUBSCRIBE of `work` was applied to the session. */
void swh_nanomq_subscribe(struct work *work);
void swh_nanomq_unsubscribe(struct work *work);

/* /api/v4/prometheus (rest_api.c): when the library is active, answers with
 * NanoMQ's own metrics text `own` followed by the library's
 * (webhook_get_metrics) and returns true; false leaves the answer to NanoMQ. */
struct http_msg;
bool swh_nanomq_prometheus(struct http_msg *res, const char *own);

/* From the signal handler (async-signal-safe): true when the library takes
 * over this SIGTERM / SIGINT, to stop in the main thread, or this SIGHUP,
 * to reload its config in the main thread (NanoMQ itself only logs one). */
bool swh_nanomq_signal(int signum);

/* Reads the config file again (webhook_reload); `trigger` names what asked,
 * for the log: "SIGHUP", or NanoMQ's REST reload (rest_api.c). A refused
 * config is logged with its reason, and the running one stays. */
void swh_nanomq_reload(const char *trigger);

/* The main thread, once the broker runs: returns at once when the library
 * is not active; otherwise reloads on each SIGHUP and waits for SIGTERM / SIGINT, stops accepting MQTT
 * connections, lets the broker finish what it holds, drains the webhook
 * (webhook_fini, bounded by drain_timeout) and exits as NanoMQ would. */
void swh_nanomq_run_until_stopped(void);

#endif
