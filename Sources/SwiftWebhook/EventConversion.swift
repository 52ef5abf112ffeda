import CSwiftWebhookABI
import WebhookCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a broker's `swiftwebhook_event` into an owned `Event`, checking every
/// field a C caller can get wrong. Runs on the broker's thread: it does the
/// filter test straight on the caller's bytes and copies only what matched.
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

    /// Copies the event into library memory (one allocation).
    static func copy(_ e: swiftwebhook_event, kind: EventKind) throws -> Event {
        let clientID = try bytes(e.clientid)
        let username = try bytes(e.username)
        let peer = try bytes(e.peer_address)
        let reason = try bytes(e.reason)
        let topic = try bytes(e.topic)
        let share = try bytes(e.share_group)
        let fromClientID = try bytes(e.from_clientid)
        let fromUsername = try bytes(e.from_username)
        // size_t arrives as Int: a length of 2^63 or more is negative here.
        if e.payload_len < 0 || e.payload_len > maxPayload { throw Failure.invalid }
        if e.payload == nil && e.payload_len > 0 { throw Failure.invalid }
        let payload = UnsafeRawBufferPointer(start: e.payload, count: kind.hasPayload ? e.payload_len : 0)

        var total = payload.count + (clientID?.count ?? 0) + (username?.count ?? 0) + (peer?.count ?? 0)
        total += (reason?.count ?? 0) + (topic?.count ?? 0) + (share?.count ?? 0)
        total += (fromClientID?.count ?? 0) + (fromUsername?.count ?? 0)
        var event = Event(kind: kind, reservingCapacity: total)
        if let clientID { event.set(.clientID, clientID) }
        if let username { event.set(.username, username) }
        if let peer { event.set(.peerAddress, peer) }
        if let reason { event.set(.reasonString, reason) }
        if let topic { event.set(.topic, topic) }
        if let share { event.set(.shareGroup, share) }
        if let fromClientID { event.set(.fromClientID, fromClientID) }
        if let fromUsername { event.set(.fromUsername, fromUsername) }
        if kind.hasPayload { event.set(.payload, payload) }
        event.protocolVersion = e.proto_ver
        event.keepalive = e.keepalive
        event.reasonCode = e.reason_code
        event.qos = min(e.qos, 2)
        event.retain = e.retain != 0
        event.noLocal = e.no_local != 0
        event.retainAsPublished = e.retain_as_published != 0
        event.retainHandling = min(e.retain_handling, 2)
        event.timestampMs = e.timestamp_ms
        return event
    }
}
