/*
 * cycles_test.c - init -> emit -> fini, over and over in one process, as a
 * broker that reloads its config would. After warm-up, resident memory,
 * open file descriptors and threads must stay flat.
 *
 * Under qemu-user (SWH_EMULATOR set, the arm64 run) the process's resident
 * memory is mostly qemu's translated code, which grows as it likes: the
 * memory measured there is what malloc holds (mallinfo2), the library's.
 *
 *     cycles_test [CYCLES]       (default 1000; valgrind runs use fewer)
 */
#include "testutil.h"

#include <dirent.h>
#include <malloc.h>

#include <swiftwebhook.h>

/* KiB of memory in use: resident, or (emulated) what malloc holds. */
static long memory_kib(void);

static long
status_field(const char *name)
{
    char line[256];
    long value = -1;
    size_t length = strlen(name);
    FILE *file = fopen("/proc/self/status", "r");
    while (file != NULL && fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, name, length) == 0) {
            value = strtol(line + length, NULL, 10);
        }
    }
    if (file != NULL) {
        fclose(file);
    }
    return value;
}

static int
open_fds(void)
{
    int count = 0;
    DIR *dir = opendir("/proc/self/fd");
    while (dir != NULL && readdir(dir) != NULL) {
        count++;
    }
    if (dir != NULL) {
        closedir(dir);
    }
    return count;
}

static void
cycle(const char *config)
{
    char why[512];
    swiftwebhook *wh = NULL;
    if (webhook_init_text(&wh, config, "cycles.conf", why, sizeof why) != SWIFTWEBHOOK_OK) {
        fprintf(stderr, "init: %s\n", why);
        exit(1);
    }
    for (int i = 0; i < 5; i++) {
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
        ev.clientid = i % 2 ? "a" : "b";
        ev.topic = "cycles/t";
        ev.payload = "payload";
        ev.payload_len = 7;
        webhook_emit(wh, &ev);
    }
    webhook_fini(wh); /* drains: the five are delivered first */
}

static long
memory_kib(void)
{
    if (getenv("SWH_EMULATOR") != NULL) {
        struct mallinfo2 info = mallinfo2();
        return (long) ((info.uordblks + info.hblkhd) / 1024);
    }
    return status_field("VmRSS:");
}

int
main(int argc, char **argv)
{
    int cycles = argc > 1 ? atoi(argv[1]) : 1000;
    int warmup = cycles / 10;
    char config[512];
    snprintf(config, sizeof config,
        "webhook {\n url = \"http://127.0.0.1:%d/hook\"\n pool_size = 4\n"
        " events = [ { event = on_message_publish } ] }", hook_port());

    for (int i = 0; i < warmup; i++) {
        cycle(config);
    }
    long rss_before = memory_kib();
    long threads_before = status_field("Threads:");
    int fds_before = open_fds();
    for (int i = warmup; i < cycles; i++) {
        cycle(config);
    }
    long rss_after = memory_kib();
    /* A thread joined a moment ago is still counted until the kernel has
     * released it; give the count a moment to settle (a leak would be one
     * thread per cycle, and never settle). */
    long threads_after = status_field("Threads:");
    for (int i = 0; i < 200 && threads_after > threads_before; i++) {
        sleep_ms(10);
        threads_after = status_field("Threads:");
    }
    int fds_after = open_fds();
    printf("after %d cycles: RSS %ld -> %ld KiB, threads %ld -> %ld, fds %d -> %d\n", cycles, rss_before, rss_after,
        threads_before, threads_after, fds_before, fds_after);

    char *stats = hook_get("/_control/stats");
    CHECK(stats != NULL && strstr(stats, "\"requests\": ") != NULL);
    if (stats != NULL) {
        char expected[64];
        snprintf(expected, sizeof expected, "\"requests\": %d", cycles * 5);
        CHECK(strstr(stats, expected) != NULL); /* every event of every cycle arrived */
        free(stats);
    }
    /* A leak adds a thread per cycle (900 here). Fewer is no leak: under
     * qemu-user the count includes qemu's own threads, which come and go. */
    CHECK(threads_after <= threads_before);
    if (threads_after > threads_before) {
        /* Name the threads, so a leak says whose it is. */
        DIR *tasks = opendir("/proc/self/task");
        struct dirent *entry;
        while (tasks != NULL && (entry = readdir(tasks)) != NULL) {
            char path[300], name[64] = "";
            snprintf(path, sizeof path, "/proc/self/task/%s/comm", entry->d_name);
            FILE *f = fopen(path, "r");
            if (f != NULL) {
                if (fgets(name, sizeof name, f) != NULL) fprintf(stderr, "thread %s: %s", entry->d_name, name);
                fclose(f);
            }
        }
        if (tasks != NULL) closedir(tasks);
    }
    /* nng closes sockets on its reaper thread, so one may still be closing
     * at either reading; a leak would add one per cycle (900 here). */
    CHECK(fds_after <= fds_before + 2);
    CHECK(rss_after - rss_before < 8 * 1024); /* under 8 MiB over 900 cycles: no per-cycle leak */
    return test_summary("cycles_test");
}
