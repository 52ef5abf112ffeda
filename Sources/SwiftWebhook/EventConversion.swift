import CSwiftWebhookABI
import WebhookCore
import CPlatform

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
        // Not `allCases.count`: that builds an array on every call.
        guard type >= 0, type <= Int32(UInt8.max) else { return nil }
        return EventKind(rawValue: UInt8(type))
    }

    /// A C string's bytes, or nil when absent; throws when it is too long.
    @inline(__always)
    static func bytes(_ string: UnsafePointer<CChar>?) throws(Failure) -> UnsafeRawBufferPointer? {
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
    static func rawEvent(_ event: UnsafePointer<swiftwebhook_event>, kind: EventKind) throws(Failure) -> RawEvent {
        try rawEvent(event, kind: kind, topic: bytes(event.pointee.topic))
    }

    /// The same, with the topic the caller has already measured (for the
    /// filter test), so its bytes are not scanned twice.
    static func rawEvent(_ event: UnsafePointer<swiftwebhook_event>, kind: EventKind, topic: UnsafeRawBufferPointer?) throws(Failure) -> RawEvent {
        // Each field is loaded where the caller holds it; nothing copies the struct.
        // size_t arrives as Int: a length of 2^63 or more is negative here.
        if event.pointee.payload_len < 0 || event.pointee.payload_len > maxPayload { throw Failure.invalid }
        if event.pointee.payload == nil && event.pointee.payload_len > 0 { throw Failure.invalid }
        var header = EventHeader(kind: kind)
        header.protocolVersion = event.pointee.proto_ver
        header.keepalive = event.pointee.keepalive
        header.reasonCode = event.pointee.reason_code
        header.qos = min(event.pointee.qos, 2)
        header.retain = event.pointee.retain != 0
        header.noLocal = event.pointee.no_local != 0
        header.retainAsPublished = event.pointee.retain_as_published != 0
        header.retainHandling = min(event.pointee.retain_handling, 2)
        header.timestampMs = event.pointee.timestamp_ms
        var raw = RawEvent(header: header)
        if let clientID = try bytes(event.pointee.clientid) { raw.set(.clientID, clientID) }
        if let username = try bytes(event.pointee.username) { raw.set(.username, username) }
        if let peer = try bytes(event.pointee.peer_address) { raw.set(.peerAddress, peer) }
        if let reason = try bytes(event.pointee.reason) { raw.set(.reasonString, reason) }
        if let topic { raw.set(.topic, topic) }
        if let share = try bytes(event.pointee.share_group) { raw.set(.shareGroup, share) }
        if let fromClientID = try bytes(event.pointee.from_clientid) { raw.set(.fromClientID, fromClientID) }
        if let fromUsername = try bytes(event.pointee.from_username) { raw.set(.fromUsername, fromUsername) }
        if kind.hasPayload { raw.set(.payload, UnsafeRawBufferPointer(start: event.pointee.payload, count: event.pointee.payload_len)) }
        return raw
    }
}
