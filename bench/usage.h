/*
 * usage.h - what B15's programs (driver, nng_floor, epoll_floor) share:
 * the CPU time and context switches of the process or of one thread, and
 * the steady pacing of one event at a time.
 */
#ifndef SWIFTWEBHOOK_BENCH_USAGE_H
#define SWIFTWEBHOOK_BENCH_USAGE_H

#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

/* CPU time and context switches, of RUSAGE_SELF or RUSAGE_THREAD. */
typedef struct usage {
    uint64_t cpu_ns;
    uint64_t voluntary;
    uint64_t involuntary;
} usage;

static inline usage
usage_of(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (usage) {(uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull
                        + (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull,
        (uint64_t) ru.ru_nvcsw, (uint64_t) ru.ru_nivcsw};
}

/* Sleeps until `gap_ns` after the last due time (absolute, so the rate
 * holds however long each event took), and moves `due` on. */
static inline void
pace_next(struct timespec *due, long gap_ns)
{
    due->tv_nsec += gap_ns;
    while (due->tv_nsec >= 1000000000L) {
        due->tv_nsec -= 1000000000L;
        due->tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, due, NULL);
}

#endif
