import Synchronization
import WebhookCore

/// The endpoint's health (`EndpointHealth`) as every connection reports its
/// attempts: one log line when it goes down (the first failure and its
/// reason) and one when it comes back (how long it was down, how many
/// events waited), beside the rate-limited per-failure warnings. A success
/// while all is well costs one relaxed load, not the lock: that is nearly
/// every response.
final class EndpointMonitor: @unchecked Sendable {
    private var url: String
    private let log: Log
    private let lock = Lock()
    private var health = EndpointHealth()
    /// `health.state == .up`, readable without the lock.
    private let allWell = Atomic<Bool>(true)
    /// Times it went down since start (a counter in the metrics).
    private let outages = Atomic<UInt64>(0)
    /// `health.state == .disabled` (410 Gone), readable without the lock:
    /// every request looks.
    private let disabled = Atomic<Bool>(false)
    /// Times a 410 disabled it since start (a counter in the metrics).
    private let disables = Atomic<UInt64>(0)

    init(url: String, log: Log) {
        self.url = url
        self.log = log
    }

    /// An attempt failed: no connection, no response, or a status that is
    /// retried (5xx, 408, 429).
    func attemptFailed(reason: @autoclosure () -> String) {
        let now = Clock.monotonicNanoseconds()
        let (change, url) = lock.withLock { () -> (EndpointHealth.Change?, String) in
            let change = health.attemptFailed(reason: reason(), nowNs: now)
            allWell.store(false, ordering: .relaxed)
            return (change, self.url)
        }
        if case .wentDown(let since, let first) = change {
            outages.add(1, ordering: .relaxed)
            log.log(.error, "\(url): down: \(EndpointHealth.downAfter) attempts in a row failed in \(Self.seconds(now &- since)); "
                + "the first: \(first); events wait in the queue (and the spool) within their bounds")
        }
    }

    /// The endpoint answered (a 2xx, or a 4xx it meant). `waiting` is read
    /// only when it comes back.
    func attemptAnswered(waiting: @autoclosure () -> UInt64) {
        if allWell.load(ordering: .relaxed) { return }
        let now = Clock.monotonicNanoseconds()
        let (change, url) = lock.withLock { () -> (EndpointHealth.Change?, String) in
            allWell.store(true, ordering: .relaxed)
            return (health.attemptAnswered(nowNs: now), self.url)
        }
        if case .cameBack(let downFor) = change {
            log.log(.info, "\(url): up again after \(Self.seconds(downFor)) down; \(waiting()) event(s) were waiting")
        }
    }

    /// The endpoint answered `410 Gone`: disabled until a reload or a
    /// restart, logged once.
    func gone() {
        let (first, url) = lock.withLock { () -> (Bool, String) in
            let first = health.gone()
            disabled.store(true, ordering: .relaxed)
            allWell.store(false, ordering: .relaxed)
            return (first, self.url)
        }
        guard first else { return }
        disables.add(1, ordering: .relaxed)
        log.log(.error, "\(url): answered 410 Gone: disabled, no request goes to it until a reload or a restart; "
            + "its events fail (kept as dead letters when the spool keeps them)")
    }

    /// Whether a 410 disabled it: connections fail their events without a request.
    var isDisabled: Bool { disabled.load(ordering: .relaxed) }

    /// A reload: a disabled endpoint is enabled again (the operator has
    /// seen to it); one moved to another URL starts afresh (up). The
    /// counts go on.
    func retarget(url: String) {
        let reenabled = lock.withLock { () -> Bool in
            let wasDisabled = health.state == .disabled
            if url != self.url || wasDisabled {
                self.url = url
                health = EndpointHealth()
                allWell.store(true, ordering: .relaxed)
                disabled.store(false, ordering: .relaxed)
            }
            return wasDisabled
        }
        if reenabled { log.log(.info, "\(url): enabled again by a reload") }
    }

    /// The state now, how many times it went down, how many times a 410 disabled it.
    func snapshot() -> (state: EndpointHealth.State, outages: UInt64, disables: UInt64) {
        (lock.withLock { health.state }, outages.load(ordering: .relaxed), disables.load(ordering: .relaxed))
    }

    /// "12.3 s", "4 min 5 s": a duration for a log line (no floating-point
    /// printing: Embedded Swift has none).
    static func seconds(_ ns: UInt64) -> String {
        let tenths = ns / 100_000_000
        if tenths < 600 { return "\(tenths / 10).\(tenths % 10) s" }
        let s = tenths / 10
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
