import Foundation
import Testing
import TestKit
@testable import WebhookCore

func body(_ event: Event, _ encoding: PayloadEncoding = .plain) -> String {
    String(decoding: BodyBuilder(encoding: encoding).body(for: event), as: UTF8.self)
}

func makeEvent(_ kind: EventKind, _ fill: (inout Event) -> Void) -> Event {
    var event = Event(kind: kind)
    fill(&event)
    return event
}

@Suite struct BodyTests {
    // MARK: The three events NanoMQ ships: byte-identical to what it sends.

    @Test func connackAsNanoMQSendsIt() {
        let event = makeEvent(.clientConnack) {
            $0.protocolVersion = 4; $0.keepalive = 60; $0.set(.username, "alice"); $0.set(.clientID, "pub1")
        }
        #expect(body(event) == #"{"proto_ver":4,"keepalive":60,"conn_ack":"success","username":"alice","clientid":"pub1","action":"client_connack"}"#)
        let anonymous = makeEvent(.clientConnack) { $0.keepalive = 60; $0.set(.clientID, "pub2") }
        #expect(body(anonymous) == #"{"proto_ver":4,"keepalive":60,"conn_ack":"success","username":"undefined","clientid":"pub2","action":"client_connack"}"#)
    }

    @Test func connackReasonNames() {
        func connAck(_ code: UInt8, v: UInt8) -> String? {
            let event = makeEvent(.clientConnack) { $0.reasonCode = code; $0.protocolVersion = v }
            let object = try? JSONSerialization.jsonObject(with: Data(BodyBuilder().body(for: event))) as? [String: Any]
            return object?["conn_ack"] as? String
        }
        #expect(connAck(0, v: 4) == "success")
        #expect(connAck(0, v: 5) == "success")
        #expect(connAck(5, v: 4) == "not_authorized")
        #expect(connAck(4, v: 3) == "bad_username_or_password")
        #expect(connAck(2, v: 4) == "client_identifier_not_valid")
        #expect(connAck(3, v: 4) == "server_unavailable")
        #expect(connAck(1, v: 4) == "unsupported_protocol_version")
        #expect(connAck(0x87, v: 5) == "not_authorized")
        #expect(connAck(0x86, v: 5) == "bad_username_or_password")
        #expect(connAck(0x8A, v: 5) == "banned")
        #expect(connAck(0x84, v: 5) == "unsupported_protocol_version")
        #expect(connAck(0x85, v: 5) == "client_identifier_not_valid")
        #expect(connAck(0x88, v: 5) == "server_unavailable")
        #expect(connAck(0x42, v: 5) == "reason_code_66")
    }

    @Test func disconnectedAsNanoMQSendsIt() {
        let event = makeEvent(.clientDisconnected) { $0.set(.username, "alice"); $0.set(.clientID, "pub1") }
        #expect(body(event) == #"{"reason":"normal","username":"alice","clientid":"pub1","action":"client_disconnected"}"#)
    }

    @Test func disconnectReasons() {
        func reason(_ code: UInt8, _ text: String? = nil) -> String {
            let event = makeEvent(.clientDisconnected) { $0.reasonCode = code; $0.set(.reasonString, text) }
            let object = try! JSONSerialization.jsonObject(with: Data(BodyBuilder().body(for: event))) as! [String: Any]
            return object["reason"] as! String
        }
        #expect(reason(0) == "normal")
        #expect(reason(0x8D) == "keepalive_timeout")
        #expect(reason(0x8E) == "takeovered")
        #expect(reason(0x98) == "kicked")
        #expect(reason(0x82) == "protocol_error")
        #expect(reason(0x04) == "disconnect_with_will_message")
        #expect(reason(0x80, "closed") == "closed", "the broker's own reason string wins")
        #expect(reason(0, "") == "normal", "an empty reason string is no reason string")
    }

    @Test func publishAsNanoMQSendsIt() {
        let event = makeEvent(.messagePublish) {
            $0.timestampMs = 1_795_923_282_931; $0.set(.topic, "a/b"); $0.qos = 1
            $0.set(.username, "alice"); $0.set(.clientID, "pub1"); $0.set(.payload, "hello \"world\"")
        }
        #expect(body(event) == #"{"ts":1795923282931,"topic":"a/b","retain":false,"qos":1,"action":"message_publish","from_username":"alice","from_client_id":"pub1","payload":"hello \"world\""}"#)
    }

    @Test func publishWithoutClientIDGivesNull() {
        let event = makeEvent(.messagePublish) { $0.timestampMs = 1; $0.set(.topic, "t"); $0.retain = true; $0.set(.payload, "") }
        #expect(body(event) == #"{"ts":1,"topic":"t","retain":true,"qos":0,"action":"message_publish","from_username":"undefined","from_client_id":null,"payload":""}"#)
    }

    @Test func payloadEncodings() {
        let bytes: [UInt8] = [UInt8(ascii: "b"), UInt8(ascii: "i"), UInt8(ascii: "n"), 0, 0xFF, 0xFE]
        let event = makeEvent(.messagePublish) { $0.timestampMs = 1; $0.set(.topic, "t"); $0.set(.payload, bytes: bytes) }
        #expect(body(event, .plain).hasSuffix(#""payload":"bin\u0000��"}"#), "NanoMQ truncates at the NUL; we do not")
        #expect(body(event, .base64).hasSuffix(#""payload":"YmluAP/+"}"#))
        #expect(body(event, .base62).hasSuffix("\"payload\":\"\(referenceBase62(bytes))\"}"))
    }

    // MARK: The nine events NanoMQ lists as upcoming (EMQX 4.4 field names).

    @Test func clientConnectAndConnected() {
        let connect = makeEvent(.clientConnect) {
            $0.set(.clientID, "c1"); $0.set(.username, "u"); $0.set(.peerAddress, "10.0.0.7:51234"); $0.keepalive = 30; $0.protocolVersion = 5
        }
        #expect(body(connect) == #"{"action":"client_connect","clientid":"c1","username":"u","ipaddress":"10.0.0.7","keepalive":30,"proto_ver":5}"#)
        let connected = makeEvent(.clientConnected) {
            $0.set(.clientID, "c1"); $0.set(.peerAddress, "[::1]:1883"); $0.keepalive = 60; $0.timestampMs = 1700000000123
        }
        #expect(body(connected) == #"{"action":"client_connected","clientid":"c1","username":"undefined","ipaddress":"::1","keepalive":60,"proto_ver":4,"connected_at":1700000000123}"#)
        let bareIPv6 = makeEvent(.clientConnect) { $0.set(.peerAddress, "fe80::1") }
        #expect(body(bareIPv6).contains(#""ipaddress":"fe80::1""#))
        let noPeer = makeEvent(.clientConnect) { _ in }
        #expect(body(noPeer).contains(#""clientid":null,"username":"undefined","ipaddress":null"#))
    }

    @Test func subscribeFamily() {
        let subscribe = makeEvent(.clientSubscribe) {
            $0.set(.clientID, "c1"); $0.set(.username, "u"); $0.set(.topic, "a/+"); $0.qos = 1
        }
        #expect(body(subscribe) == #"{"action":"client_subscribe","clientid":"c1","username":"u","topic":"a/+","opts":{"qos":1,"nl":0,"rap":0,"rh":0}}"#)
        let sessionSubscribed = makeEvent(.sessionSubscribed) {
            $0.set(.clientID, "c1"); $0.set(.topic, "a/#"); $0.qos = 2; $0.noLocal = true; $0.retainAsPublished = true; $0.retainHandling = 2
        }
        #expect(body(sessionSubscribed) == #"{"action":"session_subscribed","clientid":"c1","username":"undefined","topic":"a/#","opts":{"qos":2,"nl":1,"rap":1,"rh":2}}"#)
        let unsubscribe = makeEvent(.clientUnsubscribe) { $0.set(.clientID, "c1"); $0.set(.username, "u"); $0.set(.topic, "a/+") }
        #expect(body(unsubscribe) == #"{"action":"client_unsubscribe","clientid":"c1","username":"u","topic":"a/+","opts":{}}"#)
        let sessionUnsubscribed = makeEvent(.sessionUnsubscribed) { $0.set(.clientID, "c1"); $0.set(.username, "u"); $0.set(.topic, "a/+") }
        #expect(body(sessionUnsubscribed) == #"{"action":"session_unsubscribed","clientid":"c1","username":"u","topic":"a/+"}"#)
    }

    @Test func sharedSubscriptions() {
        let fromPrefix = makeEvent(.clientSubscribe) { $0.set(.clientID, "c"); $0.set(.username, "u"); $0.set(.topic, "$share/g1/a/b"); $0.qos = 1 }
        #expect(body(fromPrefix) == #"{"action":"client_subscribe","clientid":"c","username":"u","topic":"a/b","opts":{"qos":1,"nl":0,"rap":0,"rh":0,"share":"g1"}}"#)
        let fromField = makeEvent(.sessionSubscribed) { $0.set(.clientID, "c"); $0.set(.username, "u"); $0.set(.topic, "a/b"); $0.set(.shareGroup, "g2") }
        #expect(body(fromField) == #"{"action":"session_subscribed","clientid":"c","username":"u","topic":"a/b","opts":{"qos":0,"nl":0,"rap":0,"rh":0,"share":"g2"}}"#)
        let unsubscribe = makeEvent(.clientUnsubscribe) { $0.set(.clientID, "c"); $0.set(.username, "u"); $0.set(.topic, "$share/g1/a/b") }
        #expect(body(unsubscribe) == #"{"action":"client_unsubscribe","clientid":"c","username":"u","topic":"a/b","opts":{"share":"g1"}}"#)
        // A publish topic is never rewritten.
        let publish = makeEvent(.messagePublish) { $0.set(.topic, "$share/g1/a") }
        #expect(body(publish).contains(#""topic":"$share/g1/a""#))
    }

    @Test func sessionTerminated() {
        let event = makeEvent(.sessionTerminated) { $0.set(.clientID, "c1"); $0.set(.username, "u"); $0.reasonCode = 0x8E }
        #expect(body(event) == #"{"action":"session_terminated","clientid":"c1","username":"u","reason":"takeovered"}"#)
    }

    @Test func deliveredAndAcked() {
        for (kind, action) in [(EventKind.messageDelivered, "message_delivered"), (.messageAcked, "message_acked")] {
            let event = makeEvent(kind) {
                $0.set(.clientID, "sub1"); $0.set(.username, "bob"); $0.set(.fromClientID, "pub1"); $0.set(.fromUsername, "alice")
                $0.set(.topic, "a/b"); $0.qos = 1; $0.retain = true; $0.set(.payload, "hi"); $0.timestampMs = 42
            }
            #expect(body(event) == "{\"action\":\"\(action)\",\"clientid\":\"sub1\",\"username\":\"bob\",\"from_client_id\":\"pub1\",\"from_username\":\"alice\",\"topic\":\"a/b\",\"qos\":1,\"retain\":true,\"payload\":\"hi\",\"ts\":42}")
            #expect(body(event, .base64).contains(#""payload":"aGk=""#))
        }
        let anonymous = makeEvent(.messageDelivered) { $0.set(.topic, "t") }
        #expect(body(anonymous).contains(#""from_client_id":null,"from_username":"undefined""#))
    }

    // MARK: Valid JSON whatever the broker passes.

    @Test func controlCharactersAreEscapedLikeCJSON() {
        let text: [UInt8] = Array(0...0x1F) + [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), 0x7F]
        let event = makeEvent(.clientDisconnected) { $0.set(.clientID, bytes: text) }
        #expect(body(event).contains(#""clientid":"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\"\\/"#))
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        let cases: [[UInt8]] = [
            [0xC0, 0xAF],                   // overlong
            [0xED, 0xA0, 0x80],             // surrogate
            [0xF4, 0x90, 0x80, 0x80],       // beyond U+10FFFF
            [0xE2, 0x82],                   // truncated
            [0xF0, 0x9F, 0x98],             // truncated 4-byte
            [0x80], [0xFF], [0xE2, 0x28, 0xA1],
            Array("é😀✓".utf8),             // valid, must pass through
        ]
        for bytes in cases {
            let event = makeEvent(.clientDisconnected) { $0.set(.clientID, bytes: bytes) }
            let data = BodyBuilder().body(for: event)
            let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any]
            // Swift's decoder applies the same maximal-subpart rule.
            #expect(object?["clientid"] as? String == String(decoding: bytes, as: UTF8.self), "\(bytes)")
        }
    }

    @Test func randomBytesInEveryFieldStillGiveValidJSON() throws {
        var rng = SeededRandom(state: 7)
        for round in 0..<600 {
            let kind = EventKind.allCases[round % EventKind.allCases.count]
            var event = Event(kind: kind)
            var expected: [Event.Field: [UInt8]] = [:]
            for field in Event.Field.allCases where Bool.random(using: &rng) {
                let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                event.set(field, bytes: bytes)
                expected[field] = bytes
            }
            event.protocolVersion = UInt8.random(in: 0...255, using: &rng)
            event.reasonCode = UInt8.random(in: 0...255, using: &rng)
            event.qos = UInt8.random(in: 0...2, using: &rng)
            event.timestampMs = UInt64.random(in: 0...UInt64(Int64.max), using: &rng)
            for encoding in PayloadEncoding.allCases {
                let data = Data(BodyBuilder(encoding: encoding).body(for: event))
                let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                #expect(parsed?["action"] as? String == kind.action)
                if let clientID = expected[.clientID] {
                    let key = kind == .messagePublish ? "from_client_id" : "clientid"
                    #expect(parsed?[key] as? String == String(decoding: clientID, as: UTF8.self))
                }
                if kind.hasPayload, encoding == .base64 {
                    let payload = Data(base64Encoded: parsed?["payload"] as? String ?? "!")
                    #expect(payload == Data(expected[.payload] ?? []))
                }
            }
        }
    }

    @Test func everyEventRoundTripsThroughAJSONParser() throws {
        for kind in EventKind.allCases {
            let event = makeEvent(kind) {
                $0.set(.clientID, "c\"1"); $0.set(.username, "ü"); $0.set(.topic, "a/b"); $0.set(.payload, "p\n")
                $0.set(.peerAddress, "127.0.0.1:1"); $0.set(.fromClientID, "f"); $0.set(.fromUsername, "fu"); $0.timestampMs = 9
            }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(BodyBuilder().body(for: event))) as? [String: Any])
            #expect(object["action"] as? String == kind.action)
            #expect(object[kind == .messagePublish ? "from_client_id" : "clientid"] as? String == "c\"1")
            if kind != .messagePublish { #expect(object["username"] as? String == "ü") }
            if kind.hasPayload { #expect(object["payload"] as? String == "p\n") }
            if kind.hasTopic { #expect(object["topic"] as? String == "a/b") }
        }
    }
}
