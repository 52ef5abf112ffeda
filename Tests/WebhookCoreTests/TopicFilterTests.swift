import Testing
@testable import WebhookCore

@Suite struct TopicFilterTests {
    static let table: [(filter: String, topic: String, matches: Bool)] = [
        ("a/b/c", "a/b/c", true),
        ("a/b/c", "a/b", false),
        ("a/b", "a/b/c", false),
        ("a/+/c", "a/b/c", true),
        ("a/+/c", "a/b/d", false),
        ("a/+/c", "a//c", true),          // + matches an empty level
        ("+", "a", true),
        ("+", "a/b", false),
        ("+/+", "/a", true),
        ("+", "/a", false),
        ("#", "a", true),
        ("#", "a/b/c", true),
        ("#", "/", true),
        ("a/#", "a", true),               // # matches the parent level
        ("a/#", "a/", true),
        ("a/#", "a/b/c", true),
        ("a/#", "ab", false),
        ("a/b/#", "a", false),
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("#", "$SYS/broker", false),     // $ topics never match a leading wildcard
        ("+/broker", "$SYS/broker", false),
        ("$SYS/#", "$SYS/broker", true),
        ("$SYS/+", "$SYS/broker", true),
        ("a/$x", "a/$x", true),
        ("a/#", "a/$x", true),           // $ only matters at the first level
        ("a", "A", false),               // case sensitive
        ("ü/+", "ü/x", true),
        ("a/b", "", false),
        // Subscribe-family events: the subscribed filter is matched as a name.
        ("cmd/#", "cmd/+/x", true),
        ("cmd/+", "cmd/#", true),
        ("cmd/+/x", "cmd/+/x", true),
        ("cmd/y/x", "cmd/+/x", false),
        ("cmd/#", "cmd/#", true),
        ("+/#", "#", true),
    ]

    @Test(arguments: table)
    func match(_ row: (filter: String, topic: String, matches: Bool)) throws {
        let filter = try TopicFilter.parse(row.filter).get()
        #expect(filter.matches(Array(row.topic.utf8)) == row.matches, "\(row.filter) vs \(row.topic)")
    }

    @Test func invalidFilters() {
        for bad in ["", "a/#/b", "a#", "#a", "a/b+", "+a/b", "a\u{0}b"] {
            #expect((try? TopicFilter.parse(bad).get()) == nil, "\(bad) must be rejected")
        }
        for good in ["a", "/", "//", "+/+/#", "$share/g/a", "a b/c"] {
            #expect((try? TopicFilter.parse(good).get()) != nil, "\(good) must be accepted")
        }
    }

    @Test func matchesASliceInsideABiggerBuffer() throws {
        let filter = try TopicFilter.parse("a/+").get()
        let buffer = Array("xxa/b/yy".utf8)
        #expect(filter.matches(buffer[2..<5]))   // "a/b"
        #expect(!filter.matches(buffer[2..<8]))  // "a/b/yy"
    }

    @Test func hugeTopicDoesNotCrash() throws {
        let topic = [UInt8](repeating: UInt8(ascii: "/"), count: 1 << 16)
        #expect(try TopicFilter.parse("#").get().matches(topic))
        #expect(!(try TopicFilter.parse("a/#").get().matches(topic)))
    }
}

@Suite struct RuleTableTests {
    func table(_ rules: [(EventKind, String?)]) throws -> RuleTable {
        RuleTable(try rules.map { Rule(kind: $0.0, topic: try $0.1.map { try TopicFilter.parse($0).get() }) })
    }

    @Test func kindsNoRuleNamesAreRejected() throws {
        let rules = try table([(.messagePublish, "a/#")])
        #expect(rules.wants(.messagePublish))
        for kind in EventKind.allCases where kind != .messagePublish {
            #expect(!rules.wants(kind))
            #expect(!rules.matches(kind, topic: Array("a/b".utf8)))
        }
    }

    @Test func anyRuleOfTheKindMatches() throws {
        let rules = try table([(.messagePublish, "a/#"), (.messagePublish, "b/+")])
        #expect(rules.matches(.messagePublish, topic: Array("a/x/y".utf8)))
        #expect(rules.matches(.messagePublish, topic: Array("b/x".utf8)))
        #expect(!rules.matches(.messagePublish, topic: Array("c".utf8)))
    }

    @Test func aRuleWithoutTopicMatchesEveryTopic() throws {
        let rules = try table([(.messagePublish, "a/#"), (.messagePublish, nil)])
        #expect(rules.matches(.messagePublish, topic: Array("zzz".utf8)))
    }

    @Test func topicIsIgnoredForEventsWithoutOne() throws {
        let rules = try table([(.clientConnack, "a/#")])
        #expect(rules.matches(.clientConnack, topic: [UInt8]()))
    }

    @Test func sharedSubscriptionsMatchWithoutTheirPrefix() throws {
        let rules = try table([(.clientSubscribe, "cmd/#")])
        var event = Event(kind: .clientSubscribe)
        event.set(.topic, "$share/g1/cmd/x")
        #expect(rules.matches(event))
        event.set(.topic, "$share/g1/other")
        #expect(!rules.matches(event))
    }
}
