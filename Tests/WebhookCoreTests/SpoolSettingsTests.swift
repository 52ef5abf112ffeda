import Testing
@testable import WebhookCore

/// `spool { dir, max_bytes, durability, sync_interval }`: off by default,
/// every key, and a clear error for each bad value.
@Suite struct SpoolSettingsTests {
    @Test func offByDefaultAndOffWithEnableFalse() throws {
        #expect(try settings("webhook { url = \"http://h/\" }").spool == nil)
        #expect(try settings("webhook { url = \"http://h/\", spool { enable = false, dir = \"/x\" } }").spool == nil)
    }

    @Test func everyKeyAndTheDefaults() throws {
        let defaults = try #require(try settings("webhook { url = \"http://h/\", spool.dir = \"/var/lib/nanomq/spool\" }").spool)
        #expect(defaults == SpoolSettings(directory: "/var/lib/nanomq/spool", origin: "nanomq.conf:1:42: webhook.spool.dir"))
        #expect(defaults.maxBytes == 1 << 30 && defaults.durability == .clean && defaults.syncIntervalMs == 10)
        let s = try #require(try settings("""
            webhook { url = "http://h/"
              spool { dir = "${SPOOL}", max_bytes = 256MB, durability = crash, sync_interval = 50ms } }
            """, env: ["SPOOL": "/data/spool"]).spool)
        #expect(s.directory == "/data/spool" && s.maxBytes == 256 << 20 && s.durability == .crash && s.syncIntervalMs == 50)
        #expect(try settings("webhook { url = \"http://h/\", spool { dir = \"./spool\", durability = power } }").spool?.durability == .power)
    }

    @Test(arguments: [
        ("spool { }", "nanomq.conf:1:46: webhook.spool.dir: spool needs a dir = \"/path/to/a/directory\""),
        ("spool { dir = \"spool\" }", "nanomq.conf:1:54: webhook.spool.dir: expected a path (absolute, or starting with ./), got \"spool\""),
        ("spool { dir = \"/s\", max_bytes = 1KB }", "nanomq.conf:1:72: webhook.spool.max_bytes: expected a size from 64KB to 16TB such as 1GB, got \"1KB\""),
        ("spool { dir = \"/s\", durability = always }", "nanomq.conf:1:73: webhook.spool.durability: expected clean, crash or power, got \"always\""),
        ("spool { dir = \"/s\", sync_interval = 0 }", "nanomq.conf:1:76: webhook.spool.sync_interval: expected a duration such as 5000, 500ms, 5s or 1m (from 1 to 10000 ms), got \"0\""),
        ("spool = \"/s\"", "nanomq.conf:1:48: webhook.spool: expected an object { ... }"),
    ])
    func badValues(_ body: String, _ expected: String) {
        #expect(configError("webhook { url = \"http://127.0.0.1:9/\", \(body) }") == expected)
    }
}
