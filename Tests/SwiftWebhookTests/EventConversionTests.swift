import CSwiftWebhookABI
import Testing
@testable import SwiftWebhook
@testable import WebhookCore

/// Reading a broker's `swiftwebhook_event`: every field a C caller can get wrong.
@Suite struct EventConversionTests {
    func event(_ type: swiftwebhook_event_type) -> swiftwebhook_event {
        var e = swiftwebhook_event()
        e.size = MemoryLayout<swiftwebhook_event>.size
        e.type = Int32(type.rawValue)
        return e
    }

    @Test func sizeAndTypeAreCheckedFirst() {
        var e = event(SWIFTWEBHOOK_MESSAGE_PUBLISH)
        #expect(withUnsafePointer(to: &e) { EventConversion.kind(of: $0) } == .messagePublish)
        for size in [0, 8, MemoryLayout<swiftwebhook_event>.size - 1, 65537, Int.max, -1] {
            e.size = size
            #expect(withUnsafePointer(to: &e) { EventConversion.kind(of: $0) } == nil, "size \(size)")
        }
        e.size = MemoryLayout<swiftwebhook_event>.size
        for type in [-1, Int32(EventKind.allCases.count), Int32.max, Int32.min] {
            e.type = type
            #expect(withUnsafePointer(to: &e) { EventConversion.kind(of: $0) } == nil, "type \(type)")
        }
        // A later, larger layout is accepted: the fields it adds are not read.
        e.type = Int32(SWIFTWEBHOOK_CLIENT_CONNECTED.rawValue)
        e.size = MemoryLayout<swiftwebhook_event>.size + 64
        #expect(withUnsafePointer(to: &e) { EventConversion.kind(of: $0) } == .clientConnected)
    }

    @Test func everyFieldIsCopied() throws {
        var e = event(SWIFTWEBHOOK_MESSAGE_DELIVERED)
        let payload: [UInt8] = [0x61, 0, 0xff, 0x62]
        let converted = try "c1".withCString { client in
            try "u1".withCString { user in
                try "10.0.0.1:1883".withCString { peer in
                    try "a/b".withCString { topic in
                        try "pub".withCString { from in
                            try payload.withUnsafeBytes { bytes in
                                e.clientid = client
                                e.username = user
                                e.peer_address = peer
                                e.topic = topic
                                e.from_clientid = from
                                e.payload = bytes.baseAddress
                                e.payload_len = bytes.count
                                e.qos = 7  // clamped
                                e.retain = 2
                                e.proto_ver = 5
                                e.timestamp_ms = 1234
                                return Event(copying: try rawEvent(e, kind: .messageDelivered))
                            }
                        }
                    }
                }
            }
        }
        #expect(converted.string(.clientID) == "c1" && converted.string(.username) == "u1")
        #expect(converted.string(.peerAddress) == "10.0.0.1:1883" && converted.string(.topic) == "a/b")
        #expect(converted.string(.fromClientID) == "pub" && !converted.has(.fromUsername) && !converted.has(.reasonString))
        #expect(Array(converted.bytes(.payload)) == payload)  // NUL and 0xff kept
        #expect(converted.qos == 2 && converted.retain && converted.protocolVersion == 5 && converted.timestampMs == 1234)
    }

    @Test func payloadLengthsACallerCanGetWrong() {
        var e = event(SWIFTWEBHOOK_MESSAGE_PUBLISH)
        // size_t 2^63 and above arrive negative.
        for length in [-1, Int.min, EventConversion.maxPayload + 1] {
            e.payload_len = length
            #expect(throws: EventConversion.Failure.self) { try rawEvent(e, kind: .messagePublish) }
        }
        e.payload = nil
        e.payload_len = 1
        #expect(throws: EventConversion.Failure.self) { try rawEvent(e, kind: .messagePublish) }
        e.payload_len = 0
        #expect((try? rawEvent(e, kind: .messagePublish)).map { Event(copying: $0) }?.bytes(.payload).isEmpty == true)
        // Events without a payload ignore the fields.
        e.payload = UnsafeRawPointer(bitPattern: 0x10)
        e.payload_len = 99
        #expect((try? rawEvent(e, kind: .clientConnected))?.has(.payload) == false)
    }

    @Test func aStringLongerThanMQTTAllowsIsRefused() throws {
        let long = [CChar](repeating: 0x61, count: EventConversion.maxString + 1) + [0]
        let exact = [CChar](repeating: 0x61, count: EventConversion.maxString) + [0]
        _ = long.withUnsafeBufferPointer { buffer in
            #expect(throws: EventConversion.Failure.self) { try EventConversion.bytes(buffer.baseAddress) }
        }
        exact.withUnsafeBufferPointer { buffer in
            #expect((try? EventConversion.bytes(buffer.baseAddress))??.count == EventConversion.maxString)
        }
        // An absent string is no error (`try?` would flatten the two nils).
        #expect(try EventConversion.bytes(nil) == nil)
    }

    @Test func rulesMatchASharedFilterWithoutItsGroup() {
        func match(_ kind: EventKind, _ topic: String) -> String {
            Array(topic.utf8).withUnsafeBytes { String(decoding: EventConversion.matchTopic(kind, $0), as: UTF8.self) }
        }
        #expect(match(.sessionSubscribed, "$share/g1/a/b") == "a/b")
        #expect(match(.clientSubscribe, "$share/g1/a/b") == "a/b")
        #expect(match(.sessionSubscribed, "$share/g1") == "$share/g1")  // no filter: not shared
        // A topic name is never a shared filter.
        #expect(match(.messagePublish, "$share/g1/a/b") == "$share/g1/a/b")
        #expect(match(.sessionSubscribed, "a/b") == "a/b")
    }
}

/// `EventConversion.rawEvent` on a struct the test holds by value.
private func rawEvent(_ e: swiftwebhook_event, kind: EventKind) throws -> RawEvent {
    try withUnsafePointer(to: e) { try EventConversion.rawEvent($0, kind: kind) }
}
