// NanoMQ's plugin loader (`plugin { libs = [{ path = ... }] }`, built with
// ENABLE_PLUGIN) dlopens each library and calls `nano_plugin_init()`. That
// API cannot carry a webhook: it passes no config, and its only hook point
// (HOOK_USER_PROPERTY, NanoMQ 0.25) is called while a v5 PUBLISH is
// forwarded, with nothing but two out-pointers for a user property to add:
// no client, topic, payload, nor any of the other eleven events. So the
// library answers with the reason and the way that works, instead of
// NanoMQ's bare "plugin_init: parse: ... failed".
import WebhookEngine

/// The reason, once (docs/nanomq.md quotes it).
let nanoPluginRefusal = """
    libswiftwebhook cannot run as a NanoMQ plugin: NanoMQ's plugin API (plugin.libs) passes no config and \
    calls its one hook (HOOK_USER_PROPERTY) without client, topic or payload, so no webhook event can reach it. \
    Remove it from plugin.libs and build NanoMQ with brokers/nanomq/patch, which loads the library itself \
    (see docs/nanomq.md)
    """

@_cdecl("nano_plugin_init")
public func swiftwebhook_nano_plugin_init() -> Int32 {
    LogRouting.write(.error, nanoPluginRefusal)
    return -1
}
