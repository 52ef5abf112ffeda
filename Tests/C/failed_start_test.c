/*
 * failed_start_test.c - webhook_init calls whose config is valid but whose
 * start fails (a URL nng refuses, a CA file that is not one, a spool
 * directory that cannot be made), run under valgrind by ctest: nothing may
 * leak. In the Embedded build each such failure leaked about 1 KB (a class
 * initializer that throws half-way is never freed there) until the library's
 * classes stopped throwing half-way; the fuzzer found it.
 */
#include "testutil.h"

#include <swiftwebhook.h>

int
main(void)
{
    static const char *const configs[] = {
        "web.hook.url=http://8?%\n",
        "webhook { url = \"https://127.0.0.1:1/\", tls { cacertfile = \"/etc/hostname\" } }",
        "webhook { url = \"http://127.0.0.1:1/\", spool { dir = \"/proc/no/such/dir\" } }",
    };
    webhook_set_log(NULL, NULL, SWIFTWEBHOOK_LOG_ERROR);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
            swiftwebhook *wh = NULL;
            char why[512] = "";
            CHECK_EQ_INT(webhook_init_text(&wh, configs[i], "failed.conf", why, sizeof why), SWIFTWEBHOOK_ESTART);
            CHECK(wh == NULL);
        }
    }
    return test_summary("failed_start");
}
