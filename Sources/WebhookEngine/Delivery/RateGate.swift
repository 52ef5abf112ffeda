import Synchronization
import WebhookCore

/// The endpoint's `rate_limit`, shared by its connections: each asks before
/// an attempt (a new request, or a retry after its backoff) and, when told
/// to wait, waits on its own timer slot with its events in hand: nothing is
/// dropped for the limit, and the queue's bounds hold what waits behind.
final class RateGate: @unchecked Sendable {
    private let lock = Lock()
    private var window: RateWindow
    /// Whether any limit is set: read without the lock (most configs have none).
    private let isOn: Atomic<Bool>

    init(_ settings: RateLimitSettings) {
        window = RateWindow(settings)
        isOn = Atomic(settings.isOn)
    }

    /// nil: go (counted); otherwise wait this long and ask again.
    func acquire(events: Int, bytes: Int) -> UInt64? {
        guard isOn.load(ordering: .relaxed) else { return nil }
        let now = Clock.monotonicNanoseconds()
        return lock.withLock { window.acquire(events: events, bytes: bytes, nowNs: now) }
    }

    /// A reload's limits, from now on; what was sent in the last second still counts.
    func apply(_ settings: RateLimitSettings) {
        lock.withLock {
            window.eventsPerSecond = settings.eventsPerSecond
            window.bytesPerSecond = settings.bytesPerSecond
            isOn.store(settings.isOn, ordering: .relaxed)
        }
    }
}
