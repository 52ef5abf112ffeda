/*
 * deliver.c - a broker built from the installed packages alone
 * (pkg-config --cflags --libs swiftwebhook, no run path): N publishes to
 * URL, then fini, which drains them. Prints the library's version and
 * its delivered count; exit 0 when every event was delivered.
 *   deliver URL N
 */
#include <stdio.h>
#include <stdlib.h>
#include <swiftwebhook.h>

int
main(int argc, char **argv)
{
    char config[1024], why[512];
    swiftwebhook *wh = NULL;
    int count, rv;
    if (argc != 3 || (count = atoi(argv[2])) <= 0) {
        fprintf(stderr, "usage: deliver URL N\n");
        return 2;
    }
    snprintf(config, sizeof config,
        "webhook {\n url = \"%s\"\n events = [ { event = \"on_message_publish\" } ]\n}\n", argv[1]);
    rv = webhook_init_text(&wh, config, "deliver.conf", why, sizeof why);
    if (rv != SWIFTWEBHOOK_OK) {
        fprintf(stderr, "webhook_init_text: %s: %s\n", webhook_strerror(rv), why);
        return 1;
    }
    for (int i = 0; i < count; i++) {
        char payload[32];
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        int n = snprintf(payload, sizeof payload, "package %d", i);
        ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
        ev.clientid = "deliver";
        ev.topic = "packages/test";
        ev.qos = 1;
        ev.payload = payload;
        ev.payload_len = (size_t) n;
        if ((rv = webhook_emit(wh, &ev)) != SWIFTWEBHOOK_OK) {
            fprintf(stderr, "webhook_emit: %s\n", webhook_strerror(rv));
            return 1;
        }
    }
    webhook_fini(wh); /* drains: every event is answered before it returns */
    printf("libswiftwebhook %s abi %d\n", webhook_version(), webhook_abi_version());
    return 0;
}
