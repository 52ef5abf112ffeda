import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// Several endpoints (issue 23 items 1 and 2): rules route events to the
/// endpoints they name, each endpoint delivers with its own settings and
/// counts its own, a dead one never holds up another, and `backup_url`
/// takes over while the url is down, keeping each client's order.
@Suite(.serialized) struct EndpointsTests {
    static func settings(_ text: String) throws -> WebhookSettings {
        try ConfigLoader(environment: Environment([:])).settings(text: text)
    }

    @Test func eachEndpointGetsWhatItsRulesSendWithItsOwnSettings() throws {
        let a = try HookServer(), b = try HookServer()
        let secret = "whsec_" + Data("endpoint-b-key".utf8).base64EncodedString()
        let settings = try Self.settings("""
            webhook {
              headers { x-tenant = "t1" }
              pool_size = 2
              endpoints {
                a { url = "\(a.url)/a" }
                b { url = "\(b.url)/b", headers { x-only-b = "1" }, signing { secret = "\(secret)" }, batch { max_events = 10 } }
              }
              events = [ { event = on_message_publish, topic = "plant/#", endpoints = [a, b] },
                         { event = on_message_publish, topic = "b/#", endpoints = b },
                         { event = on_client_connected, endpoints = [a] } ]
            }
            """)
        let engine = try Engine(settings: settings, log: LogCapture().log)
        for i in 0..<5 { #expect(engine.submit(publish("p\(i)", "plant-\(i)", topic: "plant/\(i)")) == .queued) }
        for i in 0..<2 { #expect(engine.submit(publish("q", "b-\(i)", topic: "b/\(i)")) == .queued) }
        #expect(engine.submit(publish("z", "nobody", topic: "elsewhere")) == .filtered)
        var connected = Event(kind: .clientConnected)
        connected.set(.clientID, "c")
        #expect(engine.submit(connected) == .queued)
        #expect(eventually { engine.stats().delivered == 13 }, "\(engine.stats())")
        engine.shutdown()

        // Fan-out: counted once per endpoint; the engine's stats add them up.
        let metrics = engine.metrics()
        #expect(metrics.map(\.endpoint) == ["a", "b"])
        #expect(metrics[0].stats.delivered == 6 && metrics[1].stats.delivered == 7)
        #expect(metrics[0].stats.matched == 6 && metrics[1].stats.matched == 7)
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.matched == 13 && stats.delivered == 13 && stats.endpoints == 2, "\(stats)")
        let text = PrometheusText.render(metrics, version: "test")
        #expect(text.contains("swiftwebhook_delivered_events_total{endpoint=\"a\",event=\"on_message_publish\"} 5\n"))
        #expect(text.contains("swiftwebhook_delivered_events_total{endpoint=\"b\",event=\"on_message_publish\"} 7\n"))
        #expect(text.contains("swiftwebhook_delivered_events_total{endpoint=\"a\",event=\"on_client_connected\"} 1\n"))
        #expect(text.contains("swiftwebhook_endpoint_state{endpoint=\"b\",state=\"up\"} 1\n"))

        // Each with its own settings: a's requests one event each, unsigned, with the
        // section's header; b's in batches (one JSON array), signed, its own header only.
        let toA = try a.requests(), toB = try b.requests()
        #expect(toA.count == 6 && toA.allSatisfy { $0.path == "/a" && $0.header("x-tenant") == "t1" && $0.header("webhook-signature") == nil })
        #expect(toB.allSatisfy { $0.path == "/b" && $0.header("x-only-b") == "1" && $0.header("x-tenant") == nil && $0.header("webhook-signature") != nil })
        let bEvents = toB.flatMap { (try? JSONSerialization.jsonObject(with: $0.body) as? [[String: Any]]) ?? [] }
        #expect(Set(bEvents.compactMap { $0["payload"] as? String }) == Set((0..<5).map { "plant-\($0)" } + ["b-0", "b-1"]))
    }

    /// A reload changes what a reload may change of each endpoint (here a
    /// URL and the rules); another set of endpoints takes a restart, and
    /// the running config stays.
    @Test func aReloadChangesEachEndpointAndRefusesAnotherSetOfThem() throws {
        let a = try HookServer(), b = try HookServer(), c = try HookServer()
        func config(_ second: String, _ rules: String, names: (String, String) = ("one", "two")) throws -> WebhookSettings {
            try Self.settings("""
                webhook {
                  endpoints { \(names.0) { url = "\(a.url)/hook" }, \(names.1) { url = "\(second)/hook" } }
                  events = [ \(rules) ]
                }
                """)
        }
        let engine = try Engine(settings: try config(b.url, "{ event = on_message_publish }"), log: LogCapture().log)
        #expect(engine.submit(publish("x", "before")) == .queued)
        #expect(eventually { engine.stats().delivered == 2 })
        let changes = try engine.reload(try config(c.url, "{ event = on_message_publish, endpoints = [two] }"))
        #expect(changes == "rules; two: url", "\(changes)")
        #expect(engine.submit(publish("x", "after")) == .queued)
        #expect(eventually { engine.stats().delivered == 3 })
        #expect(try c.requests().compactMap { $0.json?["payload"] as? String } == ["after"])
        #expect(try a.requests().count == 1 && b.requests().count == 1)
        do {
            _ = try engine.reload(try config(c.url, "{ event = on_message_publish }", names: ("one", "three")))
            Issue.record("renaming an endpoint was taken by a reload")
        } catch {
            #expect("\(error)".contains("endpoints (one, two -> one, three) take a restart"), "\(error)")
        }
        engine.shutdown()
        #expect(engine.stats().isBalanced)
    }

    /// One endpoint black-holes its connections (accepted, never answered,
    /// the attempt's limit long): its pool is stuck and its queue fills to
    /// its bound, while the other endpoint delivers every event. Nothing of
    /// one endpoint (queue, lanes, connections, timers) waits on the other's.
    @Test func aBlackHoledEndpointNeverHoldsUpAnother() throws {
        let hole = try RawServer(answer: "", ending: .hold)
        let healthy = try HookServer()
        let settings = try Self.settings("""
            webhook {
              drain_timeout = 300ms
              endpoints {
                hole { url = "\(hole.url)", pool_size = 4, ordering = none, cancel_timeout = 600s, queue { max_events = 50 } }
                healthy { url = "\(healthy.url)/hook", pool_size = 4 }
              }
              events = [ { event = on_message_publish } ]
            }
            """)
        let engine = try Engine(settings: settings, log: LogCapture().log)
        let events = 2000
        for i in 0..<events { _ = engine.submit(publish("c\(i % 16)", "\(i)")) }
        #expect(eventually(within: 60) { engine.metrics()[1].stats.delivered == UInt64(events) }, "\(engine.metrics()[1].stats)")
        // What the hole holds: up to 4 in flight (one per connection) and 50 queued; the rest
        // dropped at its own bound and counted as its own.
        let stuck = engine.metrics()[0].stats
        #expect(stuck.delivered == 0 && stuck.inFlight <= 4 && stuck.queued <= 50 && stuck.inFlight + stuck.queued >= 50, "\(stuck)")
        #expect(stuck.droppedQueueFull + stuck.queued + stuck.inFlight == UInt64(events), "\(stuck)")
        let done = DispatchSemaphore(value: 0)
        Thread { engine.shutdown(); done.signal() }.start()
        #expect(done.wait(timeout: .now() + 30) == .success, "shutdown hung on the black hole")
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.delivered == UInt64(events) && stats.droppedShutdown == stuck.queued + stuck.inFlight, "\(stats)")
        withExtendedLifetime(hole) {}
    }

    /// The url answers 503 until the test lets it answer again: after two
    /// failed attempts in a row events go to backup_url; a probe of the url
    /// at the retry backoff's intervals brings them back once it answers.
    /// Every client's events arrive (2xx) in the order they were emitted,
    /// across both switches; each switch is logged and counted.
    @Test func backupURLWhileTheURLIsDownAndBackInEachClientsOrder() throws {
        let primary = try HookServer(), backup = try HookServer()
        try primary.setBehaviour(default: ["status": 503])
        let settings = try Self.settings("""
            webhook {
              url = "\(primary.url)/hook"
              backup_url = "\(backup.url)/backup"
              pool_size = 3
              circuit_breaker { failures = 2 }
              retry { initial_backoff = 20ms, max_backoff = 200ms }
              events = [ { event = on_message_publish } ]
            }
            """)
        let capture = LogCapture()
        let engine = try Engine(settings: settings, log: capture.log)
        let clients = ["c0", "c1", "c2", "c3", "c4"]
        var sent = 0
        func emit() {
            for client in clients { _ = engine.submit(publish(client, "\(client)-\(sent)")) }
            sent += 1
        }
        for _ in 0..<10 { emit() }
        #expect(eventually { engine.stats().delivered == UInt64(10 * clients.count) }, "\(engine.stats())")
        var metrics = engine.metrics()[0]
        #expect(metrics.onBackup && metrics.failovers == 1)
        let during = engine.stats()
        #expect(during.onBackup == 1 && during.failovers == 1 && during.circuitOpened == 1 && during.circuitsOpen == 0, "\(during)")
        #expect(try backup.requests().count >= 40, "the backup took the events while the url was down")

        // The url answers again: events keep coming until a probe finds it.
        try primary.setBehaviour(default: ["status": 200])
        #expect(eventually(within: 20) {
            emit()
            Thread.sleep(forTimeInterval: 0.02)
            return !engine.metrics()[0].onBackup
        })
        for _ in 0..<5 { emit() }
        #expect(eventually { engine.stats().delivered == UInt64(sent * clients.count) }, "\(engine.stats())")
        engine.shutdown()
        metrics = engine.metrics()[0]
        #expect(metrics.failovers == 2 && !metrics.onBackup)
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.failed == 0 && stats.delivered == UInt64(sent * clients.count), "\(stats)")
        #expect(stats.onBackup == 0 && stats.failovers == 2, "the C stats say it too: \(stats)")
        let lastFive = try primary.requests().filter { $0.status == 200 }.suffix(5 * clients.count)
        #expect(lastFive.count == 5 * clients.count, "after the switch back, the url has them")

        // Order: every 2xx, from both servers, by arrival time.
        let answered = (try primary.requests() + backup.requests()).filter { $0.status == 200 }.sorted { $0.time < $1.time }
        for client in clients {
            let sequence = answered.compactMap { $0.json?["payload"] as? String }.filter { $0.hasPrefix("\(client)-") }
                .map { Int($0.dropFirst(client.count + 1))! }
            #expect(sequence == Array(0..<sent), "\(client): \(sequence)")
        }
        #expect(capture.messages.filter { $0.contains("failing over to") }.count == 1, "\(capture.messages)")
        #expect(capture.messages.filter { $0.contains("answered again: back from") }.count == 1, "\(capture.messages)")
        let text = PrometheusText.render(engine.metrics(), version: "test")
        #expect(text.contains("swiftwebhook_failovers_total 2\n") && text.contains("swiftwebhook_target{url=\"primary\"} 1\n"))
    }
}
