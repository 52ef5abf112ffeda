import Foundation
import Testing
import TestKit
import WebhookCore
@testable import WebhookEngine

/// Batches against a real HTTP server: what a retry resends, what a refusal
/// fails, what the counters say, and the ids receivers deduplicate with.
@Suite struct BatchDeliveryTests {
    /// An engine of one connection that batches into `server`, which first
    /// answers with `status` (then 200).
    func batchingEngine(_ server: HookServer, firstAnswer status: Int, _ extra: String) throws -> Engine {
        try server.setBehaviour(script: [["status": status]])
        return try Engine(settings: try engineSettings(server.url, "pool_size = 1\n" + extra), log: LogCapture().log)
    }

    func batches(_ server: HookServer) throws -> [(request: HookServer.Request, events: [[String: Any]])] {
        try server.requests().map { ($0, (try JSONSerialization.jsonObject(with: $0.body) as? [[String: Any]]) ?? []) }
    }

    @Test func aRetryResendsTheWholeBatchWithTheSameIdsAndTheCountersCountEvents() throws {
        let server = try HookServer()
        let engine = try batchingEngine(server, firstAnswer: 503, """
            batch { max_events = 50, max_delay = 300ms }
            retry { initial_backoff = 10ms }
            """)
        for i in 0..<20 { #expect(engine.submit(publish("c\(i % 3)", "\(i)")) == .queued) }
        #expect(eventually { engine.stats().delivered == 20 })
        engine.shutdown()
        let sent = try batches(server)
        #expect(sent.count == 2, "one batch, sent twice")
        #expect(String(decoding: sent[0].request.body, as: UTF8.self) == String(decoding: sent[1].request.body, as: UTF8.self))
        #expect(sent[0].request.header("webhook-id") == sent[1].request.header("webhook-id"))
        #expect(sent[1].events.map { $0["payload"] as? String } == (0..<20).map { "\($0)" })
        let ids = sent[1].events.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == 20 && sent[1].request.header("webhook-id") == "\(ids[0])+20")
        let stats = engine.stats()
        #expect(stats.retried == 1 && stats.failed == 0 && stats.isBalanced, "\(stats)")
    }

    @Test func aRefusalFailsEveryEventOfTheBatch() throws {
        let server = try HookServer()
        let engine = try batchingEngine(server, firstAnswer: 403, "batch { max_events = 8, max_delay = 300ms }")
        for i in 0..<8 { _ = engine.submit(publish("c", "\(i)")) }
        #expect(eventually { engine.stats().failed == 8 })
        for i in 8..<10 { _ = engine.submit(publish("c", "\(i)")) }
        #expect(eventually { engine.stats().delivered == 2 })
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.failed == 8 && stats.delivered == 2 && stats.retried == 0 && stats.isBalanced, "\(stats)")
    }

    @Test func withoutBatchesAndWithIdsOffTheBodyAndHeadersAreNanoMQs() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try engineSettings(server.url, "event_ids = false"), log: LogCapture().log)
        var event = publish("c", "x")
        event.timestampMs = 1_700_000_000_000
        _ = engine.submit(event)
        #expect(eventually { engine.stats().delivered == 1 })
        engine.shutdown()
        let request = try #require(try server.requests().first)
        #expect(request.header("webhook-id") == nil && request.header("webhook-signature") == nil)
        #expect(String(decoding: request.body, as: UTF8.self) == String(decoding: BodyBuilder().body(for: event), as: UTF8.self))
        #expect(request.header("content-type") == "application/json" && request.header("host") == "127.0.0.1:\(server.port)")
    }

    /// Hostile round 3, row 1: a partial batch waiting for company was
    /// dropped at shutdown (fini waited out drain_timeout, the receiver got
    /// nothing). The drain never waits for a batch: it is sent at once.
    @Test(arguments: [5, 50])
    func aPartialBatchIsSentAtShutdownNotDropped(count: Int) throws {
        let server = try HookServer()
        let engine = try batchingEngine(server, firstAnswer: 200, """
            batch { max_events = 1000, max_delay = 60s }
            drain_timeout = 60s
            """)
        for i in 0..<count { #expect(engine.submit(publish("c\(i % 3)", "\(i)")) == .queued) }
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.delivered == UInt64(count) && stats.droppedShutdown == 0 && stats.isBalanced, "\(stats)")
        #expect(try batches(server).flatMap { $0.events.map { $0["payload"] as? String } } == (0..<count).map { "\($0)" })
    }
}
