/*
 * registry.c - the handle table behind `swiftwebhook *` (see webhook_registry.h).
 */
#define _GNU_SOURCE /* sched_getcpu */
#include "webhook_registry.h"

#include <swiftwebhook.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>

_Static_assert(SWH_REGISTRY_SLOTS == SWIFTWEBHOOK_MAX_HANDLES,
    "the handle table has one slot per handle the header promises");

#define LIVE ((uint64_t) 1 << 31)
#define CLOSING ((uint64_t) 1 << 30)
#define GENERATION(word) ((uint32_t) ((word) >> 32))

typedef struct {
    _Atomic uint64_t state;
    void *instance;
    _Atomic uint32_t wanted; /* changed by a reload while emits read it */
} slot;

static slot slots[SWH_REGISTRY_SLOTS];

/*
 * The callers inside, counted per CPU stripe rather than in the slot's
 * word: broker threads on different CPUs emitting to one handle then never
 * write the same cache line (one shared counter bounced between them on
 * every emit, twice). A caller counts itself in the stripe of the CPU it
 * runs on and uncounts itself in the same stripe (its ticket), wherever it
 * runs by then. Rows are 16 KiB apart, so two stripes never share a line.
 */
#define STRIPES 16
static _Alignas(64) _Atomic int32_t inside[STRIPES][SWH_REGISTRY_SLOTS];
/* Guards only the search for a free slot (init and fini, never emit). */
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/*
 * fork(): the child has none of the parent's threads, nng's among them, so
 * the parent's instances cannot deliver there. The child forgets them: every
 * handle becomes an older generation (webhook_emit answers
 * SWIFTWEBHOOK_ESHUTDOWN, webhook_fini returns at once) and its instance is
 * left alone, never freed (its locks may be held by threads that are gone).
 * add_lock is held across the fork so the child's copy is never locked.
 */
static void fork_prepare(void) { pthread_mutex_lock(&add_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&add_lock); }

static void
fork_child(void)
{
    for (unsigned i = 0; i < SWH_REGISTRY_SLOTS; i++) {
        uint64_t word = atomic_load_explicit(&slots[i].state, memory_order_relaxed);
        if (word & (LIVE | CLOSING)) {
            slots[i].instance = NULL;
            atomic_store_explicit(&slots[i].state, (uint64_t) (GENERATION(word) + 1) << 32, memory_order_relaxed);
        }
        /* Callers that were inside belong to threads the child does not have. */
        for (unsigned stripe = 0; stripe < STRIPES; stripe++) {
            atomic_store_explicit(&inside[stripe][i], 0, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&add_lock);
}

static void
register_atfork(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static slot *
lookup(uintptr_t handle, uint32_t *generation)
{
    uintptr_t index = handle & 0xFFFF;
    if (index == 0 || index > SWH_REGISTRY_SLOTS) {
        return NULL;
    }
    *generation = (uint32_t) (handle >> 16);
    return &slots[index - 1];
}

uintptr_t
swh_registry_add(void *instance, uint32_t wanted)
{
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&add_lock);
    for (unsigned i = 0; i < SWH_REGISTRY_SLOTS; i++) {
        uint64_t word = atomic_load_explicit(&slots[i].state, memory_order_acquire);
        if (word & (LIVE | CLOSING)) {
            continue;
        }
        uint32_t generation = GENERATION(word);
        slots[i].instance = instance;
        atomic_store_explicit(&slots[i].wanted, wanted, memory_order_relaxed);
        /* Publish: the release store makes instance and wanted visible first. */
        atomic_store_explicit(&slots[i].state, ((uint64_t) generation << 32) | LIVE, memory_order_release);
        pthread_mutex_unlock(&add_lock);
        /* Handles fit 48 bits so they survive any pointer-sized round trip. */
        return ((uintptr_t) (generation & 0xFFFFFFFF) << 16) | (uintptr_t) (i + 1);
    }
    pthread_mutex_unlock(&add_lock);
    return 0;
}

int
swh_registry_wants(uintptr_t handle, unsigned kind)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s == NULL) {
        return SWH_SLOT_INVALID;
    }
    uint64_t word = atomic_load_explicit(&s->state, memory_order_acquire);
    if (GENERATION(word) != generation || (word & (LIVE | CLOSING)) != LIVE) {
        return SWH_SLOT_GONE;
    }
    return kind < 32 && (atomic_load_explicit(&s->wanted, memory_order_relaxed) >> kind) & 1;
}

void
swh_registry_set_wanted(uintptr_t handle, uint32_t wanted)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s != NULL) {
        atomic_store_explicit(&s->wanted, wanted, memory_order_relaxed);
    }
}

void *
swh_registry_acquire(uintptr_t handle, int *status, unsigned *ticket)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s == NULL) {
        *status = SWH_SLOT_INVALID;
        return NULL;
    }
    /* glibc reads the CPU from the rseq area: no system call. */
    int cpu = sched_getcpu();
    unsigned stripe = cpu < 0 ? 0 : (unsigned) cpu % STRIPES;
    _Atomic int32_t *count = &inside[stripe][s - slots];
    /*
     * Count in, then look: swh_registry_close marks the slot, then looks at
     * the counts. Both sequentially consistent, so either this sees the
     * mark and backs out, or close sees this caller and waits for it.
     */
    atomic_fetch_add_explicit(count, 1, memory_order_seq_cst);
    uint64_t word = atomic_load_explicit(&s->state, memory_order_seq_cst);
    if (GENERATION(word) != generation || (word & (LIVE | CLOSING)) != LIVE) {
        atomic_fetch_sub_explicit(count, 1, memory_order_release);
        *status = SWH_SLOT_GONE;
        return NULL;
    }
    *status = SWH_SLOT_OK;
    *ticket = stripe;
    return s->instance;
}

void
swh_registry_release(uintptr_t handle, unsigned ticket)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s != NULL && ticket < STRIPES) {
        atomic_fetch_sub_explicit(&inside[ticket][s - slots], 1, memory_order_release);
    }
}

void *
swh_registry_close(uintptr_t handle)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s == NULL) {
        return NULL;
    }
    uint64_t word = atomic_load_explicit(&s->state, memory_order_acquire);
    for (;;) {
        if (GENERATION(word) != generation || (word & (LIVE | CLOSING)) != LIVE) {
            return NULL;  /* already finalised, or another fini got here first */
        }
        if (atomic_compare_exchange_weak_explicit(&s->state, &word, word | CLOSING,
                memory_order_seq_cst, memory_order_acquire)) {
            break;
        }
    }
    /* Callers already inside only copy and enqueue: this wait is short. */
    for (unsigned stripe = 0; stripe < STRIPES; stripe++) {
        while (atomic_load_explicit(&inside[stripe][s - slots], memory_order_seq_cst) != 0) {
            sched_yield();
        }
    }
    return s->instance;
}

void
swh_registry_remove(uintptr_t handle)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&add_lock);
    s->instance = NULL;
    atomic_store_explicit(&s->wanted, 0, memory_order_relaxed);
    /* A new generation: every old copy of this handle is now "gone". */
    atomic_store_explicit(&s->state, (uint64_t) (generation + 1) << 32, memory_order_release);
    pthread_mutex_unlock(&add_lock);
}
