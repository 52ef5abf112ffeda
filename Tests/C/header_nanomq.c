/*
 * header_nanomq.c - both public headers compile in the same file as
 * NanoMQ's own (NanoNNG's conf.h, which NanoMQ's broker.c and
 * webhook_post.c include, declares its own `webhook_event` enum), and
 * neither header's names shadow the other's.
 */
#include <nng/nng.h>
#include <nng/supplemental/nanolib/conf.h>

#include <swiftwebhook.h>
#include <swiftwebhook_loader.h>

#include <stdio.h>
#include <string.h>

int
main(void)
{
    webhook_event nanomq_event = MESSAGE_PUBLISH;      /* NanoMQ's enum */
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;   /* ours */
    swiftwebhook_api api;
    int failed = 0;

    memset(&api, 0, sizeof api);
    ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
    failed += sizeof(nanomq_event) == sizeof(int) ? 0 : 1;
    failed += ev.size == sizeof(swiftwebhook_event) ? 0 : 1;
    failed += (int) nanomq_event == ev.type ? 0 : 1;   /* same numbering, by NanoMQ's design */
    failed += strcmp(webhook_version(), SWIFTWEBHOOK_VERSION) == 0 ? 0 : 1;
    failed += webhook_emit(NULL, &ev) == SWIFTWEBHOOK_EINVAL ? 0 : 1;
    printf("header_nanomq: %d passed, %d failed\n", 5 - failed, failed);
    return failed != 0;
}
