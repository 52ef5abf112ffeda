import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// A queued event's bytes: what goes into a lane comes out the same, and the
/// log keeps records in order across blocks, spares and oversized records.
@Suite struct EventRecordTests {
    func sample(_ i: Int, payload: Int) -> Event {
        var random = SeededRandom(state: UInt64(i + 1))
        var event = Event(kind: EventKind.allCases[i % EventKind.allCases.count])
        event.set(.clientID, "client-\(i)")
        if i % 2 == 0 { event.set(.username, "") }  // present and empty is not absent
        if i % 3 == 0 { event.set(.peerAddress, "10.0.0.\(i % 250):1883") }
        event.set(.topic, "t/\(i)")
        event.set(.payload, bytes: (0..<payload).map { _ in UInt8.random(in: 0...255, using: &random) })
        event.protocolVersion = 5
        event.keepalive = UInt16(i % 65536)
        event.reasonCode = UInt8(i % 256)
        event.qos = UInt8(i % 3)
        event.retain = i % 2 == 1
        event.noLocal = i % 3 == 1
        event.retainAsPublished = i % 5 == 1
        event.retainHandling = UInt8(i % 3)
        event.timestampMs = 1_700_000_000_000 + UInt64(i)
        return event
    }

    func same(_ a: Event, _ b: Event) -> Bool {
        Event.Field.allCases.allSatisfy { a.has($0) == b.has($0) && a.bytes($0) == b.bytes($0) }
            && a.kind == b.kind && a.protocolVersion == b.protocolVersion && a.keepalive == b.keepalive
            && a.reasonCode == b.reasonCode && a.qos == b.qos && a.retain == b.retain && a.noLocal == b.noLocal
            && a.retainAsPublished == b.retainAsPublished && a.retainHandling == b.retainHandling
            && a.timestampMs == b.timestampMs
    }

    @Test func aRecordReadsBackAsTheEventThatWasWritten() {
        for i in 0..<50 {
            let event = sample(i, payload: i * 37)
            event.withRawEvent { raw in
                let size = EventRecord.size(of: raw)
                #expect(size % 8 == 0 && size >= EventRecord.headerSize + i * 37)
                let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
                defer { memory.deallocate() }
                EventRecord.write(raw, timestampMs: raw.header.timestampMs, acceptedAtNs: UInt64(i) * 1000,
                                  id: EventID(tag: 0xFEED_F00D, lane: UInt32(i), sequence: UInt64(i) * 7), size: size, to: memory)
                #expect(EventRecord.size(memory) == size && EventRecord.acceptedAtNs(memory) == UInt64(i) * 1000)
                let back = EventRecord.read(memory)
                #expect(same(back.event, event), "event \(i)")
                #expect(back.acceptedAtNs == UInt64(i) * 1000 && back.id == EventID(tag: 0xFEED_F00D, lane: UInt32(i), sequence: UInt64(i) * 7))
            }
        }
    }

    @Test func theLogIsFirstInFirstOutAcrossBlocksAndOversizedRecords() {
        var log = EventLog()
        var model: [Int] = []
        var next = 0
        func push(_ count: Int) {
            for _ in 0..<count {
                // Mostly small; every 97th larger than a block.
                let event = sample(next, payload: next % 97 == 0 ? EventLog.blockSize + 100 : next % 300)
                event.withRawEvent { raw in
                    let size = EventRecord.size(of: raw)
                    log.append(size: size) { EventRecord.write(raw, timestampMs: raw.header.timestampMs, acceptedAtNs: UInt64(next), id: EventID(tag: 1, lane: 0, sequence: UInt64(next)), size: size, to: $0) }
                }
                model.append(next)
                next += 1
            }
        }
        for round in 0..<60 {
            push(round % 4 == 0 ? 700 : round % 9 + 1)
            let pops = round % 5 == 0 ? model.count : min(model.count, round * 3 % 400)
            for _ in 0..<pops {
                let expected = model.removeFirst()
                let got = log.removeFirst { EventRecord.read($0) }
                #expect(got?.acceptedAtNs == UInt64(expected) && same(got!.event, sample(expected, payload: expected % 97 == 0 ? EventLog.blockSize + 100 : expected % 300)))
            }
            #expect(log.count == model.count)
            #expect(log.withFirst(EventRecord.acceptedAtNs) == model.first.map(UInt64.init))
        }
        while log.removeFirst(EventRecord.size) != nil {}
        #expect(log.isEmpty && log.removeFirst(EventRecord.size) == nil)
    }

    @Test func anEventCopiedFromItsRawViewIsTheSame() {
        for i in 0..<20 {
            let event = sample(i, payload: i)
            #expect(event.withRawEvent { same(Event(copying: $0), event) })
        }
    }
}
