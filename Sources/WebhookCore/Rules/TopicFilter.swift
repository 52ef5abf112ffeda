/// An MQTT topic filter (MQTT 5.0 section 4.7): `+` matches one level,
/// `#` the rest (and the parent level: `a/#` matches `a`).
public struct TopicFilter: Equatable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// Validates a filter as written in a rule; nil with a reason otherwise.
    public static func parse(_ text: String) -> Result<TopicFilter, ValueProblem> {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return .failure(.init("a topic filter cannot be empty")) }
        if bytes.count > 65535 { return .failure(.init("a topic filter is at most 65535 bytes")) }
        if bytes.contains(0) { return .failure(.init("a topic filter cannot contain a NUL character")) }
        let levels = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains(UInt8(ascii: "#")) && (level.count != 1 || index != levels.count - 1) {
                return .failure(.init("'#' must be a whole level and the last one, got \(Quoting.quoted(text))"))
            }
            if level.contains(UInt8(ascii: "+")) && level.count != 1 {
                return .failure(.init("'+' must be a whole level, got \(Quoting.quoted(text))"))
            }
        }
        return .success(TopicFilter(bytes: bytes))
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Whether `topic` matches. For subscribe-family events `topic` is the
    /// subscribed filter; its `+` and `#` are then ordinary level text, matched
    /// by a wildcard here or by the same character (as EMQX does).
    /// Allocation-free: it walks both strings level by level. Inlinable so
    /// the broker's call is specialized for its raw bytes (a generic call
    /// across modules goes through witness tables for every byte).
    @inlinable
    public func matches<T: Collection>(_ topic: T) -> Bool where T.Element == UInt8, T.Index == Int {
        if topic.isEmpty { return false }
        let plus = UInt8(ascii: "+"), hash = UInt8(ascii: "#"), slash = UInt8(ascii: "/")
        // `$SYS/...` is never matched by a filter starting with a wildcard.
        if topic[topic.startIndex] == UInt8(ascii: "$"), bytes[0] == plus || bytes[0] == hash { return false }

        return bytes.withUnsafeBufferPointer { filter in
            var f = 0
            var t = topic.startIndex
            while true {
                var fEnd = f
                while fEnd < filter.count, filter[fEnd] != slash { fEnd += 1 }
                if fEnd - f == 1 && filter[f] == hash { return true }
                var tEnd = t
                while tEnd < topic.endIndex, topic[tEnd] != slash { tEnd += 1 }
                if !(fEnd - f == 1 && filter[f] == plus) {
                    if fEnd - f != tEnd - t { return false }
                    var i = f, j = t
                    while i < fEnd {
                        if filter[i] != topic[j] { return false }
                        i += 1; j += 1
                    }
                }
                let filterDone = fEnd == filter.count
                let topicDone = tEnd == topic.endIndex
                if filterDone { return topicDone }
                if topicDone {
                    // Only `/#` may follow: it matches the parent level too.
                    return fEnd + 2 == filter.count && filter[fEnd + 1] == hash
                }
                f = fEnd + 1
                t = tEnd + 1
            }
        }
    }
}
