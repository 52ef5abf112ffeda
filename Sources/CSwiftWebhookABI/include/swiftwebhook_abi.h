/*
 * swiftwebhook_abi.h - include/swiftwebhook.h (the ABI) as the Swift side
 * sees it, and the facts of it the library repeats at run time, defined in
 * abi_facts.c from the header itself (so each is written once, there).
 */
#ifndef SWIFTWEBHOOK_ABI_FACTS_H
#define SWIFTWEBHOOK_ABI_FACTS_H

#include <stddef.h>

/* Relative, so this module needs no include path of its own. */
#include "../../../include/swiftwebhook.h"

/* SWIFTWEBHOOK_VERSION, the one definition of the library's version. */
const char *swh_library_version(void);

/* The offset of swiftwebhook_stats.matched: where webhook_get_stats starts
 * writing, after the caller's size (and, on 32-bit targets, padding). */
extern const size_t swh_stats_first_field;

#endif
