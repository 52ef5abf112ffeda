import Foundation
import Testing
import TestKit
import WebhookCore
@testable import WebhookEngine

/// The disk spool through the real engine and a real HTTP server: outages
/// longer than the memory queue, clean stops and restarts, write-through,
/// a full spool, a busy or corrupt one. (Killing a process with the spool
/// open is Tests/C/spool_test.py's.)
@Suite struct SpoolDeliveryTests {
    func spoolDirectory() -> String {
        NSTemporaryDirectory() + "spool-engine-\(UUID().uuidString)"
    }

    func settings(port: Int, dir: String, _ extra: String = "", durability: String = "clean", maxBytes: String = "64MB") throws -> WebhookSettings {
        try engineSettings("http://127.0.0.1:\(port)/hook", """
            spool { dir = "\(dir)", durability = \(durability), max_bytes = \(maxBytes) }
            retry { initial_backoff = 10ms, max_backoff = 50ms }
            batch { max_events = 200 }
            \(extra)
            """)
    }

    /// Every client's payloads in the order the server got them.
    func receivedByClient(_ server: HookServer) throws -> [String: [Int]] {
        var byClient: [String: [Int]] = [:]
        for request in try server.requests() {
            let body = try JSONSerialization.jsonObject(with: request.body)
            let events = body as? [[String: Any]] ?? [body as? [String: Any] ?? [:]]
            for event in events {
                let parts = (event["payload"] as? String ?? "").split(separator: ":")
                byClient[String(parts[0]), default: []].append(Int(parts[1]) ?? -1)
            }
        }
        return byClient
    }

    func submit(_ engine: Engine, clients: Int, perClient: Range<Int>) -> Int {
        var queued = 0
        for n in perClient {
            for c in 0..<clients where engine.submit(publish("c\(c)", "c\(c):\(n)")) == .queued { queued += 1 }
        }
        return queued
    }

    /// For the drop_old tests, once 4 clients x 3000 events were submitted with the receiver
    /// down: waits until the spool dropped some and holds the rest, starts the receiver, waits
    /// until each event is delivered or dropped, and expects that the oldest went and every
    /// client's newest arrived, in order and once. Returns what arrived.
    func deliverExpectingTheNewestOfEveryClient(_ engine: Engine, port: Int) throws -> [String: [Int]] {
        #expect(eventually { let s = engine.stats(); return s.droppedSpool > 0 && s.spooled + s.queued + s.inFlight + s.droppedSpool == 12_000 },
                "\(engine.stats())")
        let server = try HookServer(port: port)
        #expect(eventually(within: 30) { let s = engine.stats(); return s.delivered + s.droppedSpool == 12_000 }, "\(engine.stats())")
        engine.shutdown()
        #expect(engine.stats().isBalanced)
        let received = try receivedByClient(server)
        #expect(received.count == 4 && received.values.allSatisfy { $0.last == 2999 && $0 == $0.sorted() && Set($0).count == $0.count },
                "\(received.mapValues { Array($0.prefix(8)) + [-1] + Array($0.suffix(8)) })")
        return received
    }

    @Test func anOutageLongerThanTheMemoryQueueLosesNothingAndKeepsEachClientsOrder() throws {
        let port = unusedPort()
        let engine = try Engine(settings: try settings(port: port, dir: spoolDirectory(), "pool_size = 4\nqueue { max_events = 500 }"),
                                log: LogCapture().log)
        #expect(submit(engine, clients: 40, perClient: 0..<250) == 10_000)
        // Past the memory queue's 500, the rest goes to disk.
        #expect(eventually { engine.stats().spoolRows >= 9_000 }, "\(engine.stats())")
        let during = engine.stats()
        #expect(during.dropped == 0 && during.spooled + during.queued + during.inFlight == 10_000 && during.isBalanced, "\(during)")
        let server = try HookServer(port: port)
        #expect(eventually(within: 60) { engine.stats().delivered == 10_000 }, "\(engine.stats())")
        #expect(eventually { engine.stats().spoolRows == 0 }, "rows are deleted once delivered: \(engine.stats())")
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.spooled == 0 && stats.dropped == 0 && stats.spoolWritten >= 9_000, "\(stats)")
        let received = try receivedByClient(server)
        #expect(received.count == 40 && received.values.allSatisfy { $0 == Array(0..<250) })
    }

    @Test func aCleanStopKeepsWhatIsQueuedAndTheNextStartSendsItFirstInOrder() throws {
        let port = unusedPort()
        let dir = spoolDirectory()
        do {
            let engine = try Engine(settings: try settings(port: port, dir: dir, "pool_size = 4\nqueue { max_events = 300 }\ndrain_timeout = 50ms"),
                                    log: LogCapture().log)
            #expect(submit(engine, clients: 10, perClient: 0..<100) == 1000)
            engine.shutdown()
            let stats = engine.stats()
            // Nothing is dropped at shutdown: memory's events join the disk's.
            #expect(stats.dropped == 0 && stats.spooled == 1000 && stats.isBalanced, "\(stats)")
            #expect(stats.spoolRows == 1000)
        }
        // A restart with another pool size (lanes are rebuilt from the client hash).
        let server = try HookServer(port: port)
        let engine = try Engine(settings: try settings(port: port, dir: dir, "pool_size = 3"), log: LogCapture().log)
        #expect(engine.stats().spoolReplayed == 1000)
        // New events of the same clients go out after the old ones.
        #expect(submit(engine, clients: 10, perClient: 100..<150) == 500)
        #expect(eventually(within: 30) { engine.stats().delivered == 1500 }, "\(engine.stats())")
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.matched == 500 && stats.spoolRows == 0, "\(stats)")
        let received = try receivedByClient(server)
        #expect(received.count == 10 && received.values.allSatisfy { $0 == Array(0..<150) }, "\(received["c0"] ?? [])")
    }

    @Test func anEventKeepsItsIdAcrossAStopAndARestart() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 503])
        let dir = spoolDirectory()
        let extra = "pool_size = 2\nbatch { max_events = 1 }\ndrain_timeout = 50ms"
        do {
            let engine = try Engine(settings: try settings(port: server.port, dir: dir, extra), log: LogCapture().log)
            #expect(submit(engine, clients: 4, perClient: 0..<5) == 20)
            #expect(try eventually { try server.requests().count >= 2 })
            engine.shutdown()
            #expect(engine.stats().spooled == 20, "\(engine.stats())")
        }
        func idsByPayload() throws -> [String: String] {
            var ids: [String: String] = [:]
            for request in try server.requests() {
                let payload = try JSONSerialization.jsonObject(with: request.body) as? [String: Any]
                ids[payload?["payload"] as? String ?? ""] = request.header("webhook-id")
            }
            return ids
        }
        let refused = try idsByPayload()
        try server.setBehaviour(default: ["status": 200])
        let engine = try Engine(settings: try settings(port: server.port, dir: dir, extra), log: LogCapture().log)
        #expect(eventually { engine.stats().delivered == 20 })
        engine.shutdown()
        let delivered = try idsByPayload()
        #expect(delivered.count == 20 && !refused.isEmpty)
        // What a receiver saw refused once comes back with the same webhook-id.
        for (payload, id) in refused { #expect(delivered[payload] == id, "\(payload)") }
        #expect(Set(delivered.values).count == 20)
    }

    @Test func writeThroughDeliversEverythingFromDiskAndLeavesNoRows() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try settings(port: server.port, dir: spoolDirectory(), "pool_size = 2", durability: "crash"),
                                log: LogCapture().log)
        #expect(submit(engine, clients: 5, perClient: 0..<400) == 2000)
        #expect(eventually(within: 30) { engine.stats().delivered == 2000 }, "\(engine.stats())")
        #expect(eventually { engine.stats().spoolRows == 0 })
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.spoolWritten == 2000 && stats.isBalanced && stats.dropped == 0, "every event was committed first: \(stats)")
        #expect(try receivedByClient(server).values.allSatisfy { $0 == Array(0..<400) })
    }

    @Test func aFullSpoolDropsAndCountsNewEventsAndSaysWhy() throws {
        let logs = LogCapture()
        let engine = try Engine(settings: try settings(port: unusedPort(), dir: spoolDirectory(), "queue { max_events = 100 }\ndrain_timeout = 0s",
                                                       maxBytes: "64KB"), log: logs.log)
        _ = submit(engine, clients: 4, perClient: 0..<1000)
        #expect(eventually {
            let stats = engine.stats()
            return stats.droppedSpool > 0 && stats.spoolRows >= stats.spooled && stats.spooled + stats.droppedSpool + stats.queued + stats.inFlight == 4000
        }, "\(engine.stats())")
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.spoolRows > 0 && stats.spoolRows < 4000, "\(stats)")
        #expect(logs.messages.contains { $0.contains("spool:") && $0.contains("full") && $0.contains("dropped_spool") }, "\(logs.messages)")
        // What fits is kept: the spool holds events up to its bound.
        #expect(stats.spoolWritten > 100, "\(stats)")
        engine.shutdown()
        #expect(engine.stats().isBalanced, "\(engine.stats())")
    }

    @Test func aFullSpoolWithDropOldKeepsTheNewestInOrder() throws {
        let port = unusedPort()
        let engine = try Engine(settings: try settings(port: port, dir: spoolDirectory(), """
            pool_size = 2
            queue { max_events = 100, overflow = drop_old }
            """, maxBytes: "256KB"), log: LogCapture().log)
        // Paced, as a broker's events are: each write is a small part of the spool, and the oldest
        // rows on disk make room for it.
        for n in 0..<3000 {
            for c in 0..<4 { _ = engine.submit(publish("c\(c)", "c\(c):\(n)")) }
            if n % 50 == 49 { usleep(10_000) }
        }
        let received = try deliverExpectingTheNewestOfEveryClient(engine, port: port)
        #expect(received.values.allSatisfy { $0.count < 3000 }, "\(received.mapValues { Array($0.suffix(5)) }) \(received.mapValues { $0.count })")
    }

    @Test func aWriteLargerThanTheSpoolWithDropOldKeepsEveryClientsNewest() throws {
        // One write (sync_interval 2s) holds more than the whole spool. drop_old must drop the
        // oldest of that write too, whatever their lane, not the lanes written last.
        let port = unusedPort()
        let engine = try Engine(settings: try settings(port: port, dir: spoolDirectory(), """
            pool_size = 2
            queue { max_events = 100, overflow = drop_old }
            spool.sync_interval = 2s
            """, maxBytes: "256KB"), log: LogCapture().log)
        _ = submit(engine, clients: 4, perClient: 0..<3000)
        _ = try deliverExpectingTheNewestOfEveryClient(engine, port: port)
    }

    @Test func aSpoolDirectoryInUseOrUnusableIsAClearErrorAndACorruptOneIsMovedAside() throws {
        let dir = spoolDirectory()
        let first = try Engine(settings: try settings(port: unusedPort(), dir: dir), log: LogCapture().log)
        do {
            _ = try Engine(settings: try settings(port: unusedPort(), dir: dir), log: LogCapture().log)
            Issue.record("two engines opened one spool")
        } catch {
            #expect("\(error)" == "<text>:4:17: webhook.spool.dir: the spool directory \(dir) is in use by another process (pid \(getpid())); give each broker its own spool.dir")
        }
        first.shutdown()

        let file = spoolDirectory()
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        #expect(throws: EngineError.self) { try Engine(settings: try settings(port: unusedPort(), dir: file + "/spool"), log: LogCapture().log) }

        let corrupt = spoolDirectory()
        try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: corrupt + "/" + SpoolStore.fileName, contents: Data(repeating: 0x41, count: 4096))
        let logs = LogCapture()
        let engine = try Engine(settings: try settings(port: unusedPort(), dir: corrupt), log: logs.log)
        engine.shutdown()
        #expect(logs.messages.contains { $0.contains("was corrupt; moved aside to \(corrupt)/\(SpoolStore.fileName).corrupt-") }, "\(logs.messages)")
    }

    /// Hostile round 3, row 1, with a spool: events written through the disk
    /// (`durability = crash`) and waiting for a batch were kept at shutdown
    /// but never sent. The drain writes the staging at once and sends it.
    @Test func theDrainSendsWhatTheSpoolHoldsAndABatchDoesNotWait() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try settings(port: server.port, dir: spoolDirectory(), """
            batch { max_events = 1000, max_delay = 60s }
            drain_timeout = 60s
            spool { sync_interval = 10s }
            """, durability: "crash"), log: LogCapture().log)
        #expect(submit(engine, clients: 5, perClient: 0..<10) == 50)
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.delivered == 50 && stats.spooled == 0 && stats.spoolRows == 0 && stats.dropped == 0 && stats.isBalanced, "\(stats)")
        #expect(try receivedByClient(server).values.allSatisfy { $0 == Array(0..<10) })
    }

    /// Hostile round 3, row 5: the spool's directory removed while the
    /// engine runs (a `/tmp` cleaner). Nothing was logged, shutdown said the
    /// events were kept, and the restart delivered none. Now the loss is
    /// logged and counted when it happens, a new file takes what follows,
    /// and the counters balance with what the receiver got.
    @Test func aSpoolDirectoryRemovedWhileRunningIsNoticedCountedAndStartedAgain() throws {
        let port = unusedPort()
        let dir = spoolDirectory()
        let log = LogCapture()
        let engine = try Engine(settings: try settings(port: port, dir: dir, """
            queue { max_events = 100 }
            spool { sync_interval = 20ms }
            """), log: log.log)
        #expect(submit(engine, clients: 4, perClient: 0..<250) == 1000)
        #expect(eventually { engine.stats().spoolRows >= 800 }, "\(engine.stats())")
        try FileManager.default.removeItem(atPath: dir)
        #expect(eventually { log.messages.contains { $0.contains("was removed or replaced while in use") } }, "\(log.messages)")
        let lost = engine.stats().droppedSpool
        #expect(lost > 0, "\(engine.stats())")
        #expect(log.messages.contains { $0.contains("the \(lost) event(s) stored only there are lost") }, "\(log.messages)")
        // What comes next goes to the new file, and out once the receiver is up.
        #expect(submit(engine, clients: 4, perClient: 250..<500) == 1000)
        #expect(eventually { engine.stats().spoolRows >= 800 }, "\(engine.stats())")
        #expect(FileManager.default.fileExists(atPath: dir + "/" + SpoolStore.fileName))
        let server = try HookServer(port: port)
        #expect(eventually(within: 60) { engine.stats().delivered == 2000 - lost }, "\(engine.stats())")
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.droppedSpool == lost && stats.spooled == 0, "\(stats)")
        let received = try receivedByClient(server)
        #expect(received.values.reduce(0) { $0 + $1.count } == 2000 - Int(lost))
        #expect(received.values.allSatisfy { $0 == $0.sorted() && $0.contains(499) })
        #expect(!log.messages.contains { $0.contains("kept in the spool") }, "\(log.messages)")
    }
}
