import Testing
@testable import WebhookCore

@Suite struct EventTests {
    @Test func everyFieldHasASlot() {
        #expect(Event.PerField<Int32>.count == Event.Field.allCases.count)
    }

    @Test func fieldsSetInAnyOrderReadBackAndAbsentOnesStayAbsent() {
        var event = Event(kind: .messageDelivered)
        event.set(.payload, bytes: [0, 1, 2])
        event.set(.clientID, "c")
        event.set(.topic, "")
        for field in Event.Field.allCases where ![.payload, .clientID, .topic].contains(field) {
            #expect(!event.has(field) && event.bytes(field).isEmpty, "\(field)")
        }
        #expect(Array(event.bytes(.payload)) == [0, 1, 2] && event.string(.clientID) == "c")
        #expect(event.has(.topic) && event.string(.topic) == "")
        event.clear(.clientID)
        #expect(!event.has(.clientID) && event.string(.clientID) == nil)
    }

    @Test func aSharedFilterIsSplitTheSameWayForEveryByteCollection() {
        let cases: [(String, String?, String?)] = [
            ("$share/g/a/b", "a/b", "g"), ("$share/g/#", "#", "g"), ("$share/g", nil, nil), ("$share/", nil, nil),
            ("$shared/g/a", nil, nil), ("a/$share/g/b", nil, nil), ("$share//a", "a", ""),
        ]
        for (topic, filter, group) in cases {
            let bytes = Array(topic.utf8)
            let fromSlice = Event.splitSharedFilter(bytes[...])
            #expect(fromSlice.map { String(decoding: $0.filter, as: UTF8.self) } == filter, "\(topic)")
            #expect(fromSlice.map { String(decoding: $0.group, as: UTF8.self) } == group, "\(topic)")
            bytes.withUnsafeBytes { raw in
                #expect(Event.splitSharedFilter(raw).map { String(decoding: $0.filter, as: UTF8.self) } == filter, "\(topic)")
            }
        }
    }

    @Test func onlySubscribeFamilyTopicsAreFilters() {
        let filters = EventKind.allCases.filter(\.topicIsFilter)
        #expect(Set(filters) == [.clientSubscribe, .clientUnsubscribe, .sessionSubscribed, .sessionUnsubscribed])
        var event = Event(kind: .messagePublish)
        event.set(.topic, "$share/g/a")
        #expect(String(decoding: event.effectiveTopic, as: UTF8.self) == "$share/g/a")
        event.kind = .sessionSubscribed
        #expect(String(decoding: event.effectiveTopic, as: UTF8.self) == "a")
    }
}
