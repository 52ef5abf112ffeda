/*
 * epoll_floor.c - what the same paced exchange costs without nng: the
 * shape a library would need for B15's paced goals (issue 24), measured the
 * way nng_floor.c and B15 measure (process CPU and context switches less
 * the pacing thread's).
 *
 * One delivery thread owns one keep-alive connection and an eventfd, both
 * in one epoll set (wrk's shape, plus the wake-up a broker's thread must
 * give). The pacing thread writes the eventfd per event (webhook_emit's
 * part); the delivery thread, woken, writes the request inline and, woken
 * again by the answer, reads it. Nothing is handed between threads beyond
 * that one wake-up; no TLS.
 *
 *     epoll_floor HOST PORT RATE SECONDS BODY_BYTES
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "usage.h"

static int sock, wake_fd, epoll_fd;
static char request[4096];
static size_t request_len;
static atomic_long answered, failed;
static atomic_int stopping;

static void *
deliver(void *arg)
{
    (void) arg;
    char response[4096];
    size_t have = 0;
    long pending = 0, sent = 0;  /* woken for and not yet sent; sent */
    while (!atomic_load(&stopping) || pending > 0 || atomic_load(&answered) < sent) {
        struct epoll_event ready[2];
        int n = epoll_wait(epoll_fd, ready, 2, 100);
        for (int i = 0; i < n; i++) {
            if (ready[i].data.fd == wake_fd) {
                uint64_t count;
                if (read(wake_fd, &count, sizeof count) == sizeof count) {
                    pending += (long) count;
                }
                continue;
            }
            ssize_t got = recv(sock, response + have, sizeof response - have, MSG_DONTWAIT);
            if (got <= 0) {
                atomic_fetch_add(&failed, 1);
                return NULL;
            }
            have += (size_t) got;
            if (memmem(response, have, "\r\n\r\n", 4) != NULL) { /* nginx's 204 ends with its head */
                have = 0;
                atomic_fetch_add(&answered, 1);
            }
        }
        /* One request on the wire at a time, as one connection of a pool. */
        if (pending > 0 && atomic_load(&answered) == sent) {
            if (send(sock, request, request_len, MSG_NOSIGNAL) != (ssize_t) request_len) {
                atomic_fetch_add(&failed, 1);
                return NULL;
            }
            pending--;
            sent++;
        }
    }
    return NULL;
}


int
main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: epoll_floor HOST PORT RATE SECONDS BODY_BYTES\n");
        return 2;
    }
    long rate = atol(argv[3]), n = (long) (rate * atof(argv[4]));
    int body = atoi(argv[5]);
    request_len = (size_t) snprintf(request, sizeof request,
        "POST /hook HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", argv[1],
        argv[2], body);
    memset(request + request_len, 'x', (size_t) body);
    request_len += (size_t) body;

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &address.sin_addr);
    int one = 1;
    sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *) &address, sizeof address) != 0) {
        perror("connect");
        return 1;
    }
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    wake_fd = eventfd(0, EFD_NONBLOCK);
    epoll_fd = epoll_create1(0);
    struct epoll_event on_wake = {.events = EPOLLIN, .data.fd = wake_fd}, on_answer = {.events = EPOLLIN, .data.fd = sock};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &on_wake);
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, sock, &on_answer);
    pthread_t thread;
    pthread_create(&thread, NULL, deliver, NULL);
    usleep(200000);

    usage p0 = usage_of(RUSAGE_SELF), t0 = usage_of(RUSAGE_THREAD);
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    long gap = 1000000000L / rate;
    for (long i = 0; i < n; i++) {
        pace_next(&due, gap);
        uint64_t one_event = 1;
        if (write(wake_fd, &one_event, sizeof one_event) != sizeof one_event) {
            return 1;
        }
    }
    while (atomic_load(&answered) + atomic_load(&failed) < n) {
        usleep(100);
    }
    usage p1 = usage_of(RUSAGE_SELF), t1 = usage_of(RUSAGE_THREAD);
    atomic_store(&stopping, 1);
    pthread_join(thread, NULL);
    printf("{\"rate\": %ld, \"requests\": %ld, \"failed\": %ld, \"cpu_ns_per_request\": %.0f, "
           "\"voluntary_per_request\": %.3f, \"involuntary_per_request\": %.3f}\n",
        rate, n, atomic_load(&failed), (double) ((p1.cpu_ns - p0.cpu_ns) - (t1.cpu_ns - t0.cpu_ns)) / (double) n,
        (double) ((p1.voluntary - p0.voluntary) - (t1.voluntary - t0.voluntary)) / (double) n,
        (double) ((p1.involuntary - p0.involuntary) - (t1.involuntary - t0.involuntary)) / (double) n);
    close(sock);
    return atomic_load(&failed) == 0 ? 0 : 1;
}
