import Testing
@testable import WebhookCore

/// Unknown keys, everywhere under `webhook`: a warning with file:line:col
/// and the nearest known key, never an error (NanoMQ ignores them too).
@Suite struct UnknownKeyTests {
    @Test(arguments: [
        // The four typos a new user made, each once "valid" without a word.
        ("retry { max_atempts = 50 }", "nanomq.conf:1:62: webhook.retry.max_atempts: unknown key, ignored (did you mean max_attempts?)"),
        ("queue { max_evnts = 10 }", "nanomq.conf:1:60: webhook.queue.max_evnts: unknown key, ignored (did you mean max_events?)"),
        ("body { encodin = \"base64\" }", "nanomq.conf:1:57: webhook.body.encodin: unknown key, ignored (did you mean encoding?)"),
        ("tls { verfy = false }", "nanomq.conf:1:54: webhook.tls.verfy: unknown key, ignored"),
        ("ssl { verify_per = false }", "nanomq.conf:1:59: webhook.ssl.verify_per: unknown key, ignored (did you mean verify_peer?)"),
        // Once errors in these three blocks; warnings like everywhere else now.
        ("signing { secret = \"whsec_AAAA\", key = 1 }", "nanomq.conf:1:79: webhook.signing.key: unknown key, ignored"),
        ("batch { max_evenst = 5 }", "nanomq.conf:1:61: webhook.batch.max_evenst: unknown key, ignored (did you mean max_events?)"),
        ("spool { dir = \"/s\", path = \"/t\" }", "nanomq.conf:1:67: webhook.spool.path: unknown key, ignored"),
        ("events = [ { event = \"on_client_connack\", topik = \"a\" } ]",
         "nanomq.conf:1:90: webhook.events[0].topik: unknown key, ignored (did you mean topic?)"),
        ("ordring = none", "nanomq.conf:1:50: webhook.ordring: unknown key, ignored (did you mean ordering?)"),
        ("colour = blue", "nanomq.conf:1:49: webhook.colour: unknown key, ignored"),
    ])
    func aTypoIsAWarningWithTheNearestKey(_ body: String, _ expected: String) throws {
        let s = try settings("webhook { url = \"http://127.0.0.1:9/\", \(body) }")
        #expect(s.warnings == [expected])
    }

    @Test func everyKnownKeyIsQuiet() throws {
        let s = try settings("""
            webhook {
              url = "http://127.0.0.1:9/", headers { a = b }, body { encoding = plain }, pool_size = 2
              cancel_timeout = 1s, ordering = none, drain_timeout = 1s, max_response_body = 1KB, delivery_nice = 5
              event_ids = true, events = [ { event = "on_message_publish", topic = "#" } ]
              retry { max_attempts = 3, max_elapsed = 1m, initial_backoff = 10ms, max_backoff = 1s, max_retry_after = 5s }
              queue { max_events = 10, max_bytes = 1MB, overflow = drop_old }
              signing { secret = "whsec_AAAA" }
              batch { max_events = 2, max_bytes = 1KB, max_delay = 0 }
              spool { enable = false, dir = "/s", max_bytes = 1GB, durability = clean, sync_interval = 10ms }
            }
            """)
        #expect(s.warnings.isEmpty)
    }

    @Test func aSwapOfTwoLettersIsOneEdit() {
        #expect(UnknownKeys.editDistance(Array("max_attmepts".utf8), Array("max_attempts".utf8)) == 1)
        #expect(UnknownKeys.editDistance(Array("abc".utf8), Array("abc".utf8)) == 0)
        #expect(UnknownKeys.editDistance(Array("".utf8), Array("abc".utf8)) == 3)
        #expect(UnknownKeys.editDistance(Array("kitten".utf8), Array("sitting".utf8)) == 3)
        #expect(UnknownKeys.nearest(to: "pool_sise", in: UnknownKeys.topLevel) == "pool_size")
        #expect(UnknownKeys.nearest(to: "x", in: ["y"]) == nil, "one letter is too short to guess")
    }

    /// The table's words are the values the resolver turns them into.
    @Test func everyChoiceIsItsTypesCases() {
        func words(_ setting: Setting) -> [String] {
            if case .choice(let words, _) = setting.kind { return words }
            return []
        }
        #expect(words(.bodyEncoding) == PayloadEncoding.allCases.map { $0.rawValue })
        #expect(words(.queueOverflow) == OverflowPolicy.allCases.map { $0.rawValue })
        #expect(words(.ordering) == Ordering.allCases.map { $0.rawValue })
        #expect(words(.spoolDurability) == SpoolDurability.allCases.map { $0.rawValue })
        #expect(Set(Setting.all.map { $0.key }).count == Setting.all.count, "each key once")
    }
}
