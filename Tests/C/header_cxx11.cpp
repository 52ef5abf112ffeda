// Both public headers compile as C++11 with every warning an error.
#include <swiftwebhook.h>
#include <swiftwebhook_loader.h>

int main()
{
    swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
    ev.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
    swiftwebhook_api api = swiftwebhook_api();
    (void) api;
    return ev.size == sizeof(swiftwebhook_event) ? 0 : 1;
}
