/*
 * The handle table behind `swiftwebhook *`.
 *
 * A handle is (generation << 16 | slot + 1), never a pointer. Each slot has
 * one 64-bit atomic word:
 *
 *     bits 63..32  generation (bumped when the slot is freed)
 *     bit  31      live
 *     bit  30      closing (webhook_fini has begun)
 *
 * and counts of the callers inside the library right now, one per CPU
 * stripe (registry.c), so webhook_emit can refuse a finalised or closing
 * handle, and webhook_fini can wait for the callers already inside, without
 * a lock and without touching freed memory.
 */
#ifndef WEBHOOK_REGISTRY_H
#define WEBHOOK_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

/* SWIFTWEBHOOK_MAX_HANDLES; registry.c checks they agree. */
#define SWH_REGISTRY_SLOTS 4096

typedef enum {
    SWH_SLOT_OK = 0,
    SWH_SLOT_INVALID = -1,  /* never a handle (0, or a slot out of range) */
    SWH_SLOT_GONE = -2      /* finalised, closing, or an older generation */
} swh_slot_status;

/* Publishes `instance` with the event types it wants (bit n = type n).
 * Returns the handle, or 0 when every slot is taken. */
uintptr_t swh_registry_add(void *instance, uint32_t wanted);

/* 1 when type `kind` is wanted, 0 when not, or a swh_slot_status when the
 * handle is invalid or gone. One atomic load; no reference is taken. */
int swh_registry_wants(uintptr_t handle, unsigned kind);

/* A reload: the event types the handle's instance wants from now on (the
 * caller holds a reference, so the slot is its own). */
void swh_registry_set_wanted(uintptr_t handle, uint32_t wanted);

/* Takes a reference and returns the instance, or NULL with *status set.
 * *ticket says where the reference was counted: pass it to release. */
void *swh_registry_acquire(uintptr_t handle, int *status, unsigned *ticket);

/* Drops a reference taken by swh_registry_acquire (with its ticket). */
void swh_registry_release(uintptr_t handle, unsigned ticket);

/* Marks the handle closing, waits until no caller is inside, and returns
 * the instance. Only the first of several concurrent callers gets it;
 * the others (and later ones) get NULL. */
void *swh_registry_close(uintptr_t handle);

/* Frees a closed slot for reuse under a new generation. */
void swh_registry_remove(uintptr_t handle);

#endif
