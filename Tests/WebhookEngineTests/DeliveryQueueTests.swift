import Foundation
import Testing
@testable import WebhookCore
@testable import WebhookEngine

/// The queue on its own: lanes, bounds, overflow, counters, drain and stop,
/// with plain objects in place of connections.
@Suite struct DeliveryQueueTests {
    final class Worker: QueueWaiter {
        func wake() {}
    }
    typealias Queue = DeliveryQueue<Worker>

    func limits(events: Int = 100, bytes: Int = 1 << 20, overflow: OverflowPolicy = .dropNew) -> QueueLimits {
        var limits = QueueLimits()
        limits.maxEvents = events
        limits.maxBytes = bytes
        limits.overflow = overflow
        return limits
    }

    func submit(_ queue: Queue, _ event: Event, lane: Int, nowNs: UInt64) -> Queue.SubmitResult {
        event.withRawEvent { queue.submit($0, timestampMs: $0.header.timestampMs, lane: lane, nowNs: nowNs) }
    }

    func queued(_ result: Queue.SubmitResult) -> Bool {
        if case .queued = result { return true }
        return false
    }

    func dropped(_ result: Queue.SubmitResult) -> Bool {
        if case .dropped = result { return true }
        return false
    }

    @Test func withASpoolALaneStagesWhatMemoryCannotHoldAndKeepsOrderBehindIt() {
        let queue = Queue(laneCount: 1, limits: limits(events: 2), spill: SpillLimits(always: false, stagingBytesPerLane: 1024))
        let big = String(repeating: "x", count: 4096)
        #expect(queued(submit(queue, publish("a", "1"), lane: 0, nowNs: 1)) && queued(submit(queue, publish("a", "2"), lane: 0, nowNs: 2)))
        // Memory is full: staged. An event larger than the staging bound still goes when staging is empty.
        #expect(queued(submit(queue, publish("a", big), lane: 0, nowNs: 3)))
        #expect(dropped(submit(queue, publish("a", "4"), lane: 0, nowNs: 4)), "staging is full until the spool thread takes it")
        var spare = EventLog()
        queue.takeStaged(lane: 0, into: &spare)
        #expect(spare.count == 1)
        // Room in memory again, but the lane still has an event in the spool: the new one follows it.
        _ = queue.take(lane: 0, for: Worker())
        #expect(queued(submit(queue, publish("a", "5"), lane: 0, nowNs: 5)))
        var next = EventLog()
        queue.takeStaged(lane: 0, into: &next)
        #expect(next.count == 1)
        let stats = queue.snapshot()
        #expect(stats.spooled == 2 && stats.droppedSpool == 1 && stats.isBalanced, "\(stats)")
    }

    @Test func aParkedWorkerIsHandedBackWithTheNextEventOfItsLane() {
        let queue = Queue(laneCount: 2, limits: limits())
        let worker = Worker()
        #expect(queue.takeOne(lane: 1, for: worker) == nil)
        // An event on the other lane does not wake it.
        guard case .queued(let none) = submit(queue, publish("a", "1"), lane: 0, nowNs: 1) else { Issue.record("not queued"); return }
        #expect(none == nil)
        guard case .queued(let woken) = submit(queue, publish("b", "1"), lane: 1, nowNs: 2) else { Issue.record("not queued"); return }
        #expect(woken === worker)
        #expect(queue.takeOne(lane: 1, for: worker)?.event.string(.clientID) == "b")
        let stats = queue.snapshot()
        #expect(stats.matched == 2 && stats.queued == 1 && stats.inFlight == 1 && stats.isBalanced)
    }

    @Test func eachLaneIsFirstInFirstOut() {
        let queue = Queue(laneCount: 3, limits: limits(events: 10_000))
        for i in 0..<3000 { _ = submit(queue, publish("c\(i % 3)", "\(i)"), lane: i % 3, nowNs: UInt64(i)) }
        let worker = Worker()
        for lane in 0..<3 {
            var seen: [Int] = []
            while let next = queue.takeOne(lane: lane, for: worker) {
                seen.append(Int(next.event.string(.payload)!)!)
                _ = queue.completeOne(next, .delivered, lane: lane, for: worker, takeNext: false)
            }
            #expect(seen == Array(stride(from: lane, to: 3000, by: 3)))
        }
        let stats = queue.snapshot()
        #expect(stats.delivered == 3000 && stats.queued == 0 && stats.queuedBytes == 0 && stats.isBalanced)
    }

    @Test func dropNewRefusesTheNewEventAtEitherBound() {
        let byEvents = Queue(laneCount: 2, limits: limits(events: 3))
        let results = (0..<5).map { submit(byEvents, publish("c", "\($0)"), lane: $0 % 2, nowNs: 0) }
        #expect(results.map(queued) == [true, true, true, false, false])
        var stats = byEvents.snapshot()
        #expect(stats.queued == 3 && stats.droppedQueueFull == 2 && stats.matched == 5 && stats.isBalanced)

        let size = publish("c", "0123456789").withRawEvent { EventRecord.size(of: $0) }
        let byBytes = Queue(laneCount: 1, limits: limits(events: 100, bytes: size * 2 + size / 2))
        #expect([0, 1, 2].map { _ in queued(submit(byBytes, publish("c", "0123456789"), lane: 0, nowNs: 0)) } == [true, true, false])
        stats = byBytes.snapshot()
        #expect(stats.queuedBytes == UInt64(size * 2) && stats.droppedQueueFull == 1 && stats.isBalanced)
        // Taking an event frees its room.
        _ = byBytes.takeOne(lane: 0, for: Worker())
        #expect(queued(submit(byBytes, publish("c", "0123456789"), lane: 0, nowNs: 0)))
    }

    @Test func dropOldDropsTheOldestEventOfAnyLane() {
        let queue = Queue(laneCount: 2, limits: limits(events: 2, overflow: .dropOld))
        _ = submit(queue, publish("old", "1"), lane: 1, nowNs: 100)
        _ = submit(queue, publish("young", "2"), lane: 0, nowNs: 200)
        #expect(queued(submit(queue, publish("new", "3"), lane: 0, nowNs: 300)))
        let worker = Worker()
        #expect(queue.takeOne(lane: 1, for: worker) == nil)  // "old" went
        #expect(queue.takeOne(lane: 0, for: worker)?.event.string(.clientID) == "young")
        let stats = queue.snapshot()
        #expect(stats.droppedQueueFull == 1 && stats.matched == 3 && stats.isBalanced)
    }

    @Test func dropOldWithEverythingInFlightDropsTheNewEvent() {
        let queue = Queue(laneCount: 1, limits: limits(events: 1, overflow: .dropOld))
        _ = submit(queue, publish("a", "1"), lane: 0, nowNs: 0)
        // Taking it frees its room in the queue: the next one fits.
        _ = queue.takeOne(lane: 0, for: Worker())
        #expect(queued(submit(queue, publish("b", "2"), lane: 0, nowNs: 0)))
        // Full again; "b" is the oldest queued and goes.
        #expect(queued(submit(queue, publish("c", "3"), lane: 0, nowNs: 0)))
        #expect(queue.snapshot().droppedQueueFull == 1)
    }

    @Test func closeRefusesAndTheDrainWaitsForCompletions() throws {
        let queue = Queue(laneCount: 2, limits: limits())
        let worker = Worker()
        _ = submit(queue, publish("a", "1"), lane: 0, nowNs: 0)
        let taken = try #require(queue.takeOne(lane: 0, for: worker))
        queue.close()
        guard case .shuttingDown = submit(queue, publish("b", "2"), lane: 1, nowNs: 0) else { Issue.record("accepted after close"); return }
        // Nothing completes: the drain times out, whatever the clock says.
        #expect(!queue.waitUntilDrained(deadlineNs: Clock.monotonicNanoseconds() + 20_000_000))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
            _ = queue.completeOne(taken, .delivered, lane: 0, for: worker, takeNext: true)
        }
        #expect(queue.waitUntilDrained(deadlineNs: Clock.monotonicNanoseconds() + 60_000_000_000))
        let stats = queue.snapshot()
        #expect(stats.delivered == 1 && stats.matched == 1 && stats.isBalanced)
    }

    @Test func stopDropsWhatIsQueuedAndHandsOutNothingMore() {
        let queue = Queue(laneCount: 2, limits: limits())
        for i in 0..<5 { _ = submit(queue, publish("c", "\(i)"), lane: i % 2, nowNs: 0) }
        let worker = Worker()
        let taken = queue.takeOne(lane: 0, for: worker)!
        queue.close()
        #expect(queue.stop() == 4)
        #expect(queue.isStopping && queue.takeOne(lane: 1, for: worker) == nil)
        _ = queue.completeOne(taken, .droppedAtShutdown, lane: 0, for: worker, takeNext: true)
        let stats = queue.snapshot()
        #expect(stats.droppedShutdown == 5 && stats.queued == 0 && stats.queuedBytes == 0 && stats.inFlight == 0 && stats.isBalanced)
    }

    /// Broker threads submit to every lane while workers take and complete:
    /// at the end every event is counted once, each lane's events came out
    /// in the order they went in, and no snapshot ever saw the bound exceeded.
    @Test func concurrentSubmitsAndCompletionsKeepTheBooksAndTheOrder() {
        let lanes = 4, producers = 4, perProducer = 5000, bound = 500
        for overflow in [OverflowPolicy.dropNew, .dropOld] {
            let queue = Queue(laneCount: lanes, limits: limits(events: bound, overflow: overflow))
            let books = Lock()
            nonisolated(unsafe) var producing = producers
            nonisolated(unsafe) var order = [[(producer: Int, index: Int)]](repeating: [], count: lanes)
            nonisolated(unsafe) var boundExceeded = false
            // Real threads: workers that poll must not starve the producers
            // of a two-thread cooperative pool.
            let done = DispatchGroup()
            func spawn(_ body: @escaping @Sendable () -> Void) {
                done.enter()
                Thread.detachNewThread { body(); done.leave() }
            }
            for p in 0..<producers {
                spawn {
                    for i in 0..<perProducer {
                        _ = submit(queue, publish("p\(p)", "\(p):\(i)"), lane: (p + i) % lanes, nowNs: Clock.monotonicNanoseconds())
                    }
                    books.withLock { producing -= 1 }
                }
            }
            for lane in 0..<lanes {
                spawn {
                    let worker = Worker()
                    var seen: [(producer: Int, index: Int)] = []
                    while true {
                        if let next = queue.takeOne(lane: lane, for: worker) {
                            let parts = next.event.string(.payload)!.split(separator: ":").map { Int($0)! }
                            seen.append((parts[0], parts[1]))
                            _ = queue.completeOne(next, .delivered, lane: lane, for: worker, takeNext: false)
                        } else if books.withLock({ producing == 0 }) {
                            if queue.takeOne(lane: lane, for: worker) == nil { break }
                            Issue.record("an event appeared after the producers finished")
                        } else {
                            sched_yield()
                        }
                        if queue.snapshot().queued > UInt64(bound) { books.withLock { boundExceeded = true } }
                    }
                    books.withLock { order[lane] = seen }
                }
            }
            done.wait()
            let stats = queue.snapshot()
            #expect(stats.matched == UInt64(producers * perProducer), "\(overflow)")
            #expect(stats.delivered + stats.droppedQueueFull == stats.matched && stats.isBalanced, "\(overflow)")
            #expect(!boundExceeded, "\(overflow)")
            for lane in 0..<lanes {
                for p in 0..<producers {
                    let indices = order[lane].filter { $0.producer == p }.map { $0.index }
                    #expect(indices == indices.sorted(), "\(overflow): lane \(lane), producer \(p) out of order")
                }
            }
        }
    }

    // MARK: Batches

    func batchLimits(events: Int, bytes: Int = .max, delayMs: Int = 0) -> BatchLimits {
        var batch = BatchLimits()
        batch.maxEvents = events
        batch.maxBytes = bytes
        batch.maxDelayNs = UInt64(delayMs) * 1_000_000
        return batch
    }

    @Test func aBatchIsItsLanesOldestEventsInOrderUpToMaxEventsWithSequences() throws {
        let queue = Queue(laneCount: 2, limits: limits(), batch: batchLimits(events: 3))
        for i in 0..<5 { _ = submit(queue, publish("c", "\(i)"), lane: 1, nowNs: UInt64(i)) }
        _ = submit(queue, publish("other", "x"), lane: 0, nowNs: 9)
        let worker = Worker()
        guard case .work(let first) = queue.take(lane: 1, for: worker) else { Issue.record("no work"); return }
        #expect(first.map { $0.event.string(.payload)! } == ["0", "1", "2"] && first.map(\.id.sequence) == [0, 1, 2])
        #expect(queue.snapshot().inFlight == 3 && queue.snapshot().queued == 3)
        guard case .work(let second) = queue.complete(first, .delivered, lane: 1, for: worker, takeNext: true) else { Issue.record("no work"); return }
        #expect(second.map { $0.event.string(.payload)! } == ["3", "4"] && second.map(\.id.sequence) == [3, 4])
        _ = queue.complete(second, .failed, lane: 1, for: worker, takeNext: false)
        let stats = queue.snapshot()
        #expect(stats.delivered == 3 && stats.failed == 2 && stats.queued == 1 && stats.inFlight == 0 && stats.isBalanced, "\(stats)")
    }

    @Test func maxBytesEndsABatchButItsFirstEventAlwaysGoes() throws {
        let big = publish("c", String(repeating: "x", count: 600))
        let size = big.withRawEvent { EventRecord.size(of: $0) }
        let queue = Queue(laneCount: 1, limits: limits(), batch: batchLimits(events: 10, bytes: size * 2 + size / 2))
        for _ in 0..<5 { _ = submit(queue, big, lane: 0, nowNs: 1) }
        let worker = Worker()
        guard case .work(let two) = queue.take(lane: 0, for: worker) else { Issue.record("no work"); return }
        #expect(two.count == 2)
        let tiny = Queue(laneCount: 1, limits: limits(), batch: batchLimits(events: 10, bytes: 1))
        _ = submit(tiny, big, lane: 0, nowNs: 1)
        _ = submit(tiny, big, lane: 0, nowNs: 1)
        guard case .work(let alone) = tiny.take(lane: 0, for: worker) else { Issue.record("no work"); return }
        #expect(alone.count == 1)
    }

    @Test func aPartialBatchWaitsForCompanyUntilMaxDelayButNotAtShutdown() throws {
        let queue = Queue(laneCount: 1, limits: limits(), batch: batchLimits(events: 10, delayMs: 50))
        let worker = Worker()
        let now = Clock.monotonicNanoseconds()
        _ = submit(queue, publish("c", "1"), lane: 0, nowNs: now)
        guard case .gather(let wait) = queue.take(lane: 0, for: worker) else { Issue.record("did not gather"); return }
        #expect(wait > 0 && wait <= 50_000_000)
        // After the wait, what is there goes.
        guard case .work(let events) = queue.take(lane: 0, for: worker, gathered: true) else { Issue.record("no work"); return }
        #expect(events.count == 1)
        // An event older than max_delay goes at once.
        _ = submit(queue, publish("c", "2"), lane: 0, nowNs: now &- 60_000_000)
        guard case .work = queue.take(lane: 0, for: worker) else { Issue.record("an old event waited"); return }
        // A full batch goes at once; so does anything once shutdown began.
        _ = submit(queue, publish("c", "3"), lane: 0, nowNs: Clock.monotonicNanoseconds())
        queue.close()
        guard case .work = queue.take(lane: 0, for: worker) else { Issue.record("waited during shutdown"); return }
    }

    /// While one connection waits for a batch to fill, the events it will
    /// take wake no other (each wake-up is a thread switch: issue 24), until
    /// a whole batch is waiting; once it has taken them, the next event does.
    @Test func whileABatchGathersNewEventsWakeNoOneUntilABatchIsFull() {
        let queue = Queue(laneCount: 1, limits: limits(), batch: batchLimits(events: 3, delayMs: 50))
        let first = Worker(), second = Worker()
        #expect(queue.takeOne(lane: 0, for: first) == nil && queue.takeOne(lane: 0, for: second) == nil, "both parked")
        func wakes(_ result: Queue.SubmitResult) -> Worker? {
            if case .queued(let wake) = result { return wake }
            return nil
        }
        let now = Clock.monotonicNanoseconds()
        #expect(wakes(submit(queue, publish("c", "1"), lane: 0, nowNs: now)) === second, "nobody gathers yet: a parked one wakes")
        guard case .gather = queue.take(lane: 0, for: second) else { Issue.record("did not gather"); return }
        #expect(wakes(submit(queue, publish("c", "2"), lane: 0, nowNs: now)) == nil, "the gatherer will take it")
        #expect(wakes(submit(queue, publish("c", "3"), lane: 0, nowNs: now)) === first, "a whole batch is waiting: another goes")
        guard case .work(let batch) = queue.take(lane: 0, for: first) else { Issue.record("no work"); return }
        #expect(batch.count == 3)
        // The gatherer's wait ends with nothing left: it parks, and the next event wakes a connection again.
        guard case .nothing = queue.take(lane: 0, for: second, gathered: true) else { Issue.record("took something"); return }
        #expect(wakes(submit(queue, publish("c", "4"), lane: 0, nowNs: now)) === second, "nobody gathers any more")
    }
}

extension DeliveryQueue {
    /// One event, as an unbatched connection takes it.
    func takeOne(lane: Int, for waiter: Waiter) -> QueuedEvent? {
        if case .work(let events) = take(lane: lane, for: waiter) { return events.first }
        return nil
    }

    func completeOne(_ event: QueuedEvent, _ outcome: DeliveryOutcome, lane: Int, for waiter: Waiter, takeNext: Bool) -> QueuedEvent? {
        if case .work(let events) = complete([event], outcome, lane: lane, for: waiter, takeNext: takeNext) { return events.first }
        return nil
    }
}
