/*
 * abi_facts.c - the facts of include/swiftwebhook.h the library repeats,
 * checked against the header at compile time, and the version string taken
 * from it (so the version is written once, in the header).
 */
#include "swiftwebhook_abi.h"

_Static_assert(SWIFTWEBHOOK_EVENT_TYPE_COUNT <= 32,
    "a handle's wanted-event mask (and RuleTable.KindMask) is 32 bits");
_Static_assert(SWIFTWEBHOOK_MESSAGE_ACKED == SWIFTWEBHOOK_EVENT_TYPE_COUNT - 1,
    "event types are numbered 0 to SWIFTWEBHOOK_EVENT_TYPE_COUNT - 1");

_Static_assert(offsetof(swiftwebhook_stats, matched) >= sizeof(size_t),
    "webhook_get_stats reads the caller's size, then writes from `matched` on");
_Static_assert(offsetof(swiftwebhook_event, type) == sizeof(size_t),
    "webhook_emit reads the caller's size before anything else");

/* Where `matched` starts: right after `size` on 64-bit targets, after 4
 * bytes of padding on 32-bit ARM (uint64_t is 8-aligned there). */
const size_t swh_stats_first_field = offsetof(swiftwebhook_stats, matched);

const char *
swh_library_version(void)
{
    return SWIFTWEBHOOK_VERSION;
}
