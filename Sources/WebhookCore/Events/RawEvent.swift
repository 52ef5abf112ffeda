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
    /// The sum of the present fields' lengths, kept by `set`.
    @usableFromInline var totalBytes = 0

    // Inlinable, like the rest of this type: the broker's thread builds one
    // per emit in another module, and calls across modules here were a
    // fifth of an emit's instructions.
    @inlinable
    public init(header: EventHeader) {
        self.header = header
    }

    @inlinable
    public var present: UInt16 { presentBits }

    @inlinable
    public var kind: EventKind { header.kind }

    /// Points the field at `bytes` (not copied: they must outlive the use).
    @inlinable @inline(__always)
    public mutating func set(_ field: Event.Field, _ bytes: UnsafeRawBufferPointer) {
        if has(field) { totalBytes -= fields[field.rawValue].count }
        fields[field.rawValue] = bytes
        presentBits |= 1 << UInt16(field.rawValue)
        totalBytes += bytes.count
    }

    @inlinable @inline(__always)
    public func has(_ field: Event.Field) -> Bool {
        presentBits & (1 << UInt16(field.rawValue)) != 0
    }

    /// The field's bytes, or nil when absent.
    @inlinable @inline(__always)
    public func bytes(_ field: Event.Field) -> UnsafeRawBufferPointer? {
        has(field) ? fields[field.rawValue] : nil
    }

    /// The field's bytes by raw value, empty when absent: for loops over
    /// every field without `Field.allCases` (an array).
    @inlinable @inline(__always)
    public func bytes(rawField index: Int) -> UnsafeRawBufferPointer {
        presentBits & (1 << UInt16(index)) != 0 ? fields[index] : UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// The sum of the present fields' lengths.
    @inlinable
    public var fieldBytes: Int { totalBytes }
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
    public func withRawEvent<T>(_ body: (borrowing RawEvent) -> T) -> T {
        storage.withUnsafeBytes { bytes in
            var raw = RawEvent(header: header)
            for field in Field.allCases where has(field) {
                let span = fieldSpan(field)
                raw.set(field, UnsafeRawBufferPointer(rebasing: bytes[span]))
            }
            return body(raw)
        }
    }
}
