import Foundation
import Testing
@testable import WebhookCore
@testable import WebhookEngine

/// Endpoints that answer in ways nng's own HTTP client mishandles.
@Suite(.serialized) struct HostileEndpointTests {
    @Test func interimResponsesAreNotTheAnswer() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 200, "interim": [100]],
                                script: [["status": 503, "interim": [100, 103]], ["status": 200, "interim": [100]]])
        let engine = try Engine(settings: try engineSettings(server.url, "pool_size = 1\nretry { initial_backoff = 10ms }"),
                                log: LogCapture().log)
        for i in 0..<3 { _ = engine.submit(publish("c", "\(i)")) }
        #expect(eventually { engine.stats().delivered == 3 })
        engine.shutdown()
        let stats = engine.stats()
        // The 503 behind two interim responses was read as the answer (one retry), and every
        // later answer was paired with its own request on the one kept-alive connection.
        #expect(stats.failed == 0 && stats.retried == 1 && stats.isBalanced)
        #expect(stats.connectionsOpened == 1)
        #expect(try server.requests().map { $0.json?["payload"] as? String } == ["0", "0", "1", "2"])
    }

    @Test func hugeAndEndlessBodiesAreNotKept() throws {
        for behaviour: [String: Any] in [["status": 200, "body_size": 100 << 20], ["status": 200, "endless": true]] {
            let server = try HookServer()
            try server.setBehaviour(default: behaviour)
            let engine = try Engine(settings: try engineSettings(server.url, "pool_size = 2"), log: LogCapture().log)
            let before = residentKiB()
            var peak = before
            for i in 0..<20 { _ = engine.submit(publish("c\(i % 4)", "\(i)")) }
            #expect(eventually(within: 30) {
                peak = max(peak, residentKiB())
                return engine.stats().delivered == 20
            }, "\(behaviour)")
            engine.shutdown()
            let stats = engine.stats()
            #expect(stats.failed == 0 && stats.isBalanced)
            // Each answer cost its connection (the body was not read to its end).
            #expect(stats.connectionsOpened >= 20 - 1)
            // nng's transact kept whole bodies: 100 MB per connection, or an endless one.
            #expect(peak - before < 32 << 10, "\(behaviour): RSS grew \(peak - before) KiB")
        }
    }

    @Test func smallBodiesAreReadSoTheConnectionIsKept() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 200, "body_size": 4000], script: [["status": 200, "chunked": true]])
        let engine = try Engine(settings: try engineSettings(server.url, "pool_size = 1"), log: LogCapture().log)
        for i in 0..<10 { _ = engine.submit(publish("c", "\(i)")) }
        #expect(eventually { engine.stats().delivered == 10 })
        engine.shutdown()
        #expect(engine.stats().connectionsOpened == 1)
    }

    @Test func tlsToAServerThatNeverHandshakesTimesOutAndRetries() throws {
        // Completes TCP handshakes (the kernel does, below the backlog), never reads or answers.
        let silent = try RawServer(answer: "", ending: .hold)
        let plain = try HookServer()
        for url in ["https://127.0.0.1:\(silent.port)/hook", plain.url.replacingOccurrences(of: "http://", with: "https://")] {
            let settings = try engineSettings(url, """
                pool_size = 1
                cancel_timeout = 300ms
                drain_timeout = 500ms
                retry { initial_backoff = 10ms, max_backoff = 20ms }
                tls { verify_peer = false }
                """)
            let engine = try Engine(settings: settings, log: LogCapture().log)
            _ = engine.submit(publish("c", "1"))
            _ = engine.submit(publish("c", "2"))
            #expect(eventually(within: 20) { engine.stats().retried >= 3 }, "\(url): the attempt must time out and be retried")
            // fini must come back: run it where a hang fails the test instead of the suite.
            let done = DispatchSemaphore(value: 0)
            Thread { engine.shutdown(); done.signal() }.start()
            #expect(done.wait(timeout: .now() + 60) == .success, "\(url): shutdown hung")
            let stats = engine.stats()
            #expect(stats.isBalanced && stats.delivered == 0 && stats.dropped + stats.failed == 2)
        }
    }
}
