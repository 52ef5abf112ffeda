import WebhookCore

/// How a queued event is laid out in a lane's `EventLog`: a fixed header,
/// then the fields' bytes back to back, in `Event.Field` order, the whole
/// padded to 8 bytes. The broker's thread writes it in one pass straight from
/// the caller's memory (no allocation, no reference counting); a connection
/// reads it back into an `Event` on its own thread.
///
///     0  u32 record size       4  u8 kind            5  u8 protocol version  6  u16 keepalive
///     8  u8 reason code        9  u8 qos            10  u8 flags (retain, nl, rap)  11  u8 rh
///    12  u16 fields present   16  u64 timestamp_ms  24  u64 accepted at (monotonic ns)
///    32  u64 id: sequence in its lane               40  u32 length per field (9)
///    76  u32 id: lane                               80  i64 its row in the spool (0: not on disk)
///    88  u64 id: engine tag                         96  the fields' bytes
///
/// Native byte order: the spool stores records as they are, so a spool is
/// read back by the same build on the same machine (docs/spool.md).
enum EventRecord {
    static let headerSize = 96
    private static let sequenceOffset = 32
    private static let lengthsOffset = 40
    private static let idLaneOffset = 76
    private static let spoolRowOffset = 80
    private static let idTagOffset = 88

    /// The bytes a record of `raw` takes (what `queue.max_bytes` counts).
    static func size(of raw: borrowing RawEvent) -> Int {
        (headerSize + raw.fieldBytes + 7) & ~7
    }

    /// `timestampMs` replaces the event's own (the engine fills in "now" for 0).
    static func write(_ raw: borrowing RawEvent, timestampMs: UInt64, acceptedAtNs: UInt64, id: EventID, size: Int, to record: UnsafeMutableRawPointer) {
        let e = raw.header
        record.storeBytes(of: UInt32(truncatingIfNeeded: size), as: UInt32.self)
        record.storeBytes(of: e.kind.rawValue, toByteOffset: 4, as: UInt8.self)
        record.storeBytes(of: e.protocolVersion, toByteOffset: 5, as: UInt8.self)
        record.storeBytes(of: e.keepalive, toByteOffset: 6, as: UInt16.self)
        record.storeBytes(of: e.reasonCode, toByteOffset: 8, as: UInt8.self)
        record.storeBytes(of: e.qos, toByteOffset: 9, as: UInt8.self)
        let flags = (e.retain ? 1 : 0) | (e.noLocal ? 2 : 0) | (e.retainAsPublished ? 4 : 0)
        record.storeBytes(of: UInt8(flags), toByteOffset: 10, as: UInt8.self)
        record.storeBytes(of: e.retainHandling, toByteOffset: 11, as: UInt8.self)
        record.storeBytes(of: raw.present, toByteOffset: 12, as: UInt16.self)
        record.storeBytes(of: timestampMs, toByteOffset: 16, as: UInt64.self)
        record.storeBytes(of: acceptedAtNs, toByteOffset: 24, as: UInt64.self)
        record.storeBytes(of: id.sequence, toByteOffset: sequenceOffset, as: UInt64.self)
        record.storeBytes(of: id.lane, toByteOffset: idLaneOffset, as: UInt32.self)
        record.storeBytes(of: Int64(0), toByteOffset: spoolRowOffset, as: Int64.self)
        record.storeBytes(of: id.tag, toByteOffset: idTagOffset, as: UInt64.self)
        var offset = headerSize
        // By raw value, not `Field.allCases`: that is an array, retained and
        // released on every emit.
        for index in 0..<Event.PerField<Int>.count {
            let bytes = raw.bytes(rawField: index)
            record.storeBytes(of: UInt32(truncatingIfNeeded: bytes.count), toByteOffset: lengthsOffset + 4 * index, as: UInt32.self)
            if let base = bytes.baseAddress, bytes.count > 0 {
                (record + offset).copyMemory(from: base, byteCount: bytes.count)
                offset += bytes.count
            }
        }
    }

    static func size(_ record: UnsafeRawPointer) -> Int {
        Int(record.load(as: UInt32.self))
    }

    static func acceptedAtNs(_ record: UnsafeRawPointer) -> UInt64 {
        record.load(fromByteOffset: 24, as: UInt64.self)
    }

    static func setAcceptedAtNs(_ record: UnsafeMutableRawPointer, _ value: UInt64) {
        record.storeBytes(of: value, toByteOffset: 24, as: UInt64.self)
    }

    static func spoolRow(_ record: UnsafeRawPointer) -> Int64 {
        record.load(fromByteOffset: spoolRowOffset, as: Int64.self)
    }

    static func setSpoolRow(_ record: UnsafeMutableRawPointer, _ row: Int64) {
        record.storeBytes(of: row, toByteOffset: spoolRowOffset, as: Int64.self)
    }

    /// The client id's bytes, in place (the spool keeps their hash).
    static func clientID(_ record: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        var offset = headerSize
        for field in Event.Field.allCases {
            let count = Int(record.load(fromByteOffset: lengthsOffset + 4 * field.rawValue, as: UInt32.self))
            if field == .clientID { return UnsafeRawBufferPointer(start: record + offset, count: count) }
            offset += count
        }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// Whether `bytes` can be a record (a spool row from another build or a
    /// damaged one is skipped, not read past its end).
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= headerSize, let base = bytes.baseAddress, Int(base.loadUnaligned(as: UInt32.self)) == bytes.count,
              EventKind(rawValue: base.loadUnaligned(fromByteOffset: 4, as: UInt8.self)) != nil else { return false }
        var total = headerSize
        for index in 0..<Event.PerField<Int>.count {
            total += Int(base.loadUnaligned(fromByteOffset: lengthsOffset + 4 * index, as: UInt32.self))
        }
        return total <= bytes.count
    }

    /// The event back, as a connection delivers it (one allocation).
    static func read(_ record: UnsafeRawPointer) -> QueuedEvent {
        var header = EventHeader(kind: EventKind(rawValue: record.load(fromByteOffset: 4, as: UInt8.self))!)
        header.protocolVersion = record.load(fromByteOffset: 5, as: UInt8.self)
        header.keepalive = record.load(fromByteOffset: 6, as: UInt16.self)
        header.reasonCode = record.load(fromByteOffset: 8, as: UInt8.self)
        header.qos = record.load(fromByteOffset: 9, as: UInt8.self)
        let flags = record.load(fromByteOffset: 10, as: UInt8.self)
        header.retain = flags & 1 != 0
        header.noLocal = flags & 2 != 0
        header.retainAsPublished = flags & 4 != 0
        header.retainHandling = record.load(fromByteOffset: 11, as: UInt8.self)
        header.timestampMs = record.load(fromByteOffset: 16, as: UInt64.self)
        var raw = RawEvent(header: header)
        let present = record.load(fromByteOffset: 12, as: UInt16.self)
        var offset = headerSize
        for field in Event.Field.allCases {
            let count = Int(record.load(fromByteOffset: lengthsOffset + 4 * field.rawValue, as: UInt32.self))
            if present & (1 << UInt16(field.rawValue)) != 0 {
                raw.set(field, UnsafeRawBufferPointer(start: record + offset, count: count))
            }
            offset += count
        }
        return QueuedEvent(event: Event(copying: raw), acceptedAtNs: acceptedAtNs(record),
                           id: EventID(tag: record.load(fromByteOffset: idTagOffset, as: UInt64.self),
                                       lane: record.load(fromByteOffset: idLaneOffset, as: UInt32.self),
                                       sequence: record.load(fromByteOffset: sequenceOffset, as: UInt64.self)),
                           spoolRow: spoolRow(record))
    }
}
