/// One broker event, owned by the library.
///
/// All strings and the payload live in one byte buffer, so accepting an
/// event from the broker is one allocation and one pass of copies; the
/// fields are ranges into it. Strings are kept as bytes: the broker may pass
/// invalid UTF-8, and the JSON writer repairs it when the body is built, off
/// the broker's thread.
public struct Event: Sendable {
    /// The optional strings an event carries.
    public enum Field: Int, CaseIterable, Sendable {
        case clientID, username, peerAddress, reasonString, topic, shareGroup, fromClientID, fromUsername, payload
    }

    /// The kind and every field that is not bytes.
    public var header: EventHeader

    public var kind: EventKind { get { header.kind } set { header.kind = newValue } }
    public var protocolVersion: UInt8 { get { header.protocolVersion } set { header.protocolVersion = newValue } }
    public var keepalive: UInt16 { get { header.keepalive } set { header.keepalive = newValue } }
    public var reasonCode: UInt8 { get { header.reasonCode } set { header.reasonCode = newValue } }
    public var qos: UInt8 { get { header.qos } set { header.qos = newValue } }
    public var retain: Bool { get { header.retain } set { header.retain = newValue } }
    public var noLocal: Bool { get { header.noLocal } set { header.noLocal = newValue } }
    public var retainAsPublished: Bool { get { header.retainAsPublished } set { header.retainAsPublished = newValue } }
    public var retainHandling: UInt8 { get { header.retainHandling } set { header.retainHandling = newValue } }
    public var timestampMs: UInt64 { get { header.timestampMs } set { header.timestampMs = newValue } }

    /// Every field's bytes, back to back.
    public private(set) var storage: [UInt8] = []
    /// Per field (indexed by `Field.rawValue`): where its bytes start in
    /// `storage`, and how many there are; a length of -1 means absent.
    /// Fixed-size and inline, so an event is one allocation (`storage`).
    /// One slot per `Field` (EventTests checks the count against `Field.allCases`).
    public typealias PerField<Slot> = InlineArray<9, Slot>
    private var starts = PerField<Int32>(repeating: 0)
    private var lengths = PerField<Int32>(repeating: -1)

    public init(kind: EventKind, reservingCapacity capacity: Int = 0) {
        header = EventHeader(kind: kind)
        if capacity > 0 { storage.reserveCapacity(capacity) }
    }

    // MARK: Fields

    public func has(_ field: Field) -> Bool { span(field).length >= 0 }

    /// The field's bytes; empty when absent.
    public func bytes(_ field: Field) -> ArraySlice<UInt8> {
        let s = span(field)
        guard s.length > 0 else { return [] }
        return storage[Int(s.start)..<Int(s.start) + Int(s.length)]
    }

    /// The field's bytes as text (invalid UTF-8 repaired); nil when absent.
    public func string(_ field: Field) -> String? {
        has(field) ? String(decoding: bytes(field), as: UTF8.self) : nil
    }

    public mutating func set(_ field: Field, _ value: String?) {
        guard let value else { clear(field); return }
        set(field, bytes: value.utf8)
    }

    public mutating func set<C: Collection>(_ field: Field, bytes: C) where C.Element == UInt8 {
        let start = storage.count
        storage.append(contentsOf: bytes)
        setSpan(field, start: start, length: storage.count - start)
    }

    /// Copies `buffer` in; a nil base address with count 0 is an empty value.
    public mutating func set(_ field: Field, _ buffer: UnsafeRawBufferPointer) {
        let start = storage.count
        if let base = buffer.baseAddress, buffer.count > 0 {
            storage.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: buffer.count))
        }
        setSpan(field, start: start, length: buffer.count)
    }

    public mutating func clear(_ field: Field) {
        setSpan(field, start: 0, length: -1)
    }

    /// Makes room for `count` more bytes of fields.
    mutating func reserve(_ count: Int) {
        if count > 0 { storage.reserveCapacity(storage.count + count) }
    }

    /// Where a present field's bytes are in `storage`.
    func fieldSpan(_ field: Field) -> Range<Int> {
        let s = span(field)
        return Int(s.start)..<Int(s.start) + max(0, Int(s.length))
    }

    private func span(_ field: Field) -> (start: Int32, length: Int32) {
        (starts[field.rawValue], lengths[field.rawValue])
    }

    private mutating func setSpan(_ field: Field, start: Int, length: Int) {
        starts[field.rawValue] = Int32(truncatingIfNeeded: start)
        lengths[field.rawValue] = Int32(truncatingIfNeeded: length)
    }
}

extension Event {
    /// A subscribe-family topic of the form `$share/<group>/<filter>` names a
    /// shared subscription: the body reports `<filter>` and `"share":"<group>"`.
    /// Returns (filter, group) with the prefix removed, or nil if not shared.
    /// Generic so the broker's bytes (on emit) and an event's (in the body)
    /// are split by the same rule.
    @inlinable
    public static func splitSharedFilter<Bytes: Collection>(_ topic: Bytes) -> (filter: Bytes.SubSequence, group: Bytes.SubSequence)?
    where Bytes.Element == UInt8 {
        let prefix = "$share/".utf8
        guard topic.count > prefix.count, topic.starts(with: prefix) else { return nil }
        let afterPrefix = topic.dropFirst(prefix.count)
        guard let slash = afterPrefix.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        return (topic[topic.index(after: slash)...], afterPrefix[..<slash])
    }

    /// The topic that rules match and the body reports: a shared filter's
    /// `$share/<group>/` prefix removed.
    public var effectiveTopic: ArraySlice<UInt8> {
        let topic = bytes(.topic)
        if kind.topicIsFilter, let shared = Event.splitSharedFilter(topic) {
            return shared.filter
        }
        return topic
    }
}
