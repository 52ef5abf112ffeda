import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// `pipeline = N`: a connection writes up to N queued events, each its own
/// request, before reading their answers in order; every event is settled
/// by its own answer, and only the refused or unanswered ones are sent again.
@Suite(.serialized) struct PipelineTests {
    /// Events queued faster than one connection answers them: pipelined
    /// (the receiver sees requests arrive before it answered the one ahead),
    /// every one delivered once, on one connection. Without `pipeline`, none
    /// arrives early: the receiver's count is what the engine did.
    @Test(arguments: [1, 8]) func queuedEventsArePipelined(depth: Int) throws {
        let server = try HookServer()
        let settings = try engineSettings(server.url + "/hook", "pool_size = 1\nordering = none\npipeline = \(depth)")
        let engine = try Engine(settings: settings, log: LogCapture().log)
        let events = 300
        for i in 0..<events { _ = engine.submit(publish("c\(i % 7)", "\(i)")) }
        #expect(eventually { engine.stats().delivered == UInt64(events) }, "\(engine.stats())")
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.failed == 0 && stats.retried == 0, "\(stats)")
        #expect(stats.connectionsOpened == 1)
        let payloads = try server.requests().compactMap { $0.json?["payload"] as? String }
        #expect(Set(payloads) == Set((0..<events).map { "\($0)" }) && payloads.count == events)
        let early = try server.pipelinedRequests()
        if depth == 1 { #expect(early == 0) } else { #expect(early > 0, "no request was pipelined") }
    }

    /// A 503 (retried, then delivered), a 400 (failed for good, not sent
    /// again) and 200s among pipelined requests: each event is settled by
    /// its own answer. (Which events share a pipeline depends on when the
    /// connection takes them, so the checks follow the answers, not the order.)
    @Test func eachEventIsSettledByItsOwnAnswer() throws {
        let server = try HookServer()
        // The script answers the first four requests; every later one gets 200.
        try server.setBehaviour(default: ["status": 200],
                                script: [["status": 200], ["status": 503], ["status": 400], ["status": 200]])
        let engine = try pipelined(server, depth: 4)
        for i in 0..<4 { _ = engine.submit(publish("c", "\(i)")) }
        #expect(eventually { let s = engine.stats(); return s.delivered + s.failed == 4 }, "\(engine.stats())")
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.delivered == 3 && stats.failed == 1 && stats.retried >= 1, "\(stats)")
        let sent = try server.requests().map { ($0.json?["payload"] as? String ?? "?", $0.status) }
        for (i, (payload, status)) in sent.enumerated() {
            let later = sent[(i + 1)...].filter { $0.0 == payload }.count
            switch status {
            case 503: #expect(later >= 1, "a 503 is sent again: \(sent)")
            default: #expect(later == 0, "a \(status) is never sent again: \(sent)")
            }
        }
        #expect(Set(sent.map(\.0)) == ["0", "1", "2", "3"] && sent.count == 5, "\(sent)")
    }

    /// A server that resets the connection after answering the first of a
    /// pipeline: that one stands, the rest go again on a new connection.
    @Test func aBrokenConnectionResendsFromTheFirstUnanswered() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 200], script: [["status": 200], ["reset": true]])
        let engine = try pipelined(server, depth: 8)
        for i in 0..<20 { _ = engine.submit(publish("c", "\(i)")) }
        #expect(eventually { engine.stats().delivered == 20 }, "\(engine.stats())")
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.failed == 0 && stats.connectionsOpened >= 2, "\(stats)")
        let requests = try server.requests()
        #expect(requests.count > 20, "the unanswered ones went again")
        let payloads = requests.compactMap { $0.json?["payload"] as? String }
        #expect(Set(payloads) == Set((0..<20).map { "\($0)" }))
    }

    /// One connection pipelining to `server`, with quick retries.
    func pipelined(_ server: HookServer, depth: Int) throws -> Engine {
        let settings = try engineSettings(server.url + "/hook", """
            pool_size = 1
            ordering = none
            pipeline = \(depth)
            retry { initial_backoff = 10ms, max_backoff = 50ms }
            """)
        return try Engine(settings: settings, log: LogCapture().log)
    }
}
