import WebhookCore

/// Events the CLI makes up: a sample body per rule (`check`) or the one the
/// operator describes on the command line (`send`).
enum SampleEvent {
    static func make(_ kind: EventKind, topic: String? = nil, payload: [UInt8] = Array("hello".utf8),
                     clientID: String = "sample-client", username: String? = "sample-user") -> Event {
        var event = Event(kind: kind)
        event.set(.clientID, clientID)
        event.set(.username, username)
        event.set(.peerAddress, "192.0.2.10:51234")
        event.keepalive = 60
        event.protocolVersion = 4
        event.timestampMs = Clock.wallMilliseconds()
        if kind.hasTopic { event.set(.topic, topic ?? "sample/topic") }
        if kind.hasPayload { event.set(.payload, bytes: payload) }
        if kind == .messageDelivered || kind == .messageAcked {
            event.set(.fromClientID, "sample-publisher")
            event.set(.fromUsername, "sample-publisher-user")
        }
        event.qos = kind.hasTopic ? 1 : 0
        return event
    }

    /// A topic name a rule's filter matches: `+` and `#` become `sample`.
    static func topic(matching filter: TopicFilter?) -> String {
        guard let filter else { return "sample/topic" }
        return filter.description.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0 == "+" || $0 == "#" ? "sample" : String($0) }
            .joined(separator: "/")
    }
}
