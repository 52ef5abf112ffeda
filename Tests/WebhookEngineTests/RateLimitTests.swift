import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// `rate_limit`: the window as a value (no clock), then a recording
/// receiver that counts every second it saw.
@Suite(.serialized) struct RateLimitTests {
    static let ms: UInt64 = 1_000_000

    func window(events: Int = 0, bytes: Int = 0) -> RateWindow {
        var settings = RateLimitSettings()
        settings.eventsPerSecond = events
        settings.bytesPerSecond = bytes
        return RateWindow(settings)
    }

    @Test func eventsWaitUntilTheSecondHasPassed() {
        var w = window(events: 10)
        let t0: UInt64 = 5_000 * Self.ms
        for _ in 0..<10 { #expect(w.acquire(events: 1, bytes: 100, nowNs: t0) == nil) }
        let wait = w.acquire(events: 1, bytes: 100, nowNs: t0)
        // The first ten leave the 1.05 s window 1.05 s after their bucket began.
        #expect(wait == 1_050 * Self.ms, "\(String(describing: wait))")
        #expect(w.acquire(events: 1, bytes: 100, nowNs: t0 + 1_040 * Self.ms) != nil)
        #expect(w.acquire(events: 1, bytes: 100, nowNs: t0 + 1_050 * Self.ms) == nil)
    }

    @Test func theWindowSlidesBucketByBucket() {
        var w = window(events: 4)
        let t0: UInt64 = 100 * Self.ms
        #expect(w.acquire(events: 2, bytes: 0, nowNs: t0) == nil)
        #expect(w.acquire(events: 2, bytes: 0, nowNs: t0 + 500 * Self.ms) == nil)
        // Full: the first two leave first, so one more waits for them only.
        let wait = w.acquire(events: 1, bytes: 0, nowNs: t0 + 600 * Self.ms)
        #expect(wait == 450 * Self.ms, "\(String(describing: wait))")
        #expect(w.acquire(events: 2, bytes: 0, nowNs: t0 + 1_050 * Self.ms) == nil)
        #expect(w.acquire(events: 1, bytes: 0, nowNs: t0 + 1_060 * Self.ms) != nil, "the second pair is still in the window")
    }

    @Test func bytesAreLimitedAndAnOversizedRequestGoesAlone() {
        var w = window(bytes: 1000)
        let t0: UInt64 = 100 * Self.ms
        #expect(w.acquire(events: 1, bytes: 600, nowNs: t0) == nil)
        #expect(w.acquire(events: 1, bytes: 600, nowNs: t0) != nil)
        #expect(w.acquire(events: 1, bytes: 5000, nowNs: t0 + 2_000 * Self.ms) == nil, "alone in an empty window")
        #expect(w.acquire(events: 1, bytes: 1, nowNs: t0 + 2_000 * Self.ms) != nil)
    }

    /// A recording receiver never counts more than the limit in any second,
    /// and nothing is dropped. (Counted over 0.95 s from each arrival: the
    /// library keeps 1.05 s between what it lets through, so 100 ms of
    /// scheduling delay between sending and recording, on a loaded test
    /// machine, cannot fail the test; without the limit all 100 arrive
    /// within a fraction of a second.)
    @Test(arguments: ["events_per_second = 40", "bytes_per_second = 12KB"])
    func aReceiverNeverSeesMoreThanTheLimitInAnySecond(limit: String) throws {
        let server = try HookServer()
        let settings = try engineSettings(server.url + "/hook", "pool_size = 8\nordering = none\nrate_limit { \(limit) }")
        let engine = try Engine(settings: settings, log: LogCapture().log)
        let events = 100
        for i in 0..<events { _ = engine.submit(publish("c\(i % 5)", String(repeating: "p", count: 100) + "\(i)")) }
        #expect(eventually(within: 30) { engine.stats().delivered == UInt64(events) }, "\(engine.stats())")
        engine.shutdown()
        #expect(engine.stats().isBalanced && engine.stats().failed == 0 && engine.stats().dropped == 0)
        let requests = try server.requests().sorted { $0.time < $1.time }
        #expect(requests.count == events)
        var busiest = (events: 0, bytes: 0)
        for (i, first) in requests.enumerated() {
            let second = requests[i...].prefix { $0.time < first.time + 0.95 }
            busiest.events = max(busiest.events, second.count)
            busiest.bytes = max(busiest.bytes, second.reduce(0) { $0 + $1.body.count })
        }
        if limit.hasPrefix("events") {
            #expect(busiest.events <= 40, "\(busiest.events) requests in one second")
        } else {
            #expect(busiest.bytes <= 12 << 10, "\(busiest.bytes) bytes in one second")
        }
    }
}
