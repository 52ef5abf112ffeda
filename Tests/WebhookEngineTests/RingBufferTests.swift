import Foundation
import Testing
@testable import WebhookCore
@testable import WebhookEngine

@Suite struct RingBufferTests {
    @Test func fifoAcrossGrowthAndWrapAround() {
        var ring = RingBuffer<Int>()
        var model: [Int] = []
        var next = 0
        for round in 0..<200 {
            for _ in 0..<(round % 7 + 1) { ring.append(next); model.append(next); next += 1 }
            for _ in 0..<(round % 5) where !model.isEmpty { #expect(ring.popFirst() == model.removeFirst()) }
            #expect(ring.count == model.count && ring.first == model.first)
        }
        #expect(ring.removeAll() == model)
    }

    @Test func copiesDoNotShareElements() {
        var a = RingBuffer<String>()
        a.append("x")
        var b = a
        b.append("y")
        _ = a.popFirst()
        #expect(a.count == 0 && b.count == 2 && b.first == "x")
        var lanes = Array(repeating: a, count: 3)
        lanes[0].append("only in lane 0")
        #expect(lanes[1].isEmpty && lanes[2].isEmpty)
    }
}
