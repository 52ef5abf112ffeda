/*
 * registry.c - the handle table behind `swiftwebhook *` (see webhook_registry.h).
 */
#include "webhook_registry.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>

#define LIVE ((uint64_t) 1 << 31)
#define CLOSING ((uint64_t) 1 << 30)
#define REFS_MASK (((uint64_t) 1 << 30) - 1)
#define GENERATION(word) ((uint32_t) ((word) >> 32))

typedef struct {
    _Atomic uint64_t state;
    void *instance;
    uint32_t wanted;
} slot;

static slot slots[SWH_REGISTRY_SLOTS];
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
        slots[i].wanted = wanted;
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
    return kind < 32 && (s->wanted >> kind) & 1;
}

void *
swh_registry_acquire(uintptr_t handle, int *status)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s == NULL) {
        *status = SWH_SLOT_INVALID;
        return NULL;
    }
    uint64_t word = atomic_load_explicit(&s->state, memory_order_acquire);
    for (;;) {
        if (GENERATION(word) != generation || (word & (LIVE | CLOSING)) != LIVE) {
            *status = SWH_SLOT_GONE;
            return NULL;
        }
        if (atomic_compare_exchange_weak_explicit(&s->state, &word, word + 1,
                memory_order_acquire, memory_order_acquire)) {
            *status = SWH_SLOT_OK;
            return s->instance;
        }
    }
}

void
swh_registry_release(uintptr_t handle)
{
    uint32_t generation;
    slot *s = lookup(handle, &generation);
    if (s != NULL) {
        atomic_fetch_sub_explicit(&s->state, 1, memory_order_release);
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
                memory_order_acq_rel, memory_order_acquire)) {
            break;
        }
    }
    /* Callers already inside only copy and enqueue: this wait is short. */
    while ((atomic_load_explicit(&s->state, memory_order_acquire) & REFS_MASK) != 0) {
        sched_yield();
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
    s->wanted = 0;
    /* A new generation: every old copy of this handle is now "gone". */
    atomic_store_explicit(&s->state, (uint64_t) (generation + 1) << 32, memory_order_release);
    pthread_mutex_unlock(&add_lock);
}
