/*
 * fuzz_common.h - what the config fuzz targets share: a silent logger and
 * the check that a config either starts (and is stopped) or says why not.
 */
#ifndef SWIFTWEBHOOK_FUZZ_COMMON_H
#define SWIFTWEBHOOK_FUZZ_COMMON_H

#include <stdlib.h>

#include <swiftwebhook.h>

static void
fuzz_quiet(void *userdata, int level, const char *message)
{
    (void) userdata;
    (void) level;
    (void) message;
}

/* Starts and stops a config; a refusal must come with a reason. */
static void
fuzz_init_fini(const char *text, const char *name)
{
    char why[1024];
    swiftwebhook *wh = NULL;
    why[0] = '\0';
    webhook_set_log(fuzz_quiet, NULL, SWIFTWEBHOOK_LOG_ERROR);
    if (webhook_init_text(&wh, text, name, why, sizeof why) == SWIFTWEBHOOK_OK) {
        webhook_fini(wh);
    } else if (why[0] == '\0') {
        abort();
    }
}

#endif
