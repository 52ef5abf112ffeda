/*
 * fuzz_config.c - libFuzzer target: any bytes as a config through
 * webhook_init_text (HOCON and legacy parsers, the resolver, engine start).
 * Must never crash, hang or leak; a valid config is started and stopped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_init_fini(text, "fuzz.conf");
    free(text);
    return 0;
}
