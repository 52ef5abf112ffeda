/* Both public headers compile as strict C99 with every warning an error. */
#include <swiftwebhook.h>
#include <swiftwebhook_loader.h>

int
main(void)
{
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    swiftwebhook_api api;
    (void) api;
    return ev.size == sizeof(swiftwebhook_event) && SWIFTWEBHOOK_ABI_VERSION == 1 ? 0 : 1;
}
