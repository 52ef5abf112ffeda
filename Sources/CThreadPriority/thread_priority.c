/*
 * thread_priority.c - delivery runs below the broker.
 *
 * The engine's work (HTTP on nng's task threads) shares the CPUs with the
 * broker's threads. On an edge gateway with two cores, at the default
 * priority, a webhook delivering at full speed takes CPU time from the
 * broker's MQTT work in proportion to its thread count (four nng task
 * threads against one broker thread). With `delivery_nice` (default 10) the
 * threads that run the engine's callbacks get that nice value: the
 * scheduler then serves the broker's threads first when the CPUs are
 * scarce, and delivery uses what is left, while the bounded queue absorbs
 * the difference. Linux keeps nice per thread, so only nng's threads
 * change, never the broker's.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "thread_priority.h"

#pragma GCC visibility push(hidden)

static atomic_int wanted = 0;

void
cthread_set_delivery_nice(int nice)
{
    atomic_store_explicit(&wanted, nice, memory_order_relaxed);
}

void
cthread_apply_delivery_nice(void)
{
    /* What this thread was given; threads start at the process's own. */
    static __thread int applied = 0;
    int nice = atomic_load_explicit(&wanted, memory_order_relaxed);
    if (nice == applied) {
        return;
    }
    applied = nice;
    /* Raising a nice value needs no privilege; lowering one back can fail
     * (RLIMIT_NICE), and then the thread simply stays where it is. */
    (void) setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), nice);
}

#pragma GCC visibility pop
