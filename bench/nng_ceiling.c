/*
 * nng_ceiling.c - what nng's HTTP client itself can do on this machine:
 * N connections, each sending the same fixed POST again and again with
 * nng_http_conn_transact, and nothing else (no queue, no JSON, no rules).
 * With "per-request", every request opens a new connection instead
 * (nng_http_client_transact), which is what NanoMQ's webhook does.
 *
 *     nng_ceiling URL REQUESTS CONNECTIONS BODY_BYTES [per-request]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

typedef struct sender {
    nng_aio *aio;
    nng_http_conn *conn;
    nng_http_req *req;
    nng_http_res *res;
    int connecting;
} sender;

static nng_http_client *client;
static nng_url *url;
static nng_mtx *lock;
static nng_cv *done_cv;
static long started, finished, failed, total;
static int per_request;
static char *body;
static size_t body_len;

static void start_next(sender *s);

static void
callback(void *arg)
{
    sender *s = arg;
    int rv = nng_aio_result(s->aio);
    if (s->connecting) {
        s->connecting = 0;
        if (rv != 0) {
            fprintf(stderr, "connect: %s\n", nng_strerror(rv));
            exit(1);
        }
        s->conn = nng_aio_get_output(s->aio, 0);
        nng_http_conn_transact(s->conn, s->req, s->res, s->aio);
        return;
    }
    nng_mtx_lock(lock);
    finished++;
    if (rv != 0 || nng_http_res_get_status(s->res) / 100 != 2) {
        failed++;
    }
    if (finished == total) {
        nng_cv_wake(done_cv);
    }
    nng_mtx_unlock(lock);
    start_next(s);
}

static void
start_next(sender *s)
{
    nng_mtx_lock(lock);
    if (started == total) {
        nng_mtx_unlock(lock);
        return;
    }
    started++;
    nng_mtx_unlock(lock);
    if (per_request) {
        nng_http_client_transact(client, s->req, s->res, s->aio);
    } else if (s->conn == NULL) {
        s->connecting = 1;
        nng_http_client_connect(client, s->aio);
    } else {
        nng_http_conn_transact(s->conn, s->req, s->res, s->aio);
    }
}

int
main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: nng_ceiling URL REQUESTS CONNECTIONS BODY_BYTES [per-request]\n");
        return 2;
    }
    total = atol(argv[2]);
    int connections = atoi(argv[3]);
    body_len = (size_t) atol(argv[4]);
    per_request = argc > 5 && strcmp(argv[5], "per-request") == 0;
    body = malloc(body_len);
    memset(body, 'x', body_len);
    nng_url_parse(&url, argv[1]);
    nng_http_client_alloc(&client, url);
    nng_mtx_alloc(&lock);
    nng_cv_alloc(&done_cv, lock);
    sender *senders = calloc((size_t) connections, sizeof(sender));
    for (int i = 0; i < connections; i++) {
        nng_aio_alloc(&senders[i].aio, callback, &senders[i]);
        nng_http_req_alloc(&senders[i].req, url);
        nng_http_req_set_method(senders[i].req, "POST");
        nng_http_req_set_header(senders[i].req, "Content-Type", "application/json");
        /* The same body every time, so the cached header block stays right. */
        nng_http_req_set_data(senders[i].req, body, body_len);
        nng_http_res_alloc(&senders[i].res);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < connections; i++) {
        start_next(&senders[i]);
    }
    nng_mtx_lock(lock);
    while (finished < total) {
        nng_cv_wait(done_cv);
    }
    nng_mtx_unlock(lock);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"requests\": %ld, \"connections\": %d, \"per_request\": %s, \"seconds\": %.3f, \"requests_per_s\": %.0f, "
           "\"failed\": %ld}\n", total, connections, per_request ? "true" : "false", seconds, total / seconds, failed);
    return failed == 0 ? 0 : 1;
}
