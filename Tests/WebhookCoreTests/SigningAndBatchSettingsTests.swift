import Testing
@testable import WebhookCore

/// `event_ids`, `signing { secret }` and `batch { ... }` (issue 14): the
/// defaults, every accepted spelling, and a clear error for each bad value
/// that never shows the secret.
@Suite struct SigningAndBatchSettingsTests {
    @Test func defaultsAreIdsOnUnsignedUnbatched() throws {
        let s = try settings("webhook { url = \"http://127.0.0.1:9/\" }")
        #expect(s.eventIDs && s.signing == nil && !s.batch.isOn && s.batch.maxEvents == 1)
    }

    @Test func oneSecretSeveralSecretsAndEnvironment() throws {
        // "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" is the Standard Webhooks example key.
        let one = try settings("webhook { url = \"http://h/\", signing { secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\" } }")
        #expect(one.signing?.keys == [Base64.decode(Array("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".utf8))!])
        let rotated = try settings("""
            webhook { url = "http://h/", event_ids = false
              signing.secret = ["whsec_AAAA", "${OLD_SECRET}"] }
            """, env: ["OLD_SECRET": "whsec_/w=="])
        #expect(rotated.signing?.keys == [[0, 0, 0], [0xff]] && !rotated.eventIDs)
    }

    @Test func batchKeys() throws {
        let s = try settings("webhook { url = \"http://h/\", batch { max_events = 100, max_bytes = 256KB, max_delay = 20ms } }")
        #expect(s.batch.isOn && s.batch.maxEvents == 100 && s.batch.maxBytes == 256 << 10 && s.batch.maxDelayMs == 20)
    }

    @Test(arguments: [
        ("signing { secret = \"whsec_%%%%\" }", "nanomq.conf:1:59: webhook.signing.secret: the secret after whsec_ is not valid base64"),
        ("signing { secret = \"whsec_\" }", "nanomq.conf:1:59: webhook.signing.secret: the secret is empty"),
        ("signing { secret = \"hunter2\" }", "nanomq.conf:1:59: webhook.signing.secret: a secret starts with whsec_ followed by base64 (Standard Webhooks)"),
        ("signing { secret = [] }", "nanomq.conf:1:59: webhook.signing.secret: no secret given"),
        ("signing { }", "nanomq.conf:1:48: webhook.signing.secret: signing needs a secret = \"whsec_...\" (or an array of them)"),
        ("batch { max_events = 0 }", "nanomq.conf:1:61: webhook.batch.max_events: expected a whole number from 1 to 10000, got \"0\""),
        ("batch { max_events = 10001 }", "nanomq.conf:1:61: webhook.batch.max_events: expected a whole number from 1 to 10000, got \"10001\""),
        ("batch { max_bytes = 1TB }", "nanomq.conf:1:60: webhook.batch.max_bytes: expected a size up to 64MB such as 1MB, got \"1TB\""),
        ("batch { max_delay = forever }", "nanomq.conf:1:60: webhook.batch.max_delay: expected a duration such as 5000, 500ms, 5s or 1m (from 0 to 60000 ms), got \"forever\""),
        ("event_ids = maybe", "nanomq.conf:1:52: webhook.event_ids: expected true or false (or on/off, yes/no), got \"maybe\""),
    ])
    func badValues(_ body: String, _ expected: String) {
        let message = configError("webhook { url = \"http://127.0.0.1:9/\", \(body) }")
        #expect(message == expected)
        #expect(message?.contains("hunter2") != true)
    }

    @Test func base64DecodingIsStrict() {
        #expect(Base64.decode(Array("aGVsbG8=".utf8)) == Array("hello".utf8))
        #expect(Base64.decode(Array("aGVsbG8".utf8)) == Array("hello".utf8))  // padding optional
        #expect(Base64.decode(Array("".utf8)) == [])
        for bad in ["a", "aGVsbG9=", "aG=Vs", "aGVs bG8=", "aGVsbG8===", "aGVsbG-_"] {
            #expect(Base64.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
        // Round trip over every length up to 64.
        var bytes: [UInt8] = []
        for n in 0..<64 {
            #expect(Base64.decode(Array(Base64.encode(bytes).utf8)) == bytes)
            bytes.append(UInt8(truncatingIfNeeded: n * 37 + 11))
        }
    }
}
