/// An event's fields where the caller holds them, not yet copied: what the
/// engine copies into its queue in one step. The broker's
/// `swiftwebhook_event` becomes one (no allocation on the broker's thread),
/// and so does an `Event` (`withRawEvent`).
public struct RawEvent {
    public var header: EventHeader
    /// Per field, its bytes, when `present` has the field's bit.
    @usableFromInline var fields = Event.PerField<UnsafeRawBufferPointer>(repeating: UnsafeRawBufferPointer(start: nil, count: 0))
    /// One bit per `Event.Field` (by raw value) that is present.
    @usableFromInline var presentBits: UInt16 = 0
    public var present: UInt16 { presentBits }

    public init(header: EventHeader) {
        self.header = header
    }

    public var kind: EventKind { header.kind }

    /// Points the field at `bytes` (not copied: they must outlive the use).
    @inlinable
    public mutating func set(_ field: Event.Field, _ bytes: UnsafeRawBufferPointer) {
        fields[field.rawValue] = bytes
        presentBits |= 1 << UInt16(field.rawValue)
    }

    @inlinable
    public func has(_ field: Event.Field) -> Bool {
        presentBits & (1 << UInt16(field.rawValue)) != 0
    }

    /// The field's bytes, or nil when absent.
    @inlinable
    public func bytes(_ field: Event.Field) -> UnsafeRawBufferPointer? {
        has(field) ? fields[field.rawValue] : nil
    }

    /// The sum of the present fields' lengths.
    public var fieldBytes: Int {
        var total = 0
        for field in Event.Field.allCases where has(field) { total += fields[field.rawValue].count }
        return total
    }
}

extension Event {
    /// A copy of `raw` (one allocation).
    public init(copying raw: borrowing RawEvent) {
        self.init(kind: raw.kind, reservingCapacity: raw.fieldBytes)
        header = raw.header
        for field in Field.allCases {
            if let bytes = raw.bytes(field) { set(field, bytes) }
        }
    }

    /// This event as a RawEvent pointing into its storage, valid inside `body`.
    public func withRawEvent<T>(_ body: (borrowing RawEvent) throws -> T) rethrows -> T {
        try storage.withUnsafeBytes { bytes in
            var raw = RawEvent(header: header)
            for field in Field.allCases where has(field) {
                let span = fieldSpan(field)
                raw.set(field, UnsafeRawBufferPointer(rebasing: bytes[span]))
            }
            return try body(raw)
        }
    }
}
