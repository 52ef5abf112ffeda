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

    /// Where each header field starts (the table above).
    private enum Offset {
        static let kind = 4, protocolVersion = 5, keepalive = 6, reasonCode = 8, qos = 9, flags = 10
        static let retainHandling = 11, present = 12, timestamp = 16, acceptedAt = 24, sequence = 32
        static let lengths = 40, idLane = 76, spoolRow = 80, idTag = 88
    }

    /// The bytes a record of `raw` takes (what `queue.max_bytes` counts).
    static func size(of raw: borrowing RawEvent) -> Int {
        (headerSize + raw.fieldBytes + 7) & ~7
    }

    /// `timestampMs` replaces the event's own (the engine fills in "now" for 0).
    static func write(_ raw: borrowing RawEvent, timestampMs: UInt64, acceptedAtNs: UInt64, id: EventID, size: Int, to record: UnsafeMutableRawPointer) {
        let e = raw.header
        record.storeBytes(of: UInt32(truncatingIfNeeded: size), as: UInt32.self)
        record.storeBytes(of: e.kind.rawValue, toByteOffset: Offset.kind, as: UInt8.self)
        record.storeBytes(of: e.protocolVersion, toByteOffset: Offset.protocolVersion, as: UInt8.self)
        record.storeBytes(of: e.keepalive, toByteOffset: Offset.keepalive, as: UInt16.self)
        record.storeBytes(of: e.reasonCode, toByteOffset: Offset.reasonCode, as: UInt8.self)
        record.storeBytes(of: e.qos, toByteOffset: Offset.qos, as: UInt8.self)
        let flags = (e.retain ? 1 : 0) | (e.noLocal ? 2 : 0) | (e.retainAsPublished ? 4 : 0)
        record.storeBytes(of: UInt8(flags), toByteOffset: Offset.flags, as: UInt8.self)
        record.storeBytes(of: e.retainHandling, toByteOffset: Offset.retainHandling, as: UInt8.self)
        record.storeBytes(of: raw.present, toByteOffset: Offset.present, as: UInt16.self)
        record.storeBytes(of: timestampMs, toByteOffset: Offset.timestamp, as: UInt64.self)
        record.storeBytes(of: acceptedAtNs, toByteOffset: Offset.acceptedAt, as: UInt64.self)
        record.storeBytes(of: id.sequence, toByteOffset: Offset.sequence, as: UInt64.self)
        record.storeBytes(of: id.lane, toByteOffset: Offset.idLane, as: UInt32.self)
        record.storeBytes(of: Int64(0), toByteOffset: Offset.spoolRow, as: Int64.self)
        record.storeBytes(of: id.tag, toByteOffset: Offset.idTag, as: UInt64.self)
        var offset = headerSize
        // By raw value, not `Field.allCases`: that is an array, retained and
        // released on every emit.
        for index in 0..<Event.PerField<Int>.count {
            let bytes = raw.bytes(rawField: index)
            record.storeBytes(of: UInt32(truncatingIfNeeded: bytes.count), toByteOffset: Offset.lengths + 4 * index, as: UInt32.self)
            if let base = bytes.baseAddress, bytes.count > 0 {
                (record + offset).copyMemory(from: base, byteCount: bytes.count)
                offset += bytes.count
            }
        }
    }

    static func size(_ record: UnsafeRawPointer) -> Int {
        Int(record.load(as: UInt32.self))
    }

    /// The event's time (wall clock, ms) in a record read from the spool
    /// (SQLite's bytes, not necessarily aligned).
    static func timestampMs(unaligned record: UnsafeRawBufferPointer) -> UInt64? {
        guard record.count >= headerSize else { return nil }
        return record.loadUnaligned(fromByteOffset: Offset.timestamp, as: UInt64.self)
    }

    static func acceptedAtNs(_ record: UnsafeRawPointer) -> UInt64 {
        record.load(fromByteOffset: Offset.acceptedAt, as: UInt64.self)
    }

    static func setAcceptedAtNs(_ record: UnsafeMutableRawPointer, _ value: UInt64) {
        record.storeBytes(of: value, toByteOffset: Offset.acceptedAt, as: UInt64.self)
    }

    static func spoolRow(_ record: UnsafeRawPointer) -> Int64 {
        record.load(fromByteOffset: Offset.spoolRow, as: Int64.self)
    }

    static func setSpoolRow(_ record: UnsafeMutableRawPointer, _ row: Int64) {
        record.storeBytes(of: row, toByteOffset: Offset.spoolRow, as: Int64.self)
    }

    /// The client id's bytes, in place (the spool keeps their hash).
    static func clientID(_ record: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        var offset = headerSize
        for field in Event.Field.allCases {
            let count = Int(record.load(fromByteOffset: Offset.lengths + 4 * field.rawValue, as: UInt32.self))
            if field == .clientID { return UnsafeRawBufferPointer(start: record + offset, count: count) }
            offset += count
        }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// Whether `bytes` can be a record (a spool row from another build or a
    /// damaged one is skipped, not read past its end).
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= headerSize, let base = bytes.baseAddress, Int(base.loadUnaligned(as: UInt32.self)) == bytes.count,
              EventKind(rawValue: base.loadUnaligned(fromByteOffset: Offset.kind, as: UInt8.self)) != nil else { return false }
        var total = headerSize
        for index in 0..<Event.PerField<Int>.count {
            total += Int(base.loadUnaligned(fromByteOffset: Offset.lengths + 4 * index, as: UInt32.self))
        }
        return total <= bytes.count
    }

    /// The event back, as a connection delivers it (one allocation).
    static func read(_ record: UnsafeRawPointer) -> QueuedEvent {
        var header = EventHeader(kind: EventKind(rawValue: record.load(fromByteOffset: Offset.kind, as: UInt8.self))!)
        header.protocolVersion = record.load(fromByteOffset: Offset.protocolVersion, as: UInt8.self)
        header.keepalive = record.load(fromByteOffset: Offset.keepalive, as: UInt16.self)
        header.reasonCode = record.load(fromByteOffset: Offset.reasonCode, as: UInt8.self)
        header.qos = record.load(fromByteOffset: Offset.qos, as: UInt8.self)
        let flags = record.load(fromByteOffset: Offset.flags, as: UInt8.self)
        header.retain = flags & 1 != 0
        header.noLocal = flags & 2 != 0
        header.retainAsPublished = flags & 4 != 0
        header.retainHandling = record.load(fromByteOffset: Offset.retainHandling, as: UInt8.self)
        header.timestampMs = record.load(fromByteOffset: Offset.timestamp, as: UInt64.self)
        var raw = RawEvent(header: header)
        let present = record.load(fromByteOffset: Offset.present, as: UInt16.self)
        var offset = headerSize
        for field in Event.Field.allCases {
            let count = Int(record.load(fromByteOffset: Offset.lengths + 4 * field.rawValue, as: UInt32.self))
            if present & (1 << UInt16(field.rawValue)) != 0 {
                raw.set(field, UnsafeRawBufferPointer(start: record + offset, count: count))
            }
            offset += count
        }
        return QueuedEvent(event: Event(copying: raw), acceptedAtNs: acceptedAtNs(record),
                           id: EventID(tag: record.load(fromByteOffset: Offset.idTag, as: UInt64.self),
                                       lane: record.load(fromByteOffset: Offset.idLane, as: UInt32.self),
                                       sequence: record.load(fromByteOffset: Offset.sequence, as: UInt64.self)),
                           spoolRow: spoolRow(record))
    }
}
