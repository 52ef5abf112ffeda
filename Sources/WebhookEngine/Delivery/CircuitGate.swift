import Synchronization
import WebhookCore

/// The endpoint's `CircuitBreaker` and, with `backup_url`, its `Failover`,
/// shared by its connections: each asks it before an attempt (may it go,
/// and to which URL) and reports the attempt's end. A connection told to
/// wait arms its timer slot for the probe time and is listed, so that when
/// the circuit closes (or fails over) every waiting connection goes at
/// once rather than at its own next check.
///
/// With a backup, the breaker opening on the primary switches to the
/// backup instead, and the breaker counts afresh there (both down: it
/// opens on the backup, while the primary is still probed).
final class CircuitGate: @unchecked Sendable {
    private let lock = Lock()
    private var breaker: CircuitBreaker
    private var failover: Failover
    private var hasBackup: Bool
    /// `failover.target == .backup`, readable without the lock: every
    /// attempt asks where to go.
    private let onBackup = Atomic<Bool>(false)
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
    private var backupURL: String

    init(_ settings: WebhookSettings, timers: TimerThread, log: Log) {
        breaker = CircuitBreaker(threshold: settings.circuitBreakerFailures, initialIntervalMs: settings.retry.initialBackoffMs,
                                 maxIntervalMs: settings.retry.maxBackoffMs)
        failover = Failover(initialIntervalMs: settings.retry.initialBackoffMs, maxIntervalMs: settings.retry.maxBackoffMs)
        hasBackup = settings.backupURL != nil
        backupURL = settings.backupURL.map { "\($0)" } ?? ""
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

    /// Where an attempt starting now goes: the primary unless failed over
    /// (one relaxed load then), and on the backup the primary when its probe is due.
    func target() -> Failover.Target {
        guard onBackup.load(ordering: .relaxed) else { return .primary }
        let now = Clock.monotonicNanoseconds()
        return lock.withLock { failover.targetForAttempt(nowNs: now, probeLostAfterNs: probeLostAfterNs) }
    }

    /// An attempt to `target` failed.
    func attemptFailed(target: Failover.Target) {
        let now = Clock.monotonicNanoseconds()
        let (opened, switched, woken, threshold) = lock.withLock { () -> (Bool, Bool, [Int], Int) in
            guard target == failover.target else {
                // A probe of the primary while on the backup (or an attempt begun before a switch): not the breaker's.
                if target == .primary { failover.primaryFailed(nowNs: now) }
                return (false, false, [], 0)
            }
            clean.store(false, ordering: .relaxed)
            let opened = breaker.attemptFailed(nowNs: now)
            var woken: [Int] = []
            let switched = opened && hasBackup && target == .primary
            if switched {
                failover.primaryWentDown(nowNs: now)
                onBackup.store(true, ordering: .relaxed)
                breaker.reset()
                woken = waiting
                waiting.removeAll()
            }
            tripped.store(breaker.state != .closed, ordering: .relaxed)
            return (opened, switched, woken, breaker.threshold)
        }
        if switched {
            log.log(.warning, "\(url): down after \(threshold) failed attempts in a row: failing over to \(backupURL); the primary is probed until it answers")
            for slot in woken { timers.fireNow(slot) }
        } else if opened {
            log.log(.warning, "\(target == .backup ? backupURL : url): circuit open after \(threshold) failed attempts in a row: one probe request at a time until one is answered")
        }
    }

    /// `target` answered (a 2xx, or a 4xx it meant).
    func attemptAnswered(target: Failover.Target) {
        if target == .primary, onBackup.load(ordering: .relaxed) { return primaryAnswered() }
        if clean.load(ordering: .relaxed) { return }
        let (closed, woken) = lock.withLock { () -> (Bool, [Int]) in
            // An answer from the backup after the switch back says nothing of the primary.
            guard target == failover.target else { return (false, []) }
            let closed = breaker.attemptAnswered()
            return (closed, releaseWaitingLocked())
        }
        guard closed else { return }
        log.log(.info, "\(target == .backup ? backupURL : url): circuit closed: the probe was answered; \(woken.count) waiting connection(s) go on")
        for slot in woken { timers.fireNow(slot) }
    }

    /// The primary answered while on the backup: everything goes back to it.
    private func primaryAnswered() {
        let (switched, woken) = lock.withLock { () -> (Bool, [Int]) in
            guard failover.primaryAnswered() else { return (false, []) }
            onBackup.store(false, ordering: .relaxed)
            breaker.reset()
            return (true, releaseWaitingLocked())
        }
        guard switched else { return }
        log.log(.info, "\(url): answered again: back from \(backupURL) to it")
        for slot in woken { timers.fireNow(slot) }
    }

    /// Under `lock`, after an answer closed the circuit (or brought the
    /// primary back): the fast paths see all well again, and the waiting
    /// connections are handed back to be woken once the lock is released.
    private func releaseWaitingLocked() -> [Int] {
        clean.store(true, ordering: .relaxed)
        tripped.store(false, ordering: .relaxed)
        defer { waiting.removeAll() }
        return waiting
    }

    /// The state now, the times it opened, and the failover's (the metrics).
    func snapshot() -> (state: CircuitBreaker.State, opened: UInt64, onBackup: Bool, failovers: UInt64) {
        lock.withLock { (breaker.state, breaker.opened, failover.target == .backup, failover.switches) }
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
            failover.initialIntervalNs = breaker.initialIntervalNs
            failover.maxIntervalNs = breaker.maxIntervalNs
            hasBackup = settings.backupURL != nil
            backupURL = settings.backupURL.map { "\($0)" } ?? ""
            if !hasBackup {
                failover.backupRemoved()
                onBackup.store(false, ordering: .relaxed)
            }
        }
    }

    /// Twice an attempt's limit: a probe has surely ended by then.
    private static func probeLostAfter(_ settings: WebhookSettings) -> UInt64 {
        UInt64(max(1, settings.cancelTimeoutMs)) * 2_000_000
    }
}
