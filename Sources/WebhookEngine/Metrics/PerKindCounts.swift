import WebhookCore

/// One counter per event type, inline (no allocation: every lane's stats
/// hold three of these, and the broker's thread counts into one).
struct PerKindCounts: Equatable, Sendable {
    /// Room for the twelve types and four more (types are only appended).
    static let capacity = 16
    private var counts = InlineArray<16, UInt64>(repeating: 0)

    init() {}

    subscript(kind: EventKind) -> UInt64 {
        get { counts[Int(kind.rawValue)] }
        set { counts[Int(kind.rawValue)] = newValue }
    }

    mutating func add(_ other: PerKindCounts) {
        for i in 0..<Self.capacity { counts[i] &+= other.counts[i] }
    }

    var total: UInt64 {
        var sum: UInt64 = 0
        for i in 0..<Self.capacity { sum &+= counts[i] }
        return sum
    }

    static func == (a: PerKindCounts, b: PerKindCounts) -> Bool {
        for i in 0..<capacity where a.counts[i] != b.counts[i] { return false }
        return true
    }
}
