/*
 * fork_test.c - a broker that daemonizes after webhook_init: in the child
 * the parent's handle must never lie (ESHUTDOWN, not OK for an event that is
 * never sent) nor hang (fini returns), and a new webhook_init must deliver.
 * The parent's handle keeps working.
 */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>

#include <swiftwebhook.h>

static const char *config = "webhook {\n  url = \"http://127.0.0.1:%s/hook\"\n  pool_size = 2\n"
                            "  events = [ { event = on_message_publish } ]\n}\n";

static swiftwebhook *
start(void)
{
    char text[512], why[512];
    swiftwebhook *wh = NULL;
    snprintf(text, sizeof text, config, getenv("HOOK_PORT"));
    CHECK_EQ_INT(webhook_init_text(&wh, text, "fork_test.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    return wh;
}

static int
emit(swiftwebhook *wh, const char *payload)
{
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
    ev.clientid = "forker";
    ev.topic = "fork/test";
    ev.payload = payload;
    ev.payload_len = strlen(payload);
    return webhook_emit(wh, &ev);
}

static uint64_t
delivered(swiftwebhook *wh)
{
    swiftwebhook_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.size = sizeof stats;
    return webhook_get_stats(wh, &stats) == SWIFTWEBHOOK_OK ? stats.delivered : 0;
}

static void
wait_delivered(swiftwebhook *wh, uint64_t count)
{
    for (int i = 0; i < 1000 && delivered(wh) < count; i++) {
        sleep_ms(10);
    }
    CHECK_EQ_INT(delivered(wh), count);
}

int
main(void)
{
    swiftwebhook *parent = start();
    CHECK_EQ_INT(emit(parent, "before-fork"), SWIFTWEBHOOK_OK);
    wait_delivered(parent, 1);

    pid_t pid = fork();
    if (pid == 0) {
        alarm(60); /* a hang fails the test instead of stopping the suite */
        CHECK_EQ_INT(emit(parent, "child-old-handle"), SWIFTWEBHOOK_ESHUTDOWN);
        webhook_fini(parent); /* returns at once */
        CHECK_EQ_INT(emit(parent, "child-old-handle"), SWIFTWEBHOOK_ESHUTDOWN);
        swiftwebhook *child = start();
        CHECK_EQ_INT(emit(child, "child-new-handle"), SWIFTWEBHOOK_OK);
        wait_delivered(child, 1);
        webhook_fini(child);
        _exit(test_summary("fork_test (child)") == 0 ? 0 : 1);
    }
    CHECK(pid > 0);
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK_EQ_INT(emit(parent, "parent-after-fork"), SWIFTWEBHOOK_OK);
    wait_delivered(parent, 2);
    webhook_fini(parent);

    char *requests = hook_get("/_control/requests");
    CHECK(requests != NULL);
    if (requests != NULL) {
        CHECK_EQ_INT(count_occurrences(requests, "\"method\": \"POST\""), 3);
        free(requests);
    }
    return test_summary("fork_test");
}
