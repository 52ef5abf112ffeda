import Foundation
import Testing
import WebhookCore
@testable import WebhookEngine

/// The spool thread's logic on its own: a real queue and a real SQLite
/// store in a temporary directory, no connections and no thread (the test
/// runs `cycle` and `close` where the thread would). What a write hands
/// straight to memory (`settle`), what `drop_old` drops on a full spool
/// (`dropOldest`), and what shutdown saves in front of the rows
/// (`saveLeftovers`), each checked by the order events come back in.
@Suite struct SpoolThreadTests {
    final class Worker: QueueWaiter {
        func wake() {}
    }
    typealias Queue = DeliveryQueue<Worker>

    struct Rig {
        let queue: Queue
        let spool: Spool<Queue>
        let capture: LogCapture
        let worker = Worker()

        var stats: EngineStats {
            var stats = queue.snapshot()
            spool.addStats(to: &stats)
            return stats
        }

        /// Submits events of one client with payloads `numbers`.
        func submit(_ numbers: Range<Int>, payloadBytes: Int = 0) -> Int {
            var queued = 0
            for n in numbers {
                let payload = "\(n):" + String(repeating: "x", count: payloadBytes)
                let result = publish("c", payload).withRawEvent { queue.submit($0, timestampMs: 1, lane: 0, nowNs: UInt64(n + 1)) }
                if case .queued = result { queued += 1 }
            }
            return queued
        }

        /// Takes what memory holds, one event at a time, as a connection
        /// would, delivers it, and runs a cycle after each (so the spool
        /// loads more); returns the payloads' numbers in the order taken.
        func deliverAll() -> [Int] {
            var numbers: [Int] = []
            while true {
                guard case .work(let events) = queue.take(lane: 0, for: worker) else {
                    spool.cycle(admitting: true, writeNow: true)
                    if queue.memoryCount(lane: 0) == 0 { return numbers }
                    continue
                }
                for event in events {
                    numbers.append(Int(event.event.string(.payload)!.split(separator: ":")[0])!)
                }
                _ = queue.complete(events, .delivered, lane: 0, for: worker, takeNext: false)
                spool.cycle(admitting: true, writeNow: true)
            }
        }
    }

    func rig(_ dir: String, memory: Int, durability: SpoolDurability, maxBytes: Int64 = 64 << 20,
             overflow: OverflowPolicy = .dropNew) throws -> Rig {
        var settings = SpoolSettings(directory: dir)
        settings.durability = durability
        settings.maxBytes = maxBytes
        var limits = QueueLimits()
        limits.maxEvents = memory
        limits.overflow = overflow
        let signal = SpoolSignal()
        let queue = Queue(laneCount: 1, limits: limits, spill: SpillLimits(durability: durability, laneCount: 1), spoolSignal: signal)
        let capture = LogCapture()
        let spool = try Spool(settings: settings, overflow: overflow, queue: queue, signal: signal, log: capture.log)
        return Rig(queue: queue, spool: spool, capture: capture)
    }

    func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "spool-thread-\(UUID().uuidString)"
    }

    /// Write-through (`crash`): a write hands what it stored straight to
    /// memory while the lane has nothing older on disk, as much as memory
    /// has room for; the rest is loaded later, behind it, in order.
    @Test func settleHandsWhatItWroteToMemoryAsFarAsThereIsRoomInOrder() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rig = try rig(dir, memory: 4, durability: .crash)
        #expect(rig.submit(0..<10) == 10)
        #expect(rig.queue.memoryCount(lane: 0) == 0 && rig.stats.spooled == 10, "write-through: all staged first")

        rig.spool.cycle(admitting: true, writeNow: true)
        var stats = rig.stats
        #expect(stats.spoolWritten == 10 && stats.spoolRows == 10, "\(stats)")
        #expect(rig.queue.memoryCount(lane: 0) == 4 && stats.queued == 4 && stats.spooled == 6, "\(stats)")

        #expect(rig.deliverAll() == Array(0..<10))
        stats = rig.stats
        #expect(stats.delivered == 10 && stats.spooled == 0 && stats.spoolRows == 0 && stats.isBalanced, "\(stats)")
    }

    /// A write that finds older rows of the lane on disk hands nothing to
    /// memory (it would overtake them): they are loaded first.
    @Test func settleNeverLetsNewEventsOvertakeOlderRows() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rig = try rig(dir, memory: 4, durability: .crash)
        #expect(rig.submit(0..<6) == 6)
        rig.spool.cycle(admitting: false, writeNow: true)  // all 6 stay on disk
        #expect(rig.queue.memoryCount(lane: 0) == 0 && rig.stats.spoolRows == 6)
        #expect(rig.submit(6..<8) == 2)
        rig.spool.cycle(admitting: true, writeNow: true)
        #expect(rig.deliverAll() == Array(0..<8))
        #expect(rig.stats.isBalanced)
    }

    /// `drop_old` on a full spool: the oldest events go (counted as
    /// dropped_spool), the newest are kept and come back in order.
    @Test func dropOldestDropsTheOldestAndKeepsTheNewestInOrder() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rig = try rig(dir, memory: 8, durability: .crash, maxBytes: 64 << 10, overflow: .dropOld)
        #expect(rig.submit(0..<1000, payloadBytes: 200) == 1000)
        rig.spool.cycle(admitting: false, writeNow: true)
        let stats = rig.stats
        #expect(stats.droppedSpool > 0 && stats.spooled > 0 && stats.spooled + stats.droppedSpool == 1000, "\(stats)")
        #expect(stats.spoolRows == stats.spooled, "\(stats)")
        let delivered = rig.deliverAll()
        #expect(delivered.count == Int(stats.spooled) && delivered == Array((1000 - delivered.count)..<1000),
                "\(delivered.prefix(5)) ... \(delivered.suffix(5))")
        #expect(rig.stats.isBalanced)
    }

    /// `drop_new` on a full spool: what does not fit is dropped, and what
    /// is kept is the oldest, in order.
    @Test func dropNewKeepsTheOldestAndCountsTheRest() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rig = try rig(dir, memory: 8, durability: .crash, maxBytes: 64 << 10, overflow: .dropNew)
        #expect(rig.submit(0..<1000, payloadBytes: 200) == 1000)
        rig.spool.cycle(admitting: false, writeNow: true)
        let stats = rig.stats
        #expect(stats.droppedSpool > 0 && stats.spooled > 0 && stats.spooled + stats.droppedSpool == 1000, "\(stats)")
        #expect(rig.deliverAll() == Array(0..<Int(stats.spooled)))
        #expect(rig.stats.isBalanced)
    }

    /// At shutdown, what memory holds (and what a connection gave back) is
    /// written in front of the rows on disk, so the next start sends every
    /// event in the order it was accepted.
    @Test func saveLeftoversPutsMemoryAndReturnedEventsInFrontOfTheRows() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let rig = try rig(dir, memory: 3, durability: .clean)
            #expect(rig.submit(0..<8) == 8)
            // clean: 3 in memory, 5 staged for the spool, then written.
            rig.spool.cycle(admitting: true, writeNow: true)
            #expect(rig.queue.memoryCount(lane: 0) == 3 && rig.stats.spoolRows == 5)
            // A connection has event 0 in flight when shutdown comes: it gives it back.
            guard case .work(let inFlight) = rig.queue.take(lane: 0, for: rig.worker) else {
                Issue.record("nothing to take")
                return
            }
            rig.queue.close()
            _ = rig.queue.stop()
            _ = rig.queue.complete(inFlight, .droppedAtShutdown, lane: 0, for: rig.worker, takeNext: false)
            #expect(rig.spool.close() == 3, "event 0 given back, 1 and 2 from memory")
            let stats = rig.stats
            #expect(stats.spooled == 8 && stats.queued == 0 && stats.droppedShutdown == 0 && stats.isBalanced, "\(stats)")
            #expect(stats.spoolRows == 8)
        }
        let next = try rig(dir, memory: 3, durability: .clean)
        #expect(next.stats.spoolReplayed == 8 && next.stats.spooled == 8)
        next.spool.cycle(admitting: true, writeNow: false)
        #expect(next.deliverAll() == Array(0..<8))
        #expect(next.stats.isBalanced && next.stats.spoolRows == 0)
        _ = next.spool.close()
    }
}
