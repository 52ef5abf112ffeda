import CNng
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// The delivery rules, driven by hand: no socket, no clock, no sleep. Times
/// are plain numbers and the jitter comes from a seeded generator.
@Suite struct DeliveryStateMachineTests {
    typealias Machine = DeliveryStateMachine
    static let ms: UInt64 = 1_000_000
    let reset = Int32(NNG_ECONNRESET.rawValue)
    let closed = Int32(NNG_ECLOSED.rawValue)
    let timedOut = Int32(NNG_ETIMEDOUT.rawValue)
    let refused = Int32(NNG_ECONNREFUSED.rawValue)

    func machine(_ configure: (inout RetryPolicy) -> Void = { _ in }) -> Machine {
        var retry = RetryPolicy()
        configure(&retry)
        return Machine(retry: retry, attemptTimeoutMs: 5000)
    }

    @Test func deliversOnTheOpenConnectionOrConnectsFirst() {
        var random = SeededRandom(state: 1)
        var m = machine()
        #expect(m.begin(nowNs: 10 * Self.ms, connectionOpen: true) == .send)
        #expect(m.state == .exchanging && m.attempt == 1 && m.attemptDeadlineNs == 5010 * Self.ms)
        #expect(m.answered(status: 204, retryAfterSeconds: nil, nowNs: 11 * Self.ms, jitter: random.next()) == .delivered)
        #expect(m.state == .idle && m.lastStatus == 204)

        #expect(m.begin(nowNs: 20 * Self.ms, connectionOpen: false) == .connect)
        #expect(m.state == .connecting && m.attempt == 1 && m.lastStatus == nil)
        #expect(m.connected() == .send)
        #expect(m.answered(status: 200, retryAfterSeconds: nil, nowNs: 21 * Self.ms, jitter: random.next()) == .delivered)
    }

    @Test(arguments: [400, 401, 403, 404, 410, 413, 422, 301, 304])
    func aStatusThatIsNotRetriedFailsTheEventAtOnce(status: Int) {
        var random = SeededRandom(state: 2)
        var m = machine()
        _ = m.begin(nowNs: 0, connectionOpen: true)
        #expect(m.answered(status: status, retryAfterSeconds: 1, nowNs: 0, jitter: random.next()) == .rejected(status: status))
        #expect(m.state == .idle && m.attempt == 1)
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504, 599])
    func retriedStatusesBackOffThenTryAgain(status: Int) {
        var random = SeededRandom(state: 3)
        var m = machine()
        _ = m.begin(nowNs: 0, connectionOpen: true)
        let action = m.answered(status: status, retryAfterSeconds: nil, nowNs: 1 * Self.ms, jitter: random.next())
        guard case .retry(let delay, .status(status)) = action else {
            Issue.record("expected a retry, got \(action)")
            return
        }
        #expect((50...100).contains(delay))  // first step: initial_backoff (100 ms) with equal jitter
        #expect(m.state == .backingOff)
        #expect(m.backoffSlept(nowNs: 200 * Self.ms, connectionOpen: false) == .connect)
        #expect(m.attempt == 2 && m.attemptDeadlineNs == 5200 * Self.ms)
    }

    @Test func backoffDoublesUpToItsCapWithEqualJitter() {
        var random = SeededRandom(state: 4)
        var m = machine { $0.initialBackoffMs = 100; $0.maxBackoffMs = 1600 }
        _ = m.begin(nowNs: 0, connectionOpen: false)
        var now: UInt64 = 0
        for attempt in 1...12 {
            let action = m.failed(.connect(refused), onReusedConnection: false, nowNs: now, jitter: random.next())
            guard case .retry(let delay, .connect(refused)) = action else {
                Issue.record("attempt \(attempt): expected a retry, got \(action)")
                return
            }
            let step = min(1600, 100 << (attempt - 1))
            #expect(delay >= step / 2 && delay <= step, "attempt \(attempt): \(delay) ms outside [\(step / 2), \(step)]")
            now += UInt64(delay) * Self.ms
            #expect(m.backoffSlept(nowNs: now, connectionOpen: false) == .connect)
            #expect(m.attempt == attempt + 1)
        }
    }

    @Test func retryAfterIsHonouredOn429And503OnlyAndCapped() {
        var random = SeededRandom(state: 5)
        var m = machine { $0.maxRetryAfterMs = 30_000 }
        _ = m.begin(nowNs: 0, connectionOpen: true)
        #expect(m.answered(status: 429, retryAfterSeconds: 7, nowNs: 0, jitter: random.next()) == .retry(afterMs: 7000, because: .status(429)))
        _ = m.backoffSlept(nowNs: 7000 * Self.ms, connectionOpen: true)
        #expect(m.answered(status: 503, retryAfterSeconds: 3600, nowNs: 7001 * Self.ms, jitter: random.next())
                == .retry(afterMs: 30_000, because: .status(503)))
        _ = m.backoffSlept(nowNs: 40_000 * Self.ms, connectionOpen: true)
        #expect(m.answered(status: 503, retryAfterSeconds: 0, nowNs: 40_001 * Self.ms, jitter: random.next())
                == .retry(afterMs: 0, because: .status(503)))
        _ = m.backoffSlept(nowNs: 40_001 * Self.ms, connectionOpen: true)
        // 500 carries no meaning for Retry-After: backoff, not 9 s.
        guard case .retry(let delay, .status(500)) = m.answered(status: 500, retryAfterSeconds: 9, nowNs: 40_002 * Self.ms, jitter: random.next()) else {
            Issue.record("expected a retry")
            return
        }
        #expect(delay < 9000)
    }

    @Test func aReusedConnectionClosedByThePeerIsRetriedAtOnceOncePerEvent() {
        var random = SeededRandom(state: 6)
        var m = machine()
        _ = m.begin(nowNs: 0, connectionOpen: true)
        #expect(m.failed(.transport(reset), onReusedConnection: true, nowNs: 1 * Self.ms, jitter: random.next())
                == .reconnect(because: .transport(reset)))
        #expect(m.state == .connecting && m.attempt == 1 && m.attemptDeadlineNs == 5001 * Self.ms)
        #expect(m.connected() == .send)
        // The same again within the event: a real failure now, with backoff.
        guard case .retry(_, .transport(closed)) = m.failed(.transport(closed), onReusedConnection: true, nowNs: 2 * Self.ms, jitter: random.next()) else {
            Issue.record("expected a retry with backoff")
            return
        }
        // A new event gets its one stale retry again.
        var n = machine()
        _ = n.begin(nowNs: 0, connectionOpen: true)
        #expect(n.failed(.transport(closed), onReusedConnection: true, nowNs: 0, jitter: random.next()) == .reconnect(because: .transport(closed)))
    }

    @Test func onlyAReusedConnectionClosedByThePeerCountsAsStale() {
        var random = SeededRandom(state: 7)
        for (failure, reused) in [(Machine.Failure.transport(reset), false), (.transport(timedOut), true), (.connect(refused), true)] {
            var m = machine()
            _ = m.begin(nowNs: 0, connectionOpen: true)
            if case .connect = failure { _ = m.stop(); _ = m.begin(nowNs: 0, connectionOpen: false) }
            guard case .retry(_, failure) = m.failed(failure, onReusedConnection: reused, nowNs: 0, jitter: random.next()) else {
                Issue.record("\(failure), reused \(reused): expected a retry with backoff")
                continue
            }
        }
    }

    @Test func maxAttemptsCountsEveryAttempt() {
        var random = SeededRandom(state: 8)
        var m = machine { $0.maxAttempts = 3 }
        _ = m.begin(nowNs: 0, connectionOpen: true)
        var now: UInt64 = 0
        for _ in 1...2 {
            guard case .retry(let delay, _) = m.answered(status: 500, retryAfterSeconds: nil, nowNs: now, jitter: random.next()) else {
                Issue.record("expected a retry")
                return
            }
            now += UInt64(delay) * Self.ms
            _ = m.backoffSlept(nowNs: now, connectionOpen: true)
        }
        let last = m.answered(status: 500, retryAfterSeconds: nil, nowNs: now, jitter: random.next())
        #expect(last == .gaveUp(because: .status(500), attempts: 3, elapsedMs: Int(now / Self.ms)))
        #expect(m.state == .idle && m.lastStatus == 500)

        var once = machine { $0.maxAttempts = 1 }
        _ = once.begin(nowNs: 0, connectionOpen: false)
        #expect(once.failed(.connectTimedOut, onReusedConnection: false, nowNs: 5000 * Self.ms, jitter: random.next())
                == .gaveUp(because: .connectTimedOut, attempts: 1, elapsedMs: 5000))
    }

    @Test func maxElapsedCountsFromTheFirstAttemptAndIncludesTheWait() {
        var random = SeededRandom(state: 9)
        var m = machine { $0.maxElapsedMs = 10_000; $0.maxRetryAfterMs = 60_000 }
        _ = m.begin(nowNs: 1000 * Self.ms, connectionOpen: true)
        #expect(m.answered(status: 503, retryAfterSeconds: 4, nowNs: 2000 * Self.ms, jitter: random.next()) == .retry(afterMs: 4000, because: .status(503)))
        _ = m.backoffSlept(nowNs: 6000 * Self.ms, connectionOpen: true)
        // 7 s after the first attempt, a wait of 4 s would end at 11 s: over the 10 s.
        #expect(m.answered(status: 503, retryAfterSeconds: 4, nowNs: 8000 * Self.ms, jitter: random.next())
                == .gaveUp(because: .status(503), attempts: 2, elapsedMs: 7000))
    }

    @Test func shutdownDropsOnlyAnEventInHand() {
        var random = SeededRandom(state: 10)
        var m = machine()
        #expect(m.stop() == nil)
        _ = m.begin(nowNs: 0, connectionOpen: false)
        #expect(m.stop() == .droppedAtShutdown)
        #expect(m.state == .idle)
        _ = m.begin(nowNs: 0, connectionOpen: true)
        _ = m.answered(status: 502, retryAfterSeconds: nil, nowNs: 0, jitter: random.next())
        #expect(m.state == .backingOff)
        #expect(m.stop() == .droppedAtShutdown)
        #expect(m.begin(nowNs: 0, connectionOpen: true) == .send && m.attempt == 1)
    }

    @Test func theLastFailureIsKeptForTheReport() {
        var random = SeededRandom(state: 11)
        var m = machine()
        _ = m.begin(nowNs: 0, connectionOpen: false)
        _ = m.failed(.connect(refused), onReusedConnection: false, nowNs: 0, jitter: random.next())
        #expect(m.lastFailure == .connect(refused) && m.lastStatus == nil)
        _ = m.backoffSlept(nowNs: 100 * Self.ms, connectionOpen: false)
        _ = m.connected()
        _ = m.answered(status: 201, retryAfterSeconds: nil, nowNs: 0, jitter: random.next())
        #expect(m.lastFailure == nil && m.lastStatus == 201)
    }
}
