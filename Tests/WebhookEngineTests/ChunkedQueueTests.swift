import Testing
@testable import WebhookEngine

@Suite struct ChunkedQueueTests {
    /// Against an Array as the model, across chunk boundaries, emptying
    /// and refilling (the spare chunk), in many patterns.
    @Test func fifoAcrossChunksAndEmptying() {
        var queue = ChunkedQueue<Int>()
        var model: [Int] = []
        var next = 0
        let chunk = ChunkedQueue<Int>.chunkCapacity
        for round in 0..<400 {
            let pushes = round % 3 == 0 ? chunk * 2 + round % 5 : round % 7 + 1
            for _ in 0..<pushes { queue.append(next); model.append(next); next += 1 }
            let pops = round % 4 == 0 ? model.count : min(model.count, round % 9 + chunk / 2)
            for _ in 0..<pops { #expect(queue.popFirst() == model.removeFirst()) }
            #expect(queue.count == model.count)
            #expect(queue.withFirst { $0 } == model.first)
        }
        #expect(queue.removeAll() == model)
        #expect(queue.isEmpty && queue.popFirst() == nil)
    }

    /// Elements are moved, not leaked or released twice: every object the
    /// queue held is gone once the queue and the values popped are.
    @Test func ownsItsElements() {
        final class Tracked {
            static let lock = Lock()
            nonisolated(unsafe) static var alive = 0
            init() { Tracked.lock.withLock { Tracked.alive += 1 } }
            deinit { Tracked.lock.withLock { Tracked.alive -= 1 } }
        }
        do {
            var queue = ChunkedQueue<Tracked>()
            for _ in 0..<1000 { queue.append(Tracked()) }
            for _ in 0..<300 { _ = queue.popFirst() }
            #expect(Tracked.alive == 700)
        }
        #expect(Tracked.alive == 0)
    }
}
