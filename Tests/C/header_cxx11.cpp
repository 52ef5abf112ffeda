// Both public headers compile as C++11 with every warning an error.
#include <swiftwebhook.h>
#include <swiftwebhook_loader.h>

int main()
{
    webhook_event ev = WEBHOOK_EVENT_INIT;
    ev.type = WEBHOOK_MESSAGE_PUBLISH;
    swiftwebhook_api api = swiftwebhook_api();
    (void) api;
    return ev.size == sizeof(webhook_event) ? 0 : 1;
}
