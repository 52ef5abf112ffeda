import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// Dead letters: with a spool, an event that fails is kept with why, bounded
/// by count and age, read and marked beside the running engine
/// (`DeadLetterFile`, what `webhookctl dead` uses), and sent again at a reload.
@Suite(.serialized) struct DeadLetterTests {
    func spoolDirectory() -> String {
        NSTemporaryDirectory() + "dead-\(UUID().uuidString)"
    }

    func settings(_ url: String, dir: String, _ extra: String = "") throws -> WebhookSettings {
        try engineSettings(url, """
            spool { dir = "\(dir)", dead_letters = 5 }
            retry { initial_backoff = 10ms, max_backoff = 20ms }
            \(extra)
            """)
    }

    @Test func aRejectedEventIsKeptWithItsReasonAndTheOldestGoPastTheBound() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 400])
        let dir = spoolDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try settings(server.url, dir: dir)
        let engine = try Engine(settings: spool, log: LogCapture().log)
        for n in 0..<8 { #expect(engine.submit(publish("c", "p\(n)")) == .queued) }
        #expect(eventually { let s = engine.stats(); return s.failed == 8 && s.deadLetters == 5 && s.deadLettersDropped == 3 },
                "\(engine.stats())")
        // Read beside the running engine, which holds the spool directory's lock.
        let letters = try DeadLetterFile(spool.spool!).list()
        let payloads: [String?] = letters.map { $0.event.string(Event.Field.payload) }
        #expect(payloads == ["p3", "p4", "p5", "p6", "p7"], "the newest five, oldest first")
        #expect(letters.allSatisfy { $0.reason == "HTTP 400" && $0.status == 400 && $0.attempts == 1 && !$0.markedForReplay })
        let now = Int64(Clock.wallMilliseconds())
        #expect(letters.allSatisfy { abs(Int64($0.failedAtMs) - now) < 60_000 })
        let text = PrometheusText.render(engine.metrics(), version: "test")
        #expect(text.contains("swiftwebhook_dead_letters 5\n") && text.contains("swiftwebhook_dead_letters_dropped_total 3\n"))
        engine.shutdown()
        #expect(engine.stats().isBalanced)
    }

    @Test func anEventThatUsedUpItsAttemptsKeepsTheLastFailure() throws {
        let dir = spoolDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try settings("http://127.0.0.1:\(unusedPort())/", dir: dir, "retry { max_attempts = 2, initial_backoff = 10ms }")
        let engine = try Engine(settings: spool, log: LogCapture().log)
        #expect(engine.submit(publish("c", "nowhere")) == .queued)
        #expect(eventually { engine.stats().deadLetters == 1 }, "\(engine.stats())")
        let letter = try #require(try DeadLetterFile(spool.spool!).list().first)
        #expect(letter.reason.hasPrefix("connect failed") && letter.status == 0 && letter.attempts == 2, "\(letter.reason)")
        engine.shutdown()
    }

    @Test func aMarkedDeadLetterIsSentAgainAtTheNextReloadAndCountedAsReplayed() throws {
        let server = try HookServer()
        try server.setBehaviour(script: [["status": 404], ["status": 404]])
        let dir = spoolDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try settings(server.url, dir: dir)
        let engine = try Engine(settings: spool, log: LogCapture().log)
        #expect(engine.submit(publish("c", "first")) == .queued)
        #expect(engine.submit(publish("c", "second")) == .queued)
        #expect(eventually { engine.stats().deadLetters == 2 })
        let file = try DeadLetterFile(spool.spool!)
        let first = try #require(try file.list().first)
        #expect(try file.markForReplay(ids: [first.id]) == 1)
        let marks: [Bool] = try file.list().map { $0.markedForReplay }
        #expect(marks == [true, false])
        _ = try engine.reload(spool)
        #expect(eventually { engine.stats().delivered == 1 }, "\(engine.stats())")
        let stats = engine.stats()
        #expect(stats.deadLetters == 1 && stats.spoolReplayed == 1 && stats.failed == 2, "\(stats)")
        let left: [String?] = try file.list().map { $0.event.string(Event.Field.payload) }
        #expect(left == ["second"])
        #expect(try file.purge(ids: nil) == 1 && (try file.list()).isEmpty)
        engine.shutdown()
        #expect(engine.stats().isBalanced)
        let delivered = try server.requests().filter { $0.status == 200 }.compactMap { $0.json?["payload"] as? String }
        #expect(delivered == ["first"])
    }

    @Test func withoutASpoolFailedEventsAreCountedOnly() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 400])
        let engine = try Engine(settings: try engineSettings(server.url), log: LogCapture().log)
        #expect(engine.submit(publish("c", "x")) == .queued)
        #expect(eventually { engine.stats().failed == 1 })
        #expect(engine.stats().deadLetters == 0)
        engine.shutdown()
    }
}
