/*
 * fork_test.c - a broker that daemonizes after webhook_init: in the child
 * the parent's handle must never lie (ESHUTDOWN, not OK for an event that is
 * never sent) nor hang (fini returns), and a new webhook_init must deliver.
 * The parent's handle keeps working. Both run signed and with a spool that
 * writes every event, so SQLite and mbedtls are loaded afresh in the child.
 *
 * Then the daemon pattern with a spool: a process inits on a spool dir,
 * forks and exits without fini; its child, once the parent is gone, inits
 * on the same dir. The child inherited the parent's lock on that dir; it
 * must not keep it.
 */
#include "testutil.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <swiftwebhook.h>

static const char *config = "webhook {\n  url = \"http://127.0.0.1:%s/hook\"\n  pool_size = 2\n"
                            "  signing.secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n"
                            "  spool { dir = \"%s/%s\", durability = crash }\n"
                            "  events = [ { event = on_message_publish } ]\n}\n";

/* A fresh directory for this run's spools. */
static char base[] = "/tmp/swh_fork_test.XXXXXX";

/* An instance whose spool is `name` in `base`; NULL (with the reason in
 * `why`) if init fails. */
static swiftwebhook *
start_in(const char *name, char *why, size_t size)
{
    char text[1024];
    swiftwebhook *wh = NULL;
    snprintf(text, sizeof text, config, getenv("HOOK_PORT"), base, name);
    if (webhook_init_text(&wh, text, "fork_test.conf", why, size) != SWIFTWEBHOOK_OK) {
        return NULL;
    }
    return wh;
}

static swiftwebhook *
start(const char *name)
{
    char why[512] = "";
    swiftwebhook *wh = start_in(name, why, sizeof why);
    if (wh == NULL) {
        fprintf(stderr, "webhook_init failed: %s\n", why);
    }
    CHECK(wh != NULL);
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
    return stats_of(wh).delivered;
}

static void
wait_delivered(swiftwebhook *wh, uint64_t count)
{
    for (int i = 0; i < 1000 && delivered(wh) < count; i++) {
        sleep_ms(10);
    }
    CHECK_EQ_INT(delivered(wh), count);
}

/* The daemon pattern (see the top). Runs in a child of the test, which is
 * the subreaper that waits for the grandchild. */
static void
daemon_pattern(void)
{
    const char *dir = "daemon";
    pid_t daemonizer = fork();
    if (daemonizer == 0) {
        alarm(60);
        pid_t self = getpid();
        swiftwebhook *first = start(dir);
        CHECK_EQ_INT(emit(first, "before-daemonizing"), SWIFTWEBHOOK_OK);
        wait_delivered(first, 1);
        pid_t daemon = fork();
        if (daemon == 0) {
            alarm(60);
            while (getppid() == self) {
                sleep_ms(10); /* until the parent is gone */
            }
            char why[512] = "";
            swiftwebhook *second = start_in(dir, why, sizeof why);
            if (second == NULL) {
                fprintf(stderr, "the daemon cannot use the spool its parent left: %s\n", why);
            }
            CHECK(second != NULL);
            if (second != NULL) {
                CHECK_EQ_INT(emit(second, "daemonized"), SWIFTWEBHOOK_OK);
                swiftwebhook_stats s = stats_of(second);
                for (int i = 0; i < 1000 && s.delivered < s.matched + s.spool_replayed; i++) {
                    sleep_ms(10);
                    s = stats_of(second);
                }
                CHECK_EQ_INT(s.matched, 1);
                CHECK_EQ_INT(s.delivered, s.matched + s.spool_replayed);
                webhook_fini(second);
            }
            int failed = test_summary("fork_test (daemon)") != 0;
            fflush(stdout); /* _exit() does not */
            _exit(failed);
        }
        _exit(daemon > 0 ? 0 : 1); /* as a daemonizing parent does, without webhook_fini */
    }
    CHECK(daemonizer > 0);
    /* The daemonizer, then the daemon (reparented to this process). */
    for (int waited = 0; waited < 2;) {
        int status = -1;
        pid_t pid = wait(&status);
        if (pid < 0) {
            CHECK(pid >= 0);
            break;
        }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        waited++;
    }
}

int
main(void)
{
    CHECK_EQ_INT(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    CHECK(mkdtemp(base) != NULL);
    swiftwebhook *parent = start("parent");
    CHECK_EQ_INT(emit(parent, "before-fork"), SWIFTWEBHOOK_OK);
    wait_delivered(parent, 1);

    pid_t pid = fork();
    if (pid == 0) {
        alarm(60); /* a hang fails the test instead of stopping the suite */
        CHECK_EQ_INT(emit(parent, "child-old-handle"), SWIFTWEBHOOK_ESHUTDOWN);
        webhook_fini(parent); /* returns at once */
        CHECK_EQ_INT(emit(parent, "child-old-handle"), SWIFTWEBHOOK_ESHUTDOWN);
        /* The parent's spool dir is the parent's while it lives. */
        char why[512] = "";
        CHECK(start_in("parent", why, sizeof why) == NULL);
        CHECK(strstr(why, "in use by another process") != NULL);
        swiftwebhook *child = start("child");
        CHECK_EQ_INT(emit(child, "child-new-handle"), SWIFTWEBHOOK_OK);
        wait_delivered(child, 1);
        webhook_fini(child);
        int failed = test_summary("fork_test (child)") != 0;
        fflush(stdout); /* _exit() does not */
        _exit(failed);
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
    daemon_pattern();
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", base);
    CHECK_EQ_INT(system(command), 0);
    return test_summary("fork_test");
}
