/*
 * tls_shared_nng_test.c - a host that loaded Debian's libnng itself, before
 * the library (hostile round 3, row 6). The library then shares that libnng
 * and leaves its TLS engine alone (the check of a certificate's IP
 * addresses is not installed into a host's nng), so for an https:// URL to
 * an IP address it says at start what will fail and what to set.
 */
#include "testutil.h"

#include <dlfcn.h>
#include <pthread.h>
#include <swiftwebhook.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char warnings[4096];

static void
capture(void *userdata, int level, const char *message)
{
    (void) userdata;
    pthread_mutex_lock(&lock);
    if (level == SWIFTWEBHOOK_LOG_WARNING && strlen(warnings) + strlen(message) + 2 < sizeof warnings) {
        strcat(warnings, message);
        strcat(warnings, "\n");
    }
    pthread_mutex_unlock(&lock);
}

int
main(void)
{
    void *nng = dlopen("libnng.so.1", RTLD_NOW | RTLD_GLOBAL);
    CHECK(nng != NULL);
    webhook_set_log(capture, NULL, SWIFTWEBHOOK_LOG_WARNING);

    swiftwebhook *wh = NULL;
    char why[512] = "";
    const char *config =
        "webhook {\n"
        "  url = \"https://127.0.0.1:9/hook\"\n"
        "  events = [ { event = on_message_publish } ]\n"
        "  tls { cacertfile = \"/etc/ssl/certs/ca-certificates.crt\" }\n"
        "}\n";
    CHECK_EQ_INT(webhook_init_text(&wh, config, "shared.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    webhook_fini(wh);
    pthread_mutex_lock(&lock);
    CHECK(strstr(warnings, "names an IP address, and this libnng cannot check a certificate's IP addresses") != NULL);
    CHECK(strstr(warnings, "Set tls.server_name to a DNS name") != NULL);
    if (strstr(warnings, "names an IP address") == NULL) fprintf(stderr, "warnings: %s\n", warnings);
    pthread_mutex_unlock(&lock);

    /* A DNS name in the URL needs nothing of it: no such warning. */
    warnings[0] = '\0';
    const char *named =
        "webhook {\n"
        "  url = \"https://localhost:9/hook\"\n"
        "  tls { cacertfile = \"/etc/ssl/certs/ca-certificates.crt\" }\n"
        "}\n";
    CHECK_EQ_INT(webhook_init_text(&wh, named, "named.conf", why, sizeof why), SWIFTWEBHOOK_OK);
    webhook_fini(wh);
    CHECK(strstr(warnings, "names an IP address") == NULL);
    return test_summary("tls_shared_nng");
}
