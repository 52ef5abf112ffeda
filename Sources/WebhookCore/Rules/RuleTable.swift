/// One `events` entry of the config: `{ event = "on_message_publish", topic = "a/+" }`.
public struct Rule: Equatable, Sendable {
    public var kind: EventKind
    public var topic: TopicFilter?

    public init(kind: EventKind, topic: TopicFilter? = nil) {
        self.kind = kind
        self.topic = topic
    }
}

/// Decides whether an event is wanted. Called on the broker's thread for
/// every event, so the common "nobody asked for this kind" answer is one
/// bit test, without touching any string.
public struct RuleTable: Sendable {
    /// One bit per event kind: as wide as the handle table's mask
    /// (webhook_registry.h), which fits the 32 kinds the ABI allows.
    public typealias KindMask = UInt32

    public private(set) var rules: [Rule] = []
    /// Bit n set: some rule names EventKind(rawValue: n).
    public private(set) var wanted: KindMask = 0
    /// Bit n set: every event of that kind matches (a rule without topic,
    /// or a kind that has no topic).
    @usableFromInline private(set) var matchesAll: KindMask = 0
    /// Per kind: the filters of its rules, when not `matchesAll`.
    @usableFromInline private(set) var filters: [[TopicFilter]] = Array(repeating: [], count: EventKind.allCases.count)

    public init(_ rules: [Rule] = []) {
        for rule in rules { add(rule) }
    }

    public mutating func add(_ rule: Rule) {
        rules.append(rule)
        let bit: KindMask = 1 << rule.kind.rawValue
        wanted |= bit
        if let topic = rule.topic, rule.kind.hasTopic {
            filters[Int(rule.kind.rawValue)].append(topic)
        } else {
            matchesAll |= bit
        }
    }

    public var isEmpty: Bool { wanted == 0 }

    /// Whether any rule names this kind: the cheap first test.
    @inline(__always)
    public func wants(_ kind: EventKind) -> Bool {
        wanted & (1 << kind.rawValue) != 0
    }

    /// Whether an event of `kind` with this topic is sent (once, however many
    /// rules match). Inlinable for the same reason as `TopicFilter.matches`.
    @inlinable
    public func matches<T: Collection>(_ kind: EventKind, topic: T) -> Bool where T.Element == UInt8, T.Index == Int {
        let bit: KindMask = 1 << kind.rawValue
        if wanted & bit == 0 { return false }
        if matchesAll & bit != 0 { return true }
        for filter in filters[Int(kind.rawValue)] where filter.matches(topic) {
            return true
        }
        return false
    }

    public func matches(_ event: Event) -> Bool {
        matches(event.kind, topic: event.effectiveTopic)
    }
}
