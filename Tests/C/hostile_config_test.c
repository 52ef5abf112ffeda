/*
 * hostile_config_test.c - configs a careless operator or a hostile file
 * hands the library, seen from a broker (hostile round 3, rows 2 and 4):
 *   - a dotted key of 50,000 parts, and nesting carried through 16 included
 *     files, given to webhook_init on threads with 256 KB and 128 KB stacks
 *     (a broker calls init on whatever thread it likes): an error, no crash;
 *     the deepest config allowed (64 levels) loads on the same stacks;
 *   - a NUL byte in the file: the whole reason is in the caller's buffer,
 *     the byte written \x00.
 */
#include "testutil.h"

#include <pthread.h>
#include <swiftwebhook.h>

static char dir[] = "/tmp/swh-hostile-XXXXXX";

struct init_call {
    const char *path;
    int rc;
    char why[1024];
};

static void *
run_init(void *argument)
{
    struct init_call *call = argument;
    swiftwebhook *wh = NULL;
    call->rc = webhook_init(&wh, call->path, call->why, sizeof call->why);
    webhook_fini(wh);
    return NULL;
}

/* webhook_init on a thread of its own with `stack` bytes of stack. */
static struct init_call
init_on_stack(const char *path, size_t stack)
{
    struct init_call call = {path, -1, ""};
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    if (pthread_create(&thread, &attr, run_init, &call) == 0) {
        pthread_join(thread, NULL);
    }
    pthread_attr_destroy(&attr);
    return call;
}

static void
write_file(const char *name, const char *text, size_t length)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, length, f);
    fclose(f);
}

static char *
path_of(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

int
main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    webhook_set_log(NULL, NULL, SWIFTWEBHOOK_LOG_ERROR);

    /* A dotted key of 50,000 parts inside webhook {}. */
    size_t parts = 50000;
    char *key = malloc(parts * 2 + 256);
    strcpy(key, "webhook {\n  url = \"http://127.0.0.1:9/\"\n  ");
    char *end = key + strlen(key);
    for (size_t i = 0; i < parts; i++) {
        if (i > 0) *end++ = '.';
        *end++ = 'a';
    }
    strcpy(end, " = 1\n}\n");
    write_file("dotted.conf", key, strlen(key));
    free(key);

    /* 16 files, each 8 levels deep, including the next: 128 levels. */
    char text[512];
    for (int i = 0; i < 16; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d.conf", i);
        if (i < 15) {
            snprintf(text, sizeof text, "n { n { n { n { n { n { n { n {\ninclude \"f%d.conf\"\n} } } } } } } }\n", i + 1);
        } else {
            snprintf(text, sizeof text, "n { n { n { n { n { n { n { n { deepest = 1 } } } } } } } }\n");
        }
        write_file(name, text, strlen(text));
    }
    const char *including = "include \"f0.conf\"\nwebhook { url = \"http://127.0.0.1:9/\" }\n";
    write_file("including.conf", including, strlen(including));

    /* The deepest allowed: 62 levels under webhook {}. */
    char deep[1024] = "webhook {\n  url = \"http://127.0.0.1:9/\"\n  ";
    for (int i = 0; i < 62; i++) strcat(deep, "a {");
    strcat(deep, " b = 1 ");
    for (int i = 0; i < 62; i++) strcat(deep, "}");
    strcat(deep, "\n}\n");
    write_file("deep.conf", deep, strlen(deep));

    size_t stacks[] = {256 << 10, 128 << 10};
    for (size_t s = 0; s < sizeof stacks / sizeof stacks[0]; s++) {
        struct init_call dotted = init_on_stack(path_of("dotted.conf"), stacks[s]);
        CHECK_EQ_INT(dotted.rc, SWIFTWEBHOOK_ECONFIG);
        CHECK(strstr(dotted.why, "dotted.conf:3:") != NULL && strstr(dotted.why, "a dotted key nests deeper than 64 levels") != NULL);

        struct init_call included = init_on_stack(path_of("including.conf"), stacks[s]);
        CHECK_EQ_INT(included.rc, SWIFTWEBHOOK_ECONFIG);
        CHECK(strstr(included.why, "f7.conf:1:") != NULL && strstr(included.why, "nest deeper than 64 levels") != NULL);

        struct init_call allowed = init_on_stack(path_of("deep.conf"), stacks[s]);
        CHECK_EQ_INT(allowed.rc, SWIFTWEBHOOK_OK);
        if (allowed.rc != SWIFTWEBHOOK_OK) fprintf(stderr, "deep.conf: %s\n", allowed.why);
    }

    /* A NUL byte in the file (line 5, in a value). */
    const char nul[] = "webhook {\n  url = \"http://127.0.0.1:9/\"\n  events = [ { event = on_message_publish } ]\n  body {\n    encoding = pl\0ain\n  }\n}\n";
    write_file("nul2.conf", nul, sizeof nul - 1);
    swiftwebhook *wh = NULL;
    char why[512];
    CHECK_EQ_INT(webhook_init(&wh, path_of("nul2.conf"), why, sizeof why), SWIFTWEBHOOK_ECONFIG);
    CHECK(strstr(why, "nul2.conf:5:16: webhook.body.encoding: expected plain, base64 or base62, got \"pl\\x00ain\"") != NULL);
    if (strstr(why, "got") == NULL) fprintf(stderr, "nul2.conf: %s\n", why);

    char command[300];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary("hostile_config");
}
