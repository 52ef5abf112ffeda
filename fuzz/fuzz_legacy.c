/*
 * fuzz_legacy.c - libFuzzer target for the legacy web.hook.* parser: every
 * input line becomes "web.hook.<line>", which steers syntax detection to
 * the key-value format (rules with JSON values, renamed keys, ${VAR}).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char prefix[] = "web.hook.";
    /* At worst every byte starts a line: room for a prefix per byte. */
    char *text = malloc(size * (sizeof prefix) + sizeof prefix + 1);
    size_t n = 0;
    memcpy(text, prefix, sizeof prefix - 1);
    n += sizeof prefix - 1;
    for (size_t i = 0; i < size; i++) {
        text[n++] = (char) data[i];
        if (data[i] == '\n') {
            memcpy(text + n, prefix, sizeof prefix - 1);
            n += sizeof prefix - 1;
        }
    }
    text[n] = '\0';
    fuzz_init_fini(text, "fuzz-legacy.conf");
    free(text);
    return 0;
}
