import Testing
@testable import WebhookCore

@Suite struct SettingsTests {
    @Test func defaultsFromTheSpec() throws {
        let s = try settings("webhook { url = \"http://127.0.0.1:80\" }")
        #expect(s.enabled)
        #expect(s.url == EndpointURL(scheme: "http", host: "127.0.0.1", port: 80, target: "/"))
        #expect(s.headers == [HTTPHeader(name: "content-type", value: "application/json")])
        #expect(s.encoding == .plain)
        #expect(s.poolSize == 32)
        #expect(s.cancelTimeoutMs == 5000)
        #expect(s.tls == nil)
        #expect(s.rules.isEmpty)
        #expect(s.retry == RetryPolicy())
        #expect(s.retry.maxAttempts == 0 && s.retry.maxElapsedMs == 600_000 && s.retry.initialBackoffMs == 100 && s.retry.maxBackoffMs == 10_000)
        #expect(s.queue.maxEvents == 100_000 && s.queue.maxBytes == 64 << 20 && s.queue.overflow == .dropNew)
        #expect(s.ordering == .perClient)
        #expect(s.drainTimeoutMs == 5000)
        #expect(s.deliveryNice == 10)
        #expect(try settings("webhook { url = \"http://h/\", delivery_nice = 0 }").deliveryNice == 0)
    }

    @Test func retryIsBoundedByTimeNotByCountByDefault() {
        var policy = RetryPolicy()
        #expect(policy.allowsRetry(afterAttempts: 1_000, elapsedMs: 599_999))
        #expect(!policy.allowsRetry(afterAttempts: 2, elapsedMs: 600_001))
        policy.maxAttempts = 3
        #expect(policy.allowsRetry(afterAttempts: 2, elapsedMs: 0))
        #expect(!policy.allowsRetry(afterAttempts: 3, elapsedMs: 0))
        policy.maxAttempts = 0
        policy.maxElapsedMs = 0
        #expect(policy.allowsRetry(afterAttempts: 1_000_000, elapsedMs: Int.max))
        #expect(policy.retryAfterDelayMs(seconds: 3) == 3_000)
        #expect(policy.retryAfterDelayMs(seconds: 3600) == 60_000)
        #expect(policy.retryAfterDelayMs(seconds: Int.max) == 60_000)
    }

    @Test func everyKeyOfTheFullFixture() throws {
        let s = try ConfigLoader(environment: Environment(["WEBHOOK_TOKEN": "tok"])).settings(path: fixtures + "/nanomq.conf")
        #expect(s.url.description == "http://127.0.0.1:18081/hook?src=edge1")
        #expect(s.url.target == "/hook?src=edge1")
        #expect(s.headers == [
            HTTPHeader(name: "content-type", value: "application/json"),
            HTTPHeader(name: "authorization", value: "Bearer tok"),
            HTTPHeader(name: "x.api.key", value: "abc"),
        ])
        #expect(s.encoding == .base64)
        #expect(s.poolSize == 16, "the later webhook.pool_size wins")
        #expect(s.cancelTimeoutMs == 2000)
        #expect(s.rules.rules.count == 5)
        #expect(s.rules.rules.map(\.kind) == [.messagePublish, .messagePublish, .clientConnack, .clientDisconnected, .clientSubscribe])
        #expect(s.rules.rules.first?.topic?.description == "a/+/c")
        #expect(s.retry.maxAttempts == 3 && s.retry.maxElapsedMs == 90_000 && s.retry.initialBackoffMs == 50 && s.retry.maxBackoffMs == 2000)
        #expect(s.queue.maxEvents == 5000 && s.queue.maxBytes == 8 << 20 && s.queue.overflow == .dropOld)
        #expect(s.ordering == Ordering.none)
        #expect(s.drainTimeoutMs == 3000)
        #expect(s.warnings.isEmpty, "\(s.warnings)")
    }

    @Test func legacyFormatWithRulesAndOldSpellings() throws {
        let loaded = try ConfigLoader(environment: Environment([:])).load(path: fixtures + "/legacy.conf")
        #expect(loaded.syntax == .legacy)
        let s = try SettingsResolver.settings(from: loaded)
        #expect(s.url.description == "http://127.0.0.1:8888/hooks?x=1")
        #expect(s.headers == [HTTPHeader(name: "content-type", value: "application/json"), HTTPHeader(name: "accept", value: "*/*")])
        #expect(s.encoding == .base62)
        #expect(s.poolSize == 4)
        #expect(s.rules.rules.map(\.kind) == [.clientConnack, .clientDisconnected, .messagePublish, .messagePublish, .sessionTerminated])
        #expect(s.rules.rules.compactMap(\.topic?.description) == ["a/b/c", "foo/#"])
    }

    @Test func emqxEarlySpellingsAndTLSKeys() throws {
        let pem = fixtures + "/legacy.conf"  // any readable file stands in for a PEM here
        let s = try settings("""
            web.hook.api.url = https://hooks.example.com:8443/mqtt
            web.hook.encode_payload = base64
            web.hook.ssl.cacertfile = \(pem)
            web.hook.ssl.certfile = \(pem)
            web.hook.ssl.keyfile = \(pem)
            web.hook.ssl.verify = false
            web.hook.ssl.server_name_indication = other.example.com
            web.hook.retry.max_attempts = 2
            node.name = emqx@127.0.0.1
            """)
        #expect(s.url.isTLS && s.url.port == 8443 && s.url.host == "hooks.example.com")
        #expect(s.encoding == .base64)
        #expect(s.tls?.caFile == pem && s.tls?.certFile == pem && s.tls?.keyFile == pem)
        #expect(s.tls?.verifyPeer == false)
        #expect(s.tls?.serverName == "other.example.com")
        #expect(s.retry.maxAttempts == 2)
    }

    @Test func tlsBlockUnderEitherName() throws {
        let pem = fixtures + "/legacy.conf"
        for block in ["tls", "ssl"] {
            let s = try settings("""
                webhook {
                  url = "https://h.example:8443/x"
                  \(block) { cacertfile = "\(pem)", key_password = "pw", verify_peer = on }
                }
                """)
            #expect(s.tls?.caFile == pem)
            #expect(s.tls?.keyPassword == "pw")
            #expect(s.tls?.verifyPeer == true)
            #expect(s.tls?.serverName == "h.example")
        }
    }

    @Test func httpsWithoutCAUsesTheSystemBundle() throws {
        let s = try settings("webhook { url = \"https://h.example/\" }")
        #expect(s.tls?.caFile == SettingsResolver.systemCABundle)
        #expect(s.url.port == 443)
    }

    @Test func disabledSectionNeedsNoURL() throws {
        let s = try settings("webhook { enable = false }")
        #expect(!s.enabled)
    }

    @Test func durationsSizesAndBooleans() throws {
        #expect(Units.durationMilliseconds("5000") == 5000)
        #expect(Units.durationMilliseconds("500ms") == 500)
        #expect(Units.durationMilliseconds("5s") == 5000)
        #expect(Units.durationMilliseconds("1.5s") == 1500)
        #expect(Units.durationMilliseconds("5m") == 300_000)
        #expect(Units.durationMilliseconds("1h") == 3_600_000)
        #expect(Units.durationMilliseconds("-1s") == nil)
        #expect(Units.durationMilliseconds("s") == nil)
        #expect(Units.durationMilliseconds("5 parsecs") == nil)
        #expect(Units.sizeBytes("10KB") == Int64(10 * 1024))
        #expect(Units.sizeBytes("1MB") == Int64(1) << 20)
        #expect(Units.sizeBytes("2gb") == Int64(2) << 30)
        #expect(Units.sizeBytes("512") == Int64(512))
        #expect(Units.sizeBytes("1.x") == nil)
        // Fractions in integers, rounded half up, exact at any length.
        #expect(Units.durationMilliseconds("0.0005s") == 1)
        #expect(Units.durationMilliseconds("0.0004999s") == 0)
        #expect(Units.durationMilliseconds("2.999999999999999999999s") == 3000)
        #expect(Units.sizeBytes("1.5kb") == Int64(1536))
        #expect(Units.sizeBytes("0.999999999999999999gb") == Int64(1) << 30)
        #expect(Units.sizeBytes("3.0000000001gb") == Int64(3) << 30)
        for yes in ["true", "on", "yes", "TRUE"] { #expect(Units.boolean(yes) == true) }
        for no in ["false", "off", "no", "No"] { #expect(Units.boolean(no) == false) }
        #expect(Units.boolean("1") == nil)
    }

    @Test func urls() throws {
        #expect(try EndpointURL.parse("http://[::1]:8080/a?b=c").get() == EndpointURL(scheme: "http", host: "::1", port: 8080, target: "/a?b=c"))
        #expect(try EndpointURL.parse("http://h?x=1").get().target == "/?x=1")
        #expect(try EndpointURL.parse("HTTPS://h/p#frag").get() == EndpointURL(scheme: "https", host: "h", port: 443, target: "/p"))
        #expect(try EndpointURL.parse("http://[::1]:8080/a").get().description == "http://[::1]:8080/a")
    }
}
