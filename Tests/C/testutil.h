/*
 * testutil.h - what the C tests share: checks that count, and a blocking
 * HTTP GET to the test server's control endpoints (Tests/Support/hookserver.py).
 */
#ifndef SWIFTWEBHOOK_TESTUTIL_H
#define SWIFTWEBHOOK_TESTUTIL_H

#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <swiftwebhook.h>

static int test_passed;
static int test_failed;

/* Not every test uses every helper. */
#if defined(__GNUC__)
#define TESTUTIL_UNUSED __attribute__((unused))
#else
#define TESTUTIL_UNUSED
#endif

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            test_passed++;                                                       \
        } else {                                                                 \
            test_failed++;                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                           \
    do {                                                                         \
        long long a_ = (long long) (actual), e_ = (long long) (expected);        \
        if (a_ == e_) {                                                          \
            test_passed++;                                                       \
        } else {                                                                 \
            test_failed++;                                                       \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #actual, a_, e_); \
        }                                                                        \
    } while (0)

/* The counters of `wh`, read with `get_stats` (webhook_get_stats, or a
 * loader's api.get_stats) and checked; `stats_of(wh)` for a linked test. */
TESTUTIL_UNUSED static swiftwebhook_stats
stats_with(int (*get_stats)(swiftwebhook *, swiftwebhook_stats *), swiftwebhook *wh)
{
    swiftwebhook_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.size = sizeof stats;
    CHECK_EQ_INT(get_stats(wh, &stats), SWIFTWEBHOOK_OK);
    return stats;
}
#define stats_of(wh) stats_with(webhook_get_stats, (wh))

/* The plain closing line the CI reads: "N passed, N failed". */
TESTUTIL_UNUSED static int
test_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
    return test_failed == 0 ? 0 : 1;
}

TESTUTIL_UNUSED static void
sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* The test server's port, from HOOK_PORT (set by with_hookserver.py). */
TESTUTIL_UNUSED static int
hook_port(void)
{
    const char *port = getenv("HOOK_PORT");
    if (port == NULL) {
        fprintf(stderr, "HOOK_PORT is not set: run under with_hookserver.py\n");
        exit(2);
    }
    return atoi(port);
}

/* GET path from the test server; returns a malloc'd body or NULL. */
TESTUTIL_UNUSED static char *
hook_get(const char *path)
{
    struct sockaddr_in address;
    char request[256];
    size_t size = 0, capacity = 65536;
    char *response = malloc(capacity);
    char *body;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || response == NULL) {
        free(response);
        return NULL;
    }
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short) hook_port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &address, sizeof address) != 0) {
        close(fd);
        free(response);
        return NULL;
    }
    snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, request, strlen(request)) < 0) {
        close(fd);
        free(response);
        return NULL;
    }
    while ((n = read(fd, response + size, capacity - size - 1)) > 0) {
        size += (size_t) n;
        if (capacity - size < 4096) {
            char *grown = realloc(response, capacity * 2);
            if (grown == NULL) {
                break;
            }
            response = grown;
            capacity *= 2;
        }
    }
    close(fd);
    response[size] = '\0';
    body = strstr(response, "\r\n\r\n");
    if (body == NULL) {
        free(response);
        return NULL;
    }
    memmove(response, body + 4, strlen(body + 4) + 1);
    return response;
}

/* How many times `needle` occurs in `haystack`. */
TESTUTIL_UNUSED static int
count_occurrences(const char *haystack, const char *needle)
{
    int count = 0;
    const char *at = haystack;
    while (haystack != NULL && (at = strstr(at, needle)) != NULL) {
        count++;
        at += strlen(needle);
    }
    return count;
}

/* Writes a nanomq.conf-style file pointing at the test server. */
TESTUTIL_UNUSED static void
write_config(const char *path, const char *webhook_body)
{
    FILE *file = fopen(path, "w");
    if (file == NULL) {
        perror(path);
        exit(2);
    }
    fprintf(file,
        "# A broker config as NanoMQ has it; the library reads only webhook {}.\n"
        "mqtt {\n    max_packet_size = 10KB\n    retry_interval = 10s\n}\n"
        "listeners.tcp { bind = \"0.0.0.0:1883\" }\n"
        "log { to = [console], level = warn }\n"
        "webhook {\n    url = \"http://127.0.0.1:%d/hook\"\n%s\n}\n",
        hook_port(), webhook_body);
    fclose(file);
}

#endif
