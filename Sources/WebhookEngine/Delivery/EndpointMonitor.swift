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

    /// A reload moved to another URL: its health starts afresh (up); the
    /// outage count goes on.
    func retarget(url: String) {
        lock.withLock {
            if url != self.url {
                self.url = url
                health = EndpointHealth()
                allWell.store(true, ordering: .relaxed)
            }
        }
    }

    /// The state now, and how many times it went down.
    func snapshot() -> (state: EndpointHealth.State, outages: UInt64) {
        (lock.withLock { health.state }, outages.load(ordering: .relaxed))
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
