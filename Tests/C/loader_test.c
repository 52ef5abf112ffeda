/*
 * loader_test.c - a broker that loads the library at run time, as NanoMQ
 * loads plugins: dlopen(RTLD_NOW | RTLD_LOCAL) through swiftwebhook_loader.h,
 * init from a nanomq.conf, every event type to a real HTTP server, fini,
 * and a look at what the server received.
 *
 *     loader_test /path/to/libswiftwebhook.so
 */
#include "testutil.h"

#include <swiftwebhook_loader.h>

int
main(int argc, char **argv)
{
    swiftwebhook_api api;
    char why[512];
    swiftwebhook *wh = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: loader_test LIBRARY\n");
        return 2;
    }

    /* Clear errors for a missing file and a library without our symbols. */
    CHECK_EQ_INT(swiftwebhook_load(&api, "/nonexistent/libswiftwebhook.so", why, sizeof why), SWIFTWEBHOOK_EINVAL);
    CHECK(strstr(why, "cannot load /nonexistent/libswiftwebhook.so") == why);
    CHECK(api.library == NULL);
    CHECK_EQ_INT(swiftwebhook_load(&api, "libm.so.6", why, sizeof why), SWIFTWEBHOOK_EINVAL);
    CHECK(strstr(why, "symbol webhook_abi_version not found") == why);
    CHECK_EQ_INT(swiftwebhook_load(NULL, argv[1], why, sizeof why), SWIFTWEBHOOK_EINVAL);

    CHECK_EQ_INT(swiftwebhook_load(&api, argv[1], why, sizeof why), 0);
    if (api.library == NULL) {
        fprintf(stderr, "load failed: %s\n", why);
        return test_summary("loader_test");
    }
    CHECK(strcmp(api.version(), SWIFTWEBHOOK_VERSION) == 0);

    write_config("loader_test.conf",
        "    headers.x-broker = nanomq\n"
        "    body.encoding = plain\n"
        "    events = [\n"
        "        { event = on_client_connect }\n        { event = on_client_connack }\n"
        "        { event = on_client_connected }\n      { event = on_client_disconnected }\n"
        "        { event = on_client_subscribe, topic = \"cmd/#\" }\n"
        "        { event = on_client_unsubscribe }\n    { event = on_session_subscribed }\n"
        "        { event = on_session_unsubscribed }\n  { event = on_session_terminated }\n"
        "        { event = on_message_publish, topic = \"a/+\" }\n"
        "        { event = on_message_delivered }\n     { event = on_message_acked }\n"
        "    ]\n");
    CHECK_EQ_INT(api.init(&wh, "loader_test.conf", why, sizeof why), SWIFTWEBHOOK_OK);

    static const char *actions[SWIFTWEBHOOK_EVENT_TYPE_COUNT] = {
        "client_connect", "client_connack", "client_connected", "client_disconnected",
        "client_subscribe", "client_unsubscribe", "session_subscribed", "session_unsubscribed",
        "session_terminated", "message_publish", "message_delivered", "message_acked",
    };
    for (int type = 0; type < SWIFTWEBHOOK_EVENT_TYPE_COUNT; type++) {
        swiftwebhook_event ev = SWIFTWEBHOOK_EVENT_INIT;
        ev.type = type;
        ev.clientid = "dev-42";
        ev.username = "alice";
        ev.peer_address = "10.1.2.3:40000";
        ev.proto_ver = 5;
        ev.keepalive = 30;
        ev.topic = type == SWIFTWEBHOOK_CLIENT_SUBSCRIBE ? "cmd/dev-42" : "a/b";
        ev.qos = 1;
        ev.payload = "temp=21";
        ev.payload_len = 7;
        ev.from_clientid = "pub-7";
        ev.from_username = "bob";
        CHECK_EQ_INT(api.emit(wh, &ev), SWIFTWEBHOOK_OK);
    }
    /* A topic the rule does not match. */
    swiftwebhook_event other = SWIFTWEBHOOK_EVENT_INIT;
    other.type = SWIFTWEBHOOK_MESSAGE_PUBLISH;
    other.topic = "b/c";
    CHECK_EQ_INT(api.emit(wh, &other), SWIFTWEBHOOK_FILTERED);

    /* 1.3.0's and 1.4.0's optional functions are resolved from a 1.4 library. */
    CHECK(api.get_metrics != NULL && api.reload != NULL && api.get_endpoint_stats != NULL);
    if (api.get_endpoint_stats != NULL) {
        swiftwebhook_stats one;
        memset(&one, 0, sizeof one);
        one.size = sizeof one;
        char name[16];
        CHECK_EQ_INT(api.get_endpoint_stats(wh, 0, &one, name, sizeof name), SWIFTWEBHOOK_OK);
        CHECK(strcmp(name, "default") == 0 && one.endpoints == 1);
    }
    if (api.get_metrics != NULL) {
        size_t needed = 0;
        CHECK_EQ_INT(api.get_metrics(wh, NULL, 0, &needed), SWIFTWEBHOOK_ETOOSMALL);
        CHECK(needed > 100);
    }

    api.fini(wh); /* drains: everything queued is delivered before it returns */

    char *requests = hook_get("/_control/requests");
    CHECK(requests != NULL);
    CHECK_EQ_INT(count_occurrences(requests, "\"method\": \"POST\""), SWIFTWEBHOOK_EVENT_TYPE_COUNT);
    CHECK_EQ_INT(count_occurrences(requests, "[\"x-broker\", \"nanomq\"]"), SWIFTWEBHOOK_EVENT_TYPE_COUNT);
    free(requests);

    /* Bodies are base64 in the control listing; decode what we check. */
    char *decoded = NULL;
    {
        FILE *pipe = popen("python3 -c \"import json,base64,sys,urllib.request;"
                           "[print(base64.b64decode(r['body']).decode()) for r in json.load(urllib.request.urlopen("
                           "'http://127.0.0.1:'+sys.argv[1]+'/_control/requests'))]\" \"$HOOK_PORT\"", "r");
        size_t size = 0, capacity = 65536;
        decoded = calloc(1, capacity);
        if (pipe != NULL && decoded != NULL) {
            size = fread(decoded, 1, capacity - 1, pipe);
            decoded[size] = '\0';
            pclose(pipe);
        }
    }
    CHECK(decoded != NULL);
    for (int type = 0; type < SWIFTWEBHOOK_EVENT_TYPE_COUNT; type++) {
        char action[64];
        snprintf(action, sizeof action, "\"action\":\"%s\"", actions[type]);
        CHECK_EQ_INT(count_occurrences(decoded, action), 1);
    }
    CHECK(strstr(decoded, "{\"action\":\"client_connect\",\"clientid\":\"dev-42\",\"username\":\"alice\","
                          "\"ipaddress\":\"10.1.2.3\",\"keepalive\":30,\"proto_ver\":5}") != NULL);
    CHECK(strstr(decoded, "\"action\":\"message_publish\",\"from_username\":\"alice\",\"from_client_id\":\"dev-42\","
                          "\"payload\":\"temp=21\"}") != NULL);
    free(decoded);

    swiftwebhook_unload(&api);
    CHECK(api.library == NULL);
    remove("loader_test.conf");
    return test_summary("loader_test");
}
