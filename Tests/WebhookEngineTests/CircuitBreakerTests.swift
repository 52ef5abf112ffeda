import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// The circuit breaker as a value (times are numbers), then a pool of eight
/// connections against an endpoint that fails: once open, requests reach
/// it one at a time (the probes), and everything is delivered when it answers.
@Suite(.serialized) struct CircuitBreakerTests {
    static let ms: UInt64 = 1_000_000
    static let lost: UInt64 = 10_000 * ms

    @Test func opensAfterFailuresInARowProbesAtGrowingIntervalsAndClosesOnAnAnswer() {
        var breaker = CircuitBreaker(threshold: 3, initialIntervalMs: 100, maxIntervalMs: 300)
        func may(_ now: UInt64) -> CircuitBreaker.Decision { breaker.mayAttempt(nowNs: now, probeLostAfterNs: Self.lost) }
        func failed(_ now: UInt64) -> Bool { breaker.attemptFailed(nowNs: now) }
        var now: UInt64 = 1_000 * Self.ms
        let first = failed(now), second = failed(now)
        #expect(!first && !second)
        #expect(may(now) == .go)
        let third = failed(now)
        #expect(third, "the third in a row opens it")
        #expect(breaker.state == .open && breaker.opened == 1)
        #expect(may(now + 50 * Self.ms) == .wait(untilNs: now + 100 * Self.ms))
        now += 100 * Self.ms
        #expect(may(now) == .probe)
        #expect(may(now) != .probe, "one probe at a time")
        // The probe fails: open twice as long, then 300 ms at most.
        let probeFailed = failed(now)
        #expect(!probeFailed)
        #expect(may(now) == .wait(untilNs: now + 200 * Self.ms))
        now += 200 * Self.ms
        #expect(may(now) == .probe)
        _ = failed(now)
        #expect(may(now) == .wait(untilNs: now + 300 * Self.ms))
        // A failure from an attempt begun before it opened changes nothing.
        let late = failed(now)
        #expect(!late && breaker.state == .open)
        now += 300 * Self.ms
        #expect(may(now) == .probe)
        let closed = breaker.attemptAnswered()
        #expect(closed && breaker.state == .closed)
        #expect(may(now) == .go)
        #expect(breaker.opened == 1)
    }

    @Test func aLostProbeIsReplacedAndZeroNeverOpens() {
        var breaker = CircuitBreaker(threshold: 1, initialIntervalMs: 100, maxIntervalMs: 100)
        func may(_ now: UInt64) -> CircuitBreaker.Decision { breaker.mayAttempt(nowNs: now, probeLostAfterNs: Self.lost) }
        _ = breaker.attemptFailed(nowNs: 0)
        #expect(may(100 * Self.ms) == .probe)
        #expect(may(200 * Self.ms) != .probe)
        #expect(may(100 * Self.ms + Self.lost) == .probe)
        var off = CircuitBreaker(threshold: 0, initialIntervalMs: 100, maxIntervalMs: 100)
        var opened = false
        for _ in 0..<100 { opened = off.attemptFailed(nowNs: 0) || opened }
        #expect(!opened && off.state == .closed)
    }

    /// Eight connections, each with an event, against an endpoint that
    /// answers 503 (slowly) to its first 12 requests: after the first wave
    /// (one request per connection, all begun before the first failure
    /// opened the circuit), no request arrives while another is being
    /// answered; then all 8 are delivered, and the metrics saw it open.
    /// With the breaker off, the retries of the eight overlap. (The probe
    /// interval, 300 ms, is six times a request: a first-wave request
    /// slowed by a loaded machine cannot meet a probe.)
    @Test(arguments: [1, 0]) func onceOpenRequestsComeOneAtATime(failures: Int) throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 200], script: Array(repeating: ["status": 503, "delay_ms": 50], count: 12))
        let settings = try engineSettings(server.url + "/hook", """
            pool_size = 8
            circuit_breaker { failures = \(failures) }
            retry { initial_backoff = 300ms, max_backoff = 300ms }
            """)
        let engine = try Engine(settings: settings, log: LogCapture().log)
        for i in 0..<8 { _ = engine.submit(publish("client-\(i)", "\(i)")) }
        #expect(eventually(within: 30) { engine.stats().delivered == 8 }, "\(engine.stats())")
        let opened = engine.metrics()[0].circuitOpened
        engine.shutdown()
        #expect(engine.stats().isBalanced && engine.stats().failed == 0)
        let requests = try server.requests().sorted { $0.time < $1.time }
        let refused = requests.prefix { $0.status == 503 }
        #expect(refused.count == 12, "\(requests.map(\.status))")
        // The first wave (one request per connection) overlaps by design.
        let afterTheFirstWave = refused.dropFirst(8)
        let overlapping = afterTheFirstWave.filter { $0.active > 1 }.count
        if failures > 0 {
            #expect(overlapping == 0, "probes one at a time: \(afterTheFirstWave.map(\.active))")
            #expect(opened >= 1 && engine.stats().circuitOpened == opened)
            #expect(engine.metrics()[0].circuitState == .closed && engine.stats().circuitsOpen == 0)
        } else {
            #expect(overlapping > 0, "without a breaker the eight retry at once: \(afterTheFirstWave.map(\.active))")
            #expect(opened == 0)
        }
    }
}
