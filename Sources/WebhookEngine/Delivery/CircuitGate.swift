import Synchronization
import WebhookCore

/// The endpoint's `CircuitBreaker`, shared by its connections: each asks it
/// before an attempt and reports the attempt's end. A connection told to
/// wait arms its timer slot for the probe time and is listed, so that when
/// the circuit closes every waiting connection goes at once rather than at
/// its own next check.
final class CircuitGate: @unchecked Sendable {
    private let lock = Lock()
    private var breaker: CircuitBreaker
    /// How long a probe may go without an outcome before another is sent.
    private var probeLostAfterNs: UInt64
    /// The timer slots of the connections waiting for the circuit.
    private var waiting: [Int] = []
    /// `breaker.state != .closed`, readable without the lock: nearly every
    /// attempt finds it closed.
    private let tripped = Atomic<Bool>(false)
    /// No failure since the last answer: an answer then changes nothing,
    /// and nearly every answer costs one relaxed load, not the lock.
    private let clean = Atomic<Bool>(true)
    private let timers: TimerThread
    private let log: Log
    private var url: String

    init(_ settings: WebhookSettings, timers: TimerThread, log: Log) {
        breaker = CircuitBreaker(threshold: settings.circuitBreakerFailures, initialIntervalMs: settings.retry.initialBackoffMs,
                                 maxIntervalMs: settings.retry.maxBackoffMs)
        probeLostAfterNs = Self.probeLostAfter(settings)
        self.timers = timers
        self.log = log
        url = "\(settings.url)"
    }

    /// nil: the attempt may go now; otherwise the connection with timer
    /// `slot` waits this long (or until the circuit closes) and asks again.
    func check(slot: Int) -> UInt64? {
        guard tripped.load(ordering: .relaxed) else { return nil }
        let now = Clock.monotonicNanoseconds()
        return lock.withLock { () -> UInt64? in
            switch breaker.mayAttempt(nowNs: now, probeLostAfterNs: probeLostAfterNs) {
            case .go, .probe:
                // No longer waiting: a close must not fire a timer it is not waiting on.
                waiting.removeAll { $0 == slot }
                return nil
            case .wait(let until):
                if !waiting.contains(slot) { waiting.append(slot) }
                return max(until > now ? until - now : 0, 1_000_000)
            }
        }
    }

    func attemptFailed() {
        let now = Clock.monotonicNanoseconds()
        let (opened, url, threshold) = lock.withLock { () -> (Bool, String, Int) in
            clean.store(false, ordering: .relaxed)
            let opened = breaker.attemptFailed(nowNs: now)
            tripped.store(breaker.state != .closed, ordering: .relaxed)
            return (opened, self.url, breaker.threshold)
        }
        if opened {
            log.log(.warning, "\(url): circuit open after \(threshold) failed attempts in a row: one probe request at a time until one is answered")
        }
    }

    func attemptAnswered() {
        if clean.load(ordering: .relaxed) { return }
        let (closed, url, woken) = lock.withLock { () -> (Bool, String, [Int]) in
            clean.store(true, ordering: .relaxed)
            let closed = breaker.attemptAnswered()
            tripped.store(false, ordering: .relaxed)
            defer { waiting.removeAll() }
            return (closed, self.url, waiting)
        }
        guard closed else { return }
        log.log(.info, "\(url): circuit closed: the probe was answered; \(woken.count) waiting connection(s) go on")
        for slot in woken { timers.fireNow(slot) }
    }

    /// The state now and the times it opened (the metrics).
    func snapshot() -> (state: CircuitBreaker.State, opened: UInt64) {
        lock.withLock { (breaker.state, breaker.opened) }
    }

    /// A reload's threshold and intervals, from now on (an open circuit
    /// stays open until its probe is answered).
    func apply(_ settings: WebhookSettings) {
        lock.withLock {
            breaker.threshold = settings.circuitBreakerFailures
            breaker.initialIntervalNs = UInt64(max(1, settings.retry.initialBackoffMs)) * 1_000_000
            breaker.maxIntervalNs = UInt64(max(1, settings.retry.maxBackoffMs)) * 1_000_000
            probeLostAfterNs = Self.probeLostAfter(settings)
            url = "\(settings.url)"
        }
    }

    /// Twice an attempt's limit: a probe has surely ended by then.
    private static func probeLostAfter(_ settings: WebhookSettings) -> UInt64 {
        UInt64(max(1, settings.cancelTimeoutMs)) * 2_000_000
    }
}
