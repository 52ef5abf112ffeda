/// Turns an event into the JSON body NanoMQ's (and EMQX 4.x's) receivers
/// expect, keys in the order of spec/events.md. Runs on the library's
/// delivery threads, never on the broker's.
public struct BodyBuilder: Sendable {
    public var encoding: PayloadEncoding

    public init(encoding: PayloadEncoding = .plain) {
        self.encoding = encoding
    }

    public func body(for event: Event) -> [UInt8] {
        var json = JSONWriter(capacity: 160 + event.storage.count * (encoding == .plain ? 1 : 2))
        append(event, to: &json)
        return json.bytes
    }

    /// A batch: a JSON array of the events' bodies, in order, each with its
    /// id as its first key (`"id"`), so a receiver can deduplicate each.
    public func batchBody(for events: [(event: Event, id: String)]) -> [UInt8] {
        var json = JSONWriter(capacity: events.reduce(2) { $0 + 200 + $1.event.storage.count * (encoding == .plain ? 1 : 2) })
        json.beginArray()
        for (event, id) in events { append(event, id: id, to: &json) }
        json.endArray()
        return json.bytes
    }

    /// The event's object; `id` first when given (batches).
    public func append(_ event: Event, id: String? = nil, to json: inout JSONWriter) {
        json.beginObject()
        if let id {
            json.key("id"); json.string(id)
        }
        switch event.kind {
        case .clientConnack:
            json.key("proto_ver"); json.integer(event.protocolVersion)
            json.key("keepalive"); json.integer(event.keepalive)
            json.key("conn_ack"); json.string(ReasonNames.connack(code: event.reasonCode, protocolVersion: event.protocolVersion))
            username(event, &json)
            clientID(event, &json)
            action(event, &json)

        case .clientDisconnected:
            json.key("reason"); json.string(reason(event))
            username(event, &json)
            clientID(event, &json)
            action(event, &json)

        case .messagePublish:
            json.key("ts"); json.integer(event.timestampMs)
            json.key("topic"); json.string(event.bytes(.topic))
            json.key("retain"); json.bool(event.retain)
            json.key("qos"); json.integer(event.qos)
            action(event, &json)
            json.key("from_username"); usernameValue(event.has(.username) ? event.bytes(.username) : nil, &json)
            json.key("from_client_id"); optionalString(event.has(.clientID) ? event.bytes(.clientID) : nil, &json)
            json.key("payload"); encoding.appendJSONString(event.bytes(.payload), to: &json)

        case .clientConnect, .clientConnected:
            action(event, &json)
            clientID(event, &json)
            username(event, &json)
            json.key("ipaddress"); optionalString(event.has(.peerAddress) ? Self.hostPart(event.bytes(.peerAddress)) : nil, &json)
            json.key("keepalive"); json.integer(event.keepalive)
            json.key("proto_ver"); json.integer(event.protocolVersion)
            if event.kind == .clientConnected {
                json.key("connected_at"); json.integer(event.timestampMs)
            }

        case .clientSubscribe, .sessionSubscribed, .clientUnsubscribe, .sessionUnsubscribed:
            action(event, &json)
            clientID(event, &json)
            username(event, &json)
            json.key("topic"); json.string(event.effectiveTopic)
            if event.kind != .sessionUnsubscribed {
                json.key("opts"); subscriptionOptions(event, &json)
            }

        case .sessionTerminated:
            action(event, &json)
            clientID(event, &json)
            username(event, &json)
            json.key("reason"); json.string(reason(event))

        case .messageDelivered, .messageAcked:
            action(event, &json)
            clientID(event, &json)
            username(event, &json)
            json.key("from_client_id"); optionalString(event.has(.fromClientID) ? event.bytes(.fromClientID) : nil, &json)
            json.key("from_username"); usernameValue(event.has(.fromUsername) ? event.bytes(.fromUsername) : nil, &json)
            json.key("topic"); json.string(event.bytes(.topic))
            json.key("qos"); json.integer(event.qos)
            json.key("retain"); json.bool(event.retain)
            json.key("payload"); encoding.appendJSONString(event.bytes(.payload), to: &json)
            json.key("ts"); json.integer(event.timestampMs)
        }
        json.endObject()
    }

    // MARK: Field helpers

    private func action(_ event: Event, _ json: inout JSONWriter) {
        json.key("action"); json.string(event.kind.action)
    }

    private func clientID(_ event: Event, _ json: inout JSONWriter) {
        json.key("clientid"); optionalString(event.has(.clientID) ? event.bytes(.clientID) : nil, &json)
    }

    private func username(_ event: Event, _ json: inout JSONWriter) {
        json.key("username"); usernameValue(event.has(.username) ? event.bytes(.username) : nil, &json)
    }

    /// NanoMQ writes a missing username as the string "undefined".
    private func usernameValue(_ value: ArraySlice<UInt8>?, _ json: inout JSONWriter) {
        if let value { json.string(value) } else { json.string("undefined") }
    }

    private func optionalString(_ value: ArraySlice<UInt8>?, _ json: inout JSONWriter) {
        if let value { json.string(value) } else { json.null() }
    }

    private func reason(_ event: Event) -> String {
        ReasonNames.disconnect(code: event.reasonCode, reasonString: event.string(.reasonString))
    }

    /// `{"qos":1,"nl":0,"rap":0,"rh":0}` (+ `"share"`); unsubscribe gets `{}` (+ `"share"`).
    private func subscriptionOptions(_ event: Event, _ json: inout JSONWriter) {
        json.beginObject()
        if event.kind == .clientSubscribe || event.kind == .sessionSubscribed {
            json.key("qos"); json.integer(event.qos)
            json.key("nl"); json.integer(event.noLocal ? 1 : 0)
            json.key("rap"); json.integer(event.retainAsPublished ? 1 : 0)
            json.key("rh"); json.integer(event.retainHandling)
        }
        if event.has(.shareGroup) {
            json.key("share"); json.string(event.bytes(.shareGroup))
        } else if let shared = Event.splitSharedFilter(event.bytes(.topic)) {
            json.key("share"); json.string(shared.group)
        }
        json.endObject()
    }

    /// The peer address without its port: `1.2.3.4:5` → `1.2.3.4`,
    /// `[::1]:5` → `::1`; a bare IPv6 address stays as it is.
    static func hostPart(_ address: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if address.first == UInt8(ascii: "["), let close = address.firstIndex(of: UInt8(ascii: "]")) {
            return address[(address.startIndex + 1)..<close]
        }
        let colons = address.lazy.filter { $0 == UInt8(ascii: ":") }.count
        if colons == 1, let colon = address.firstIndex(of: UInt8(ascii: ":")) {
            return address[..<colon]
        }
        return address
    }
}
