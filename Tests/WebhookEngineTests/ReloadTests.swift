import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// `Engine.reload` against real HTTP servers: a new URL, headers, rules and
/// limits take effect under load without losing or repeating an event; what
/// takes a restart, and an endpoint that cannot be made, are refused and
/// change nothing. (The C function, a third-party signature verifier and the
/// brokers' reload are Tests/C/reload_test.py's and the broker suites'.)
@Suite(.serialized) struct ReloadTests {
    /// Every event's payload, in the order the server got them (batches included).
    func payloads(_ server: HookServer) throws -> [String] {
        try server.requests().flatMap { request -> [String] in
            let body = try JSONSerialization.jsonObject(with: request.body)
            let events = body as? [[String: Any]] ?? [body as? [String: Any] ?? [:]]
            return events.map { $0["payload"] as? String ?? "?" }
        }
    }

    @Test func aNewURLTakesOverUnderLoadAndNoEventIsLostOrSentTwice() throws {
        let first = try HookServer(), second = try HookServer()
        let extra = "pool_size = 4\nordering = per_client\nheaders.x-config = one"
        let engine = try Engine(settings: try engineSettings(first.url + "/hook", extra), log: LogCapture().log)
        let clients = 8, perClient = 300
        let emitter = Thread {
            for n in 0..<perClient {
                for c in 0..<clients { _ = engine.submit(publish("c\(c)", "c\(c):\(n)")) }
                if n % 50 == 0 { Thread.sleep(forTimeInterval: 0.002) }
            }
        }
        emitter.start()
        #expect(eventually { engine.stats().delivered >= 300 })
        let changes = try engine.reload(try engineSettings(second.url + "/other", "pool_size = 4\nordering = per_client\nheaders.x-config = two"))
        #expect(changes == "url, headers")
        #expect(eventually(within: 30) { engine.stats().delivered == UInt64(clients * perClient) }, "\(engine.stats())")
        engine.shutdown()
        let atFirst = try payloads(first), atSecond = try payloads(second)
        #expect(!atFirst.isEmpty && !atSecond.isEmpty, "both got some: \(atFirst.count) and \(atSecond.count)")
        let all = atFirst + atSecond
        #expect(all.count == clients * perClient && Set(all).count == all.count, "none lost, none twice")
        // Per client: everything the first got came before everything the second got, each in order.
        for c in 0..<clients {
            let numbers = { (list: [String]) in list.filter { $0.hasPrefix("c\(c):") }.map { Int($0.split(separator: ":")[1])! } }
            let before = numbers(atFirst), after = numbers(atSecond)
            #expect(before == before.sorted() && after == after.sorted() && (before.last ?? -1) < (after.first ?? Int.max),
                    "client \(c): \(before.suffix(3)) then \(after.prefix(3))")
        }
        #expect(try first.requests().allSatisfy { $0.header("x-config") == "one" && $0.path == "/hook" })
        #expect(try second.requests().allSatisfy { $0.header("x-config") == "two" && $0.path == "/other" })
        #expect(engine.stats().isBalanced)
    }

    @Test func rulesAndLimitsTakeEffectAtOnce() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try engineSettings(server.url, rules: "{ event = on_message_publish, topic = \"a/#\" }"),
                                log: LogCapture().log)
        #expect(engine.submit(publish("c", "1", topic: "b/x")) == .filtered)
        let changes = try engine.reload(try engineSettings(server.url, "queue { max_events = 2 }\nbatch { max_events = 5 }",
                                                           rules: "{ event = on_message_publish, topic = \"b/#\" }"))
        #expect(changes == "rules, queue, batch")
        #expect(engine.route(.messagePublish, topic: UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
        #expect(engine.submit(publish("c", "2", topic: "a/x")) == .filtered)
        #expect(engine.submit(publish("c", "3", topic: "b/x")) == .queued)
        #expect(eventually { engine.stats().delivered == 1 })
        engine.shutdown()
        #expect(try payloads(server) == ["3"])
    }

    @Test func whatTakesARestartOrCannotBeMadeIsRefusedAndNothingChanges() throws {
        let server = try HookServer()
        let engine = try Engine(settings: try engineSettings(server.url, "pool_size = 2"), log: LogCapture().log)
        #expect(throws: EngineError.self) { try engine.reload(try engineSettings(server.url, "pool_size = 3")) }
        let unordered = try engineSettings(server.url, "pool_size = 2\nordering = none")
        do {
            _ = try engine.reload(unordered)
            Issue.record("an ordering change was accepted")
        } catch {
            #expect(error.message == "ordering takes a restart; the running config stays")
        }
        // A file that exists (the config accepts it) but holds no certificate: the endpoint cannot be made.
        let missing = NSTemporaryDirectory() + "not-a-ca-\(UUID().uuidString).pem"
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: missing))
        defer { try? FileManager.default.removeItem(atPath: missing) }
        let badTLS = try engineSettings("https://127.0.0.1:1/x", "pool_size = 2\ntls { cacertfile = \"\(missing)\" }")
        do {
            _ = try engine.reload(badTLS)
            Issue.record("a CA file that does not exist was accepted")
        } catch {
            #expect(error.message.contains("tls.cacertfile \(missing)"), "\(error.message)")
        }
        #expect(engine.settings.url.description == server.url + "/", "the running config stays")
        #expect(engine.submit(publish("c", "still")) == .queued)
        #expect(eventually { engine.stats().delivered == 1 })
        engine.shutdown()
        #expect(try payloads(server) == ["still"])
    }
}
