/*
 * swiftwebhook_nanomq.c - NanoMQ's webhook, delivered by libswiftwebhook.
 *
 * Compiled into NanoMQ by brokers/nanomq/patch. Every event is taken where
 * NanoMQ itself has it (hook_entry's notifications, the SUBSCRIBE and
 * UNSUBSCRIBE handlers), turned into a swiftwebhook_event and handed to
 * webhook_emit(), which copies and queues it: NanoMQ's worker threads never
 * wait for the network. NanoMQ's strings are copied before this returns, so
 * nothing here outlives the call that made it.
 */
#define _GNU_SOURCE
#include "include/swiftwebhook_nanomq.h"

#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <swiftwebhook_loader.h>

#include "include/broker.h"
#include "include/rest_api.h"
#include "include/pub_handler.h"
#include "nng/mqtt/packet.h"
#include "nng/supplemental/nanolib/cvector.h"
#include "nng/supplemental/nanolib/log.h"

/* The library's default name: found on the loader path (ld.so.conf,
 * LD_LIBRARY_PATH, RUNPATH). SWIFTWEBHOOK_LIBRARY may name another file. */
#define SWH_DEFAULT_LIBRARY "libswiftwebhook.so.1"

/* Stopping: the broker is quiet when no event came for QUIET_MS; it is
 * given at most QUIET_MAX_MS to get there before the webhook drains. */
#define SWH_QUIET_MS 200
#define SWH_QUIET_MAX_MS 1000

static swiftwebhook_api api;
static swiftwebhook    *wh;
static atomic_bool      active;
static atomic_ullong    handed;   /* webhook_emit() calls, for the quiet check */
static atomic_ullong    refused;  /* events that came after webhook_fini() */
static atomic_int       stop_signum;
static atomic_int       reload_requested; /* SIGHUP */
static sem_t            wakeup; /* the main thread: a stop or a reload */
static nng_socket       broker_socket;

static void acked(conn_param *subscriber, nng_msg *msg);

/* The library's messages, in NanoMQ's log. */
static void
log_line(void *userdata, int level, const char *message)
{
	(void) userdata;
	switch (level) {
	case SWIFTWEBHOOK_LOG_ERROR:
		log_error("webhook: %s", message);
		break;
	case SWIFTWEBHOOK_LOG_WARNING:
		log_warn("webhook: %s", message);
		break;
	case SWIFTWEBHOOK_LOG_INFO:
		log_info("webhook: %s", message);
		break;
	default:
		log_debug("webhook: %s", message);
		break;
	}
}

bool
swh_nanomq_start(conf *config, nng_socket broker)
{
	char        why[512];
	const char *path = getenv("SWIFTWEBHOOK_LIBRARY");

	if (!config->web_hook.enable) {
		return false;
	}
	if (path == NULL || path[0] == '\0') {
		path = SWH_DEFAULT_LIBRARY;
	}
	if (config->conf_file == NULL) {
		log_error("webhook: libswiftwebhook needs NanoMQ's config file "
		          "(--conf); NanoMQ's own webhook stays in use");
		return false;
	}
	if (swiftwebhook_load(&api, path, why, sizeof why) != 0) {
		log_error("webhook: libswiftwebhook not loaded, NanoMQ's own "
		          "webhook stays in use: %s",
		    why);
		return false;
	}
	api.set_log(log_line, NULL, SWIFTWEBHOOK_LOG_INFO);
	if (api.init(&wh, config->conf_file, why, sizeof why) !=
	    SWIFTWEBHOOK_OK) {
		log_error("webhook: libswiftwebhook did not start, NanoMQ's own "
		          "webhook stays in use: %s",
		    why);
		api.set_log(NULL, NULL, 0);
		swiftwebhook_unload(&api);
		return false;
	}
	sem_init(&wakeup, 0, 0);
	broker_socket = broker;
	atomic_store(&active, true);
	if (api.wants(wh, SWIFTWEBHOOK_MESSAGE_ACKED) == 1) {
		nmq_swh_acked = acked;
	}
	log_info("webhook: delivered by libswiftwebhook %s (%s)",
	    api.version(), path);
	return true;
}

bool
swh_nanomq_active(void)
{
	return atomic_load(&active);
}

static void
emit(swiftwebhook_event *ev)
{
	atomic_fetch_add(&handed, 1);
	if (api.emit(wh, ev) == SWIFTWEBHOOK_ESHUTDOWN) {
		atomic_fetch_add(&refused, 1);
	}
}

/* What every event says about the client it concerns. */
static void
set_client(swiftwebhook_event *ev, int type, conn_param *cp)
{
	const char *ip;
	ev->type        = type;
	ev->clientid    = conn_param_get_clientid(cp);
	ev->username    = (const char *) conn_param_get_username(cp);
	ev->proto_ver   = conn_param_get_protover(cp);
	ev->keepalive   = conn_param_get_keepalive(cp);
	ip              = conn_param_get_ip_addr_v4(cp);
	ev->peer_address = ip != NULL && ip[0] != '\0' ? ip : NULL;
}

/* CONNACK: connect, connack, and connected when the client was accepted.
 * NanoMQ has no hook before its CONNACK decision, so the three arrive in
 * their real order at the moment the CONNACK is sent. */
static void
connack(conn_param *cp, uint8_t reason)
{
	swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
	set_client(&ev, SWIFTWEBHOOK_CLIENT_CONNECT, cp);
	emit(&ev);
	ev.type        = SWIFTWEBHOOK_CLIENT_CONNACK;
	ev.reason_code = reason;
	emit(&ev);
	if (reason == 0) {
		ev.type        = SWIFTWEBHOOK_CLIENT_CONNECTED;
		ev.reason_code = 0;
		emit(&ev);
	}
}

/* DISCONNECT_EV: disconnected, and session_terminated for a session that
 * ends with its connection (clean start). NanoMQ passes reason 0 here
 * whatever ended the connection (its own webhook says "normal" too). */
static void
disconnected(conn_param *cp, uint8_t reason)
{
	swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
	set_client(&ev, SWIFTWEBHOOK_CLIENT_DISCONNECTED, cp);
	ev.reason_code = reason;
	emit(&ev);
	if (conn_param_get_clean_start(cp)) {
		ev.type = SWIFTWEBHOOK_SESSION_TERMINATED;
		emit(&ev);
	}
}

/* PUBLISH: message_publish from the publisher, then message_delivered for
 * each subscriber NanoMQ just sent it to. */
static void
published(struct work *work)
{
	struct pub_packet_struct *pub = work->pub_packet;
	swiftwebhook_event        ev  = SWIFTWEBHOOK_EVENT_INIT;
	mqtt_msg_info            *infos;

	if (pub == NULL || pub->var_header.publish.topic_name.body == NULL) {
		return;
	}
	set_client(&ev, SWIFTWEBHOOK_MESSAGE_PUBLISH, work->cparam);
	ev.topic       = pub->var_header.publish.topic_name.body;
	ev.qos         = pub->fixed_header.qos;
	ev.retain      = pub->fixed_header.retain;
	ev.payload     = pub->payload.len > 0 ? pub->payload.data : NULL;
	ev.payload_len = pub->payload.data != NULL ? pub->payload.len : 0;
	emit(&ev);

	infos = work->pipe_ct != NULL ? work->pipe_ct->msg_infos : NULL;
	for (size_t i = 0; i < cvector_size(infos); i++) {
		nng_pipe    pipe = { .id = infos[i].pipe };
		conn_param *sub  = nng_pipe_cparam(pipe);
		if (sub == NULL) {
			continue; /* the subscriber is gone already */
		}
		ev.type          = SWIFTWEBHOOK_MESSAGE_DELIVERED;
		ev.from_clientid = conn_param_get_clientid(work->cparam);
		ev.from_username = (const char *) conn_param_get_username(work->cparam);
		ev.clientid      = conn_param_get_clientid(sub);
		ev.username      = (const char *) conn_param_get_username(sub);
		emit(&ev);
	}
}

/* MQTT's variable byte integer at p (at most 4 bytes within end). */
static size_t
varint(const uint8_t *p, const uint8_t *end, size_t *bytes)
{
	size_t value = 0;
	for (*bytes = 0; *bytes < 4 && p + *bytes < end; (*bytes)++) {
		value |= (size_t) (p[*bytes] & 0x7f) << (7 * *bytes);
		if ((p[*bytes] & 0x80) == 0) {
			(*bytes)++;
			return value;
		}
	}
	return SIZE_MAX;
}

/* PUBACK / PUBCOMP from a subscriber (NanoNNG's TCP transport thread):
 * msg is the PUBLISH as NanoMQ stored it for that subscriber, encoded as
 * the publisher sent it. NanoMQ keeps no reference to the publisher there,
 * so from_clientid and from_username are not known. */
static void
acked(conn_param *subscriber, nng_msg *msg)
{
	swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
	const uint8_t *header = nng_msg_header(msg);
	const uint8_t *body   = nng_msg_body(msg);
	const uint8_t *end    = body + nng_msg_len(msg);
	size_t         topic_len, offset, props, bytes;
	char          *topic;

	if (subscriber == NULL || header == NULL || nng_msg_header_len(msg) < 1 || end - body < 2) {
		return;
	}
	topic_len = ((size_t) body[0] << 8) | body[1];
	offset    = 2 + topic_len + (((header[0] >> 1) & 3) > 0 ? 2 : 0);
	if (offset > (size_t) (end - body)) {
		return;
	}
	if (nng_msg_cmd_type(msg) == CMD_PUBLISH_V5) {
		props = varint(body + offset, end, &bytes);
		if (props == SIZE_MAX || props > (size_t) (end - body) - offset - bytes) {
			return;
		}
		offset += bytes + props;
	}
	if ((topic = strndup((const char *) body + 2, topic_len)) == NULL) {
		return;
	}
	set_client(&ev, SWIFTWEBHOOK_MESSAGE_ACKED, subscriber);
	ev.topic       = topic;
	ev.qos         = (header[0] >> 1) & 3;
	ev.retain      = header[0] & 1;
	ev.payload     = body + offset < end ? body + offset : NULL;
	ev.payload_len = (size_t) (end - body) - offset;
	emit(&ev);
	free(topic);
}

int
swh_nanomq_hook(struct work *work, uint8_t reason)
{
	if (work->cparam == NULL) {
		return 0;
	}
	switch (work->flag) {
	case CMD_CONNACK:
		connack(work->cparam, reason);
		break;
	case CMD_PUBLISH:
		published(work);
		break;
	case CMD_DISCONNECT_EV:
		disconnected(work->cparam, reason);
		break;
	default:
		break;
	}
	return 0;
}

/* One filter's subscribe-family events: the client's request, then the
 * session's change when it was `applied`. NanoMQ's topic bodies are counted
 * strings, so the filter is copied to a C string first. */
static void
filter_events(struct work *work, const topic_node *tn, int client_type, int session_type, bool applied)
{
	swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
	char              *filter;
	if (tn->topic.body == NULL || tn->topic.len <= 0 ||
	    (filter = strndup(tn->topic.body, (size_t) tn->topic.len)) == NULL) {
		return;
	}
	set_client(&ev, client_type, work->cparam);
	ev.topic               = filter;
	ev.qos                 = tn->qos;
	ev.no_local            = tn->no_local;
	ev.retain_as_published = tn->rap;
	ev.retain_handling     = tn->retain_handling;
	emit(&ev);
	if (applied) {
		ev.type = session_type;
		emit(&ev);
	}
	free(filter);
}

void
swh_nanomq_subscribe(struct work *work)
{
	if (!atomic_load(&active) || work->sub_pkt == NULL || work->cparam == NULL) {
		return;
	}
	/* session_subscribed only for filters the session now holds. */
	for (topic_node *tn = work->sub_pkt->node; tn != NULL; tn = tn->next) {
		filter_events(work, tn, SWIFTWEBHOOK_CLIENT_SUBSCRIBE, SWIFTWEBHOOK_SESSION_SUBSCRIBED,
		    work->code == SUCCESS && tn->reason_code < 0x80);
	}
}

void
swh_nanomq_unsubscribe(struct work *work)
{
	if (!atomic_load(&active) || work->unsub_pkt == NULL || work->cparam == NULL) {
		return;
	}
	/* session_unsubscribed only for filters the session held (UNSUBACK 0x00). */
	for (topic_node *tn = work->unsub_pkt->node; tn != NULL; tn = tn->next) {
		filter_events(work, tn, SWIFTWEBHOOK_CLIENT_UNSUBSCRIBE, SWIFTWEBHOOK_SESSION_UNSUBSCRIBED,
		    tn->reason_code == 0x00);
	}
}

bool
swh_nanomq_prometheus(struct http_msg *res, const char *own)
{
	size_t needed = 0;

	/* get_metrics is NULL with a library older than 1.3.0. A handle that
	 * is finalised meanwhile answers ESHUTDOWN, never touches freed memory. */
	if (!atomic_load(&active) || api.get_metrics == NULL ||
	    api.get_metrics(wh, NULL, 0, &needed) != SWIFTWEBHOOK_ETOOSMALL) {
		return false;
	}
	for (int tries = 0; tries < 4; tries++) {
		size_t own_len = strlen(own);
		size_t size    = own_len + 1 + needed + 1024; /* numbers grow */
		char  *all     = malloc(size);
		size_t at      = own_len;
		int    rv;
		if (all == NULL) {
			return false;
		}
		memcpy(all, own, own_len);
		if (at > 0 && all[at - 1] != '\n') {
			all[at++] = '\n';
		}
		rv = api.get_metrics(wh, all + at, size - at, &needed);
		if (rv == SWIFTWEBHOOK_OK) {
			put_http_msg(res, "text/plain", NULL, NULL, NULL, all, strlen(all));
			free(all);
			return true;
		}
		free(all);
		if (rv != SWIFTWEBHOOK_ETOOSMALL) {
			return false;
		}
	}
	return false;
}

void
swh_nanomq_reload(const char *trigger)
{
	char why[1024];

	/* reload is NULL with a library older than 1.3.0. */
	if (!atomic_load(&active) || api.reload == NULL) {
		return;
	}
	if (api.reload(wh, NULL, why, sizeof why) == SWIFTWEBHOOK_OK) {
		log_info("webhook: config reloaded (%s)", trigger);
	} else {
		log_error("webhook: config not reloaded (%s), the running one "
		          "stays: %s",
		    trigger, why);
	}
}

bool
swh_nanomq_signal(int signum)
{
	if (atomic_load(&active) && signum == SIGHUP) {
		/* NanoMQ itself only logs a SIGHUP: the main thread reloads. */
		atomic_store(&reload_requested, 1);
		sem_post(&wakeup);
		return true;
	}
	if (!atomic_load(&active) || (signum != SIGTERM && signum != SIGINT)) {
		return false;
	}
	if (atomic_exchange(&stop_signum, signum) != 0) {
		/* A second signal while stopping: stop now, as NanoMQ would. */
		_exit(signum == SIGINT ? EXIT_FAILURE : EXIT_SUCCESS);
	}
	sem_post(&wakeup);
	return true;
}

/* New connections while stopping are closed before they become sessions. */
static void
refuse_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	(void) ev;
	(void) arg;
	nng_pipe_close(pipe);
}

void
swh_nanomq_run_until_stopped(void)
{
	swiftwebhook_stats stats;
	unsigned long long seen;
	int                quiet_ms = 0, waited_ms = 0, signum;

	if (!atomic_load(&active)) {
		return;
	}
	while ((signum = atomic_load(&stop_signum)) == 0) {
		while (sem_wait(&wakeup) != 0 && errno == EINTR) {
		}
		if (atomic_exchange(&reload_requested, 0)) {
			swh_nanomq_reload("SIGHUP");
		}
	}
	log_warn("webhook: signal %d: refusing new MQTT connections, then "
	         "draining libswiftwebhook",
	    signum);
	nng_pipe_notify(broker_socket, NNG_PIPE_EV_ADD_PRE, refuse_pipe, NULL);

	/* Let the workers finish what the broker already holds: events still
	 * come while they do. */
	seen = atomic_load(&handed);
	while (quiet_ms < SWH_QUIET_MS && waited_ms < SWH_QUIET_MAX_MS) {
		nng_msleep(20);
		waited_ms += 20;
		if (atomic_load(&handed) == seen) {
			quiet_ms += 20;
		} else {
			seen     = atomic_load(&handed);
			quiet_ms = 0;
		}
	}

	memset(&stats, 0, sizeof stats);
	stats.size = sizeof stats;
	api.get_stats(wh, &stats);
	log_warn("webhook: draining %llu queued event(s)",
	    (unsigned long long) (stats.queued + stats.in_flight));
	api.fini(wh); /* bounded by drain_timeout */
	log_warn("webhook: stopped; %llu event(s) came after the drain began "
	         "and were not sent",
	    (unsigned long long) atomic_load(&refused));
	exit(signum == SIGINT ? EXIT_FAILURE : EXIT_SUCCESS);
}
