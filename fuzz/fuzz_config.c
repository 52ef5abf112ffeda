/*
 * fuzz_config.c - libFuzzer target: any bytes as a config through
 * webhook_init_text (HOCON and legacy parsers, the resolver, engine start).
 * Must never crash, hang or leak; a valid config is started and stopped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <swiftwebhook.h>

static void
quiet(void *userdata, int level, const char *message)
{
    (void) userdata;
    (void) level;
    (void) message;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    char why[1024];
    webhook *wh = NULL;
    if (!ready) {
        webhook_set_log(quiet, NULL, WEBHOOK_LOG_ERROR);
        ready = 1;
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    if (webhook_init_text(&wh, text, "fuzz.conf", why, sizeof why) == WEBHOOK_OK) {
        webhook_fini(wh);
    } else if (why[0] == '\0') {
        abort(); /* every failure must say why */
    }
    free(text);
    return 0;
}
