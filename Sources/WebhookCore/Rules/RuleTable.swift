/// The endpoints an event goes to: bit n is the config's n-th endpoint
/// (`WebhookSettings.endpoints`), in the order they are written.
public typealias EndpointMask = UInt64

/// One `events` entry of the config: `{ event = "on_message_publish", topic = "a/+" }`.
public struct Rule: Equatable, Sendable {
    public var kind: EventKind
    public var topic: TopicFilter?
    /// The endpoints it sends to (`endpoints = ["local", "cloud"]`); a rule
    /// that names none sends to every endpoint (the resolver sets them all).
    public var endpoints: EndpointMask

    public init(kind: EventKind, topic: TopicFilter? = nil, endpoints: EndpointMask = 1) {
        self.kind = kind
        self.topic = topic
        self.endpoints = endpoints
    }
}

/// Decides which endpoints want an event. Called on the broker's thread for
/// every event, so the common "nobody asked for this kind" answer is one
/// bit test, without touching any string.
public struct RuleTable: Sendable {
    /// One bit per event kind: as wide as the handle table's mask
    /// (webhook_registry.h), which fits the 32 kinds the ABI allows.
    public typealias KindMask = UInt32

    public private(set) var rules: [Rule] = []
    /// Bit n set: some rule names EventKind(rawValue: n).
    public private(set) var wanted: KindMask = 0
    /// Per kind: the endpoints that take every event of it (a rule without
    /// topic, or a kind that has no topic).
    @usableFromInline private(set) var takeAll: [EndpointMask] = Array(repeating: 0, count: EventKind.allCases.count)
    /// Per kind: the filters of its other rules and their endpoints.
    @usableFromInline private(set) var filters: [[(filter: TopicFilter, endpoints: EndpointMask)]] = Array(repeating: [], count: EventKind.allCases.count)

    public init(_ rules: [Rule] = []) {
        for rule in rules { add(rule) }
    }

    public mutating func add(_ rule: Rule) {
        rules.append(rule)
        wanted |= 1 << rule.kind.rawValue
        if let topic = rule.topic, rule.kind.hasTopic {
            filters[Int(rule.kind.rawValue)].append((topic, rule.endpoints))
        } else {
            takeAll[Int(rule.kind.rawValue)] |= rule.endpoints
        }
    }

    public var isEmpty: Bool { wanted == 0 }

    /// Whether any rule names this kind: the cheap first test.
    @inline(__always)
    public func wants(_ kind: EventKind) -> Bool {
        wanted & (1 << kind.rawValue) != 0
    }

    /// The endpoints an event of `kind` with this topic goes to (each once,
    /// however many rules match); 0: none. Inlinable for the same reason as
    /// `TopicFilter.matches`.
    @inlinable
    public func endpoints<T: Collection>(_ kind: EventKind, topic: T) -> EndpointMask where T.Element == UInt8, T.Index == Int {
        if wanted & (1 << kind.rawValue) == 0 { return 0 }
        var mask = takeAll[Int(kind.rawValue)]
        // A filter is only tried for endpoints not already taking it.
        for rule in filters[Int(kind.rawValue)] where rule.endpoints & ~mask != 0 && rule.filter.matches(topic) {
            mask |= rule.endpoints
        }
        return mask
    }

    /// Whether an event of `kind` with this topic is sent anywhere.
    @inlinable
    public func matches<T: Collection>(_ kind: EventKind, topic: T) -> Bool where T.Element == UInt8, T.Index == Int {
        endpoints(kind, topic: topic) != 0
    }

    public func matches(_ event: Event) -> Bool {
        matches(event.kind, topic: event.effectiveTopic)
    }

    public func endpoints(_ event: Event) -> EndpointMask {
        endpoints(event.kind, topic: event.effectiveTopic)
    }
}
