import CSwiftWebhookABI
import WebhookCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a broker's `swiftwebhook_event`, checking every field a C caller can
/// get wrong. Runs on the broker's thread: the filter test and the copy into
/// the queue both read the caller's bytes in place.
enum EventConversion {
    /// MQTT strings are at most 65535 bytes; a longer one is a broker bug.
    static let maxString = 65535
    /// MQTT's largest packet.
    static let maxPayload = 256 << 20
    /// The first published layout; callers built against it keep working.
    static let minimumSize = MemoryLayout<swiftwebhook_event>.size
    /// Anything larger is not a swiftwebhook_event at all.
    static let maximumSize = 65536

    enum Failure: Error {
        case invalid
    }

    /// The struct's `size` and `type`, checked before anything else is read.
    static func kind(of event: UnsafePointer<swiftwebhook_event>) -> EventKind? {
        let size = UnsafeRawPointer(event).load(as: Int.self)
        guard size >= minimumSize, size <= maximumSize else { return nil }
        let type = event.pointee.type
        guard type >= 0, type < Int32(EventKind.allCases.count) else { return nil }
        return EventKind(rawValue: UInt8(type))
    }

    /// A C string's bytes, or nil when absent; throws when it is too long.
    @inline(__always)
    static func bytes(_ string: UnsafePointer<CChar>?) throws -> UnsafeRawBufferPointer? {
        guard let string else { return nil }
        let length = strnlen(string, maxString + 1)
        if length > maxString { throw Failure.invalid }
        return UnsafeRawBufferPointer(start: string, count: length)
    }

    /// The topic rules match: a shared filter's `$share/<group>/` removed.
    static func matchTopic(_ kind: EventKind, _ topic: UnsafeRawBufferPointer?) -> UnsafeRawBufferPointer {
        guard let topic else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        guard kind.topicIsFilter, let shared = Event.splitSharedFilter(topic) else { return topic }
        return UnsafeRawBufferPointer(rebasing: shared.filter)
    }

    /// The event's fields where the caller holds them, checked; the engine
    /// copies them into its queue in one pass (nothing is allocated here).
    static func rawEvent(_ e: swiftwebhook_event, kind: EventKind) throws -> RawEvent {
        try rawEvent(e, kind: kind, topic: bytes(e.topic))
    }

    /// The same, with the topic the caller has already measured (for the
    /// filter test), so its bytes are not scanned twice.
    static func rawEvent(_ e: swiftwebhook_event, kind: EventKind, topic: UnsafeRawBufferPointer?) throws -> RawEvent {
        // size_t arrives as Int: a length of 2^63 or more is negative here.
        if e.payload_len < 0 || e.payload_len > maxPayload { throw Failure.invalid }
        if e.payload == nil && e.payload_len > 0 { throw Failure.invalid }
        var header = EventHeader(kind: kind)
        header.protocolVersion = e.proto_ver
        header.keepalive = e.keepalive
        header.reasonCode = e.reason_code
        header.qos = min(e.qos, 2)
        header.retain = e.retain != 0
        header.noLocal = e.no_local != 0
        header.retainAsPublished = e.retain_as_published != 0
        header.retainHandling = min(e.retain_handling, 2)
        header.timestampMs = e.timestamp_ms
        var raw = RawEvent(header: header)
        if let clientID = try bytes(e.clientid) { raw.set(.clientID, clientID) }
        if let username = try bytes(e.username) { raw.set(.username, username) }
        if let peer = try bytes(e.peer_address) { raw.set(.peerAddress, peer) }
        if let reason = try bytes(e.reason) { raw.set(.reasonString, reason) }
        if let topic { raw.set(.topic, topic) }
        if let share = try bytes(e.share_group) { raw.set(.shareGroup, share) }
        if let fromClientID = try bytes(e.from_clientid) { raw.set(.fromClientID, fromClientID) }
        if let fromUsername = try bytes(e.from_username) { raw.set(.fromUsername, fromUsername) }
        if kind.hasPayload { raw.set(.payload, UnsafeRawBufferPointer(start: e.payload, count: e.payload_len)) }
        return raw
    }
}
