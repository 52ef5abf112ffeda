import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

@Suite(.serialized) struct DeliveryTests {
    @Test func everyEventKindArrivesWithMethodPathHeadersAndBody() throws {
        let server = try HookServer()
        let rules = EventKind.allCases.map { "{ event = \($0.configName) }" }.joined(separator: "\n")
        let settings = try engineSettings(server.url + "/hook?src=edge1", """
            headers.authorization = "Bearer t0k"
            headers.x-broker = nanomq
            body.encoding = base64
            """, rules: rules)
        let engine = try Engine(settings: settings, log: LogCapture().log)
        var expected: [String] = []
        for kind in EventKind.allCases {
            var event = Event(kind: kind)
            event.set(.clientID, "c-\(kind.rawValue)")
            event.set(.username, "alice")
            event.set(.topic, "a/b")
            event.set(.payload, bytes: [0, 1, 2, 0xFF])
            event.set(.peerAddress, "127.0.0.1:5555")
            event.timestampMs = 1_700_000_000_000
            #expect(engine.submit(event) == .queued)
            expected.append(String(decoding: BodyBuilder(encoding: .base64).body(for: event), as: UTF8.self))
        }
        #expect(eventually { engine.stats().delivered == 12 })
        engine.shutdown()
        let received = try server.requests()
        #expect(received.count == 12)
        #expect(Set(received.map { String(decoding: $0.body, as: UTF8.self) }) == Set(expected))
        for request in received {
            #expect(request.method == "POST")
            #expect(request.path == "/hook?src=edge1")
            #expect(request.header("content-type") == "application/json")
            #expect(request.header("authorization") == "Bearer t0k")
            #expect(request.header("x-broker") == "nanomq")
            #expect(request.header("host") == "127.0.0.1:\(server.port)")
            #expect(request.header("content-length") == String(request.body.count))
        }
        let stats = engine.stats()
        #expect(stats.matched == 12 && stats.delivered == 12 && stats.isBalanced)
        #expect(stats.latencyP50Us > 0 && stats.latencyP99Us >= stats.latencyP50Us)
    }

    @Test func filteredEventsAreNotSent() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try engineSettings(server.url, rules: "{ event = on_message_publish, topic = \"a/#\" }"), log: LogCapture().log)
        #expect(engine.submit(publish("c", "x", topic: "b/c")) == .filtered)
        #expect(engine.submit(Event(kind: .clientConnack)) == .filtered)
        #expect(engine.submit(publish("c", "x", topic: "a/c")) == .queued)
        #expect(eventually { engine.stats().delivered == 1 })
        engine.shutdown()
        #expect(engine.stats().matched == 1)
        #expect(try server.requests().count == 1)
    }

    @Test func connectionsAreKeptAliveAndReused() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try engineSettings(server.url, "pool_size = 4\nordering = none"), log: LogCapture().log)
        for i in 0..<600 { _ = engine.submit(publish("c\(i % 7)", "m\(i)")) }
        #expect(eventually { engine.stats().delivered == 600 })
        let stats = engine.stats()
        #expect(stats.connectionsOpened <= 4, "opened \(stats.connectionsOpened)")
        #expect(stats.connectionsOpen == stats.connectionsOpened)
        let server_ = try server.connectionStats()
        #expect(server_.accepted <= 4 && server_.requests == 600, "\(server_)")
        engine.shutdown()
        #expect(engine.stats().connectionsOpen == 0)
    }

    @Test func perClientOrderingHoldsThroughRetries() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["fail_rate": 0.2])
        let settings = try engineSettings(server.url, """
            pool_size = 6
            retry { max_attempts = 50, initial_backoff = 1ms, max_backoff = 5ms }
            """)
        let engine = try Engine(settings: settings, log: LogCapture().log)
        let clients = 15, perClient = 40
        for n in 0..<perClient {
            for c in 0..<clients { #expect(engine.submit(publish("client-\(c)", "\(n)")) == .queued) }
        }
        #expect(eventually(within: 30) { engine.stats().delivered == UInt64(clients * perClient) })
        let stats = engine.stats()
        #expect(stats.retried > 0, "the server failed some requests")
        engine.shutdown()
        var seen: [String: [Int]] = [:]
        for request in try server.requests() where request.status == 200 {
            let body = try #require(request.json)
            seen[body["from_client_id"] as! String, default: []].append(Int(body["payload"] as! String)!)
        }
        #expect(seen.count == clients)
        for (client, sequence) in seen {
            #expect(sequence == Array(0..<perClient), "\(client) out of order: \(sequence)")
        }
    }

    @Test func manyThreadsSubmitWhileDeliveryRuns() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try engineSettings(server.url, "pool_size = 8"), log: LogCapture().log)
        let threads = 8, each = 1500
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<each {
                let result = engine.submit(publish("t\(t)-\(i % 13)", "\(i)"))
                precondition(result == .queued)
            }
        }
        #expect(eventually(within: 60) { engine.stats().delivered == UInt64(threads * each) })
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.matched == UInt64(threads * each) && stats.isBalanced)
        #expect(try server.connectionStats().requests == threads * each)
    }

    @Test func orderingNoneUsesEveryConnection() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["delay_ms": 20])
        let engine = try Engine(settings: try engineSettings(server.url, "pool_size = 4\nordering = none"), log: LogCapture().log)
        // One client id: per_client would serialise these on one connection.
        for i in 0..<40 { _ = engine.submit(publish("same", "\(i)")) }
        #expect(eventually { engine.stats().delivered == 40 })
        #expect(engine.stats().connectionsOpened == 4)
        engine.shutdown()
    }

    /// Hostile round 3, row 7: a URL with characters outside ASCII goes out
    /// percent-encoded in the request line (it went raw); a configured Host
    /// replaces the URL's rather than going out beside it.
    @Test func theRequestLineIsPercentEncodedAndAConfiguredHostIsTheOnlyOne() throws {
        let server = try HookServer()
        let settings = try engineSettings(server.url + #"/h\u00e9/\"x\"?q=\u00fc"#, "headers.host = \"hooks.example\"")
        let engine = try Engine(settings: settings, log: LogCapture().log)
        _ = engine.submit(publish("c", "x"))
        #expect(eventually { engine.stats().delivered == 1 })
        engine.shutdown()
        let request = try #require(try server.requests().first)
        #expect(request.path == "/h%C3%A9/%22x%22?q=%C3%BC")
        #expect(request.headers.filter { $0.0.lowercased() == "host" }.map(\.1) == ["hooks.example"])
    }
}
