/* A broker linked through find_package(swiftwebhook) or pkg-config: init, emit, fini. */
#include <stdio.h>
#include <swiftwebhook.h>

int
main(void)
{
    char why[256];
    swiftwebhook *wh = NULL;
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    int rv = webhook_init_text(&wh, "webhook { enable = false }", "consumer.conf", why, sizeof why);
    if (rv != SWIFTWEBHOOK_OK) {
        fprintf(stderr, "webhook_init_text: %s: %s\n", webhook_strerror(rv), why);
        return 1;
    }
    ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
    rv = webhook_emit(wh, &ev);
    webhook_fini(wh);
    printf("consumer: linked libswiftwebhook %s, emit says \"%s\"\n", webhook_version(), webhook_strerror(rv));
    return rv == SWIFTWEBHOOK_FILTERED ? 0 : 1;
}
