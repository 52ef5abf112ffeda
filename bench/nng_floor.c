/*
 * nng_floor.c - the least any library built on Debian's nng 1.5.2 can cost
 * per paced request, measured the way B15 measures the library: one
 * keep-alive connection, requests spaced evenly at RATE per second, the
 * process's CPU and context switches less the pacing thread's.
 *
 * It is a floor because it leaves out everything a webhook must do: the
 * pacing thread posts each request itself (no queue, no hand-off to
 * another thread: a broker's thread must never do this), the request is
 * built once, nothing is parsed beyond finding the end of the head, and
 * the raw byte stream is used (nng_stream_send / nng_stream_recv), below
 * nng's HTTP layer, which adds two more completions per exchange. What is
 * left is nng's own path: every completion is handed to one of its task
 * threads (nni_aio_finish dispatches; 1.5.2 has no way to run a callback
 * where the I/O completed), and a response that arrives later than the
 * read was posted comes through its poller thread first.
 *
 * With "http", the same exchange through nng's HTTP layer as the library
 * uses it (nng_http_conn_write_all, then nng_http_conn_read_res from the
 * write's callback): the HTTP layer's own hand-offs on top of the stream's.
 *
 *     nng_floor HOST PORT RATE SECONDS BODY_BYTES [http]
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "usage.h"

static nng_stream *stream;
static nng_aio *send_aio, *recv_aio;
static char request[4096];
static size_t request_len;
static char response[4096];
static size_t response_len;
static atomic_int in_flight;  /* 2: the send and the read; 0: answered */
static atomic_long failed;
static int http;  /* through nng's HTTP layer */
static nng_http_conn *conn;
static nng_http_res *res;

static void
post_read(void)
{
    nng_iov iov = {response + response_len, sizeof response - response_len};
    nng_aio_set_iov(recv_aio, 1, &iov);
    nng_stream_recv(stream, recv_aio);
}

static void
sent(void *arg)
{
    (void) arg;
    if (nng_aio_result(send_aio) != 0) {
        atomic_fetch_add(&failed, 1);
    }
    if (http) {  /* the library's order: the read is posted once the write is done */
        nng_http_res_reset(res);
        nng_http_conn_read_res(conn, res, recv_aio);
    }
    atomic_fetch_sub(&in_flight, 1);
}

/* nginx answers 204 with no body: the response ends with its head. */
static void
received(void *arg)
{
    (void) arg;
    if (nng_aio_result(recv_aio) != 0) {
        atomic_fetch_add(&failed, 1);
        atomic_fetch_sub(&in_flight, 1);
        return;
    }
    if (http) {
        atomic_fetch_sub(&in_flight, 1);
        return;
    }
    response_len += nng_aio_count(recv_aio);
    if (memmem(response, response_len, "\r\n\r\n", 4) == NULL && response_len < sizeof response) {
        post_read();
        return;
    }
    atomic_fetch_sub(&in_flight, 1);
}


int
main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: nng_floor HOST PORT RATE SECONDS BODY_BYTES [http]\n");
        return 2;
    }
    long rate = atol(argv[3]), n = (long) (rate * atof(argv[4]));
    int body = atoi(argv[5]);
    char address[256];
    snprintf(address, sizeof address, "tcp://%s:%s", argv[1], argv[2]);
    request_len = (size_t) snprintf(request, sizeof request,
        "POST /hook HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", argv[1],
        argv[2], body);
    memset(request + request_len, 'x', (size_t) body);
    request_len += (size_t) body;

    nng_stream_dialer *dialer;
    nng_aio *dial;
    if (nng_stream_dialer_alloc(&dialer, address) != 0 || nng_aio_alloc(&dial, NULL, NULL) != 0
        || nng_aio_alloc(&send_aio, sent, NULL) != 0 || nng_aio_alloc(&recv_aio, received, NULL) != 0) {
        return 1;
    }
    nng_stream_dialer_dial(dialer, dial);
    nng_aio_wait(dial);
    if (nng_aio_result(dial) != 0) {
        fprintf(stderr, "dial: %s\n", nng_strerror(nng_aio_result(dial)));
        return 1;
    }
    stream = nng_aio_get_output(dial, 0);
    http = argc > 6 && strcmp(argv[6], "http") == 0;
    if (http) {
        char url_text[256];
        nng_url *url;
        nng_http_client *client;
        snprintf(url_text, sizeof url_text, "http://%s:%s/hook", argv[1], argv[2]);
        if (nng_url_parse(&url, url_text) != 0 || nng_http_client_alloc(&client, url) != 0
            || nng_http_res_alloc(&res) != 0) {
            return 1;
        }
        nng_http_client_connect(client, dial);
        nng_aio_wait(dial);
        if (nng_aio_result(dial) != 0) {
            fprintf(stderr, "connect: %s\n", nng_strerror(nng_aio_result(dial)));
            return 1;
        }
        conn = nng_aio_get_output(dial, 0);
    }
    usleep(200000);

    usage p0 = usage_of(RUSAGE_SELF), t0 = usage_of(RUSAGE_THREAD);
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    long gap = 1000000000L / rate;
    for (long i = 0; i < n; i++) {
        pace_next(&due, gap);
        while (atomic_load(&in_flight) != 0) {  /* rare at these rates: the last answer is late */
            usleep(10);
        }
        response_len = 0;
        atomic_store(&in_flight, 2);
        nng_iov iov = {request, request_len};
        nng_aio_set_iov(send_aio, 1, &iov);
        if (http) {
            nng_http_conn_write_all(conn, send_aio);
        } else {
            nng_stream_send(stream, send_aio);
            post_read();
        }
    }
    while (atomic_load(&in_flight) != 0) {
        usleep(10);
    }
    usage p1 = usage_of(RUSAGE_SELF), t1 = usage_of(RUSAGE_THREAD);
    printf("{\"layer\": \"%s\", \"rate\": %ld, \"requests\": %ld, \"failed\": %ld, \"cpu_ns_per_request\": %.0f, "
           "\"voluntary_per_request\": %.3f, \"involuntary_per_request\": %.3f}\n",
        http ? "http" : "stream", rate, n, atomic_load(&failed), (double) ((p1.cpu_ns - p0.cpu_ns) - (t1.cpu_ns - t0.cpu_ns)) / (double) n,
        (double) ((p1.voluntary - p0.voluntary) - (t1.voluntary - t0.voluntary)) / (double) n,
        (double) ((p1.involuntary - p0.involuntary) - (t1.involuntary - t0.involuntary)) / (double) n);
    nng_stream_close(stream);
    nng_stream_free(stream);
    nng_stream_dialer_free(dialer);
    return atomic_load(&failed) == 0 ? 0 : 1;
}
