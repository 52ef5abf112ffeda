import Synchronization
import WebhookCore

/// The wall time of a monotonic reading, so `webhook_emit` reads one clock,
/// not two (each vDSO read is about 30 ns on the machines we measure).
///
/// It keeps the offset between the two clocks and the engine's watchdog
/// refreshes it every tick (at most 100 ms), so a step of the wall clock
/// (NTP, an operator) reaches the bodies' `ts` within one tick.
final class WallClock: Sendable {
    /// Wall milliseconds minus monotonic milliseconds.
    private let offsetMs = Atomic<UInt64>(0)

    init() {
        refresh()
    }

    func refresh() {
        let monotonicMs = Clock.monotonicNanoseconds() / 1_000_000
        offsetMs.store(Clock.wallMilliseconds() &- monotonicMs, ordering: .relaxed)
    }

    @inline(__always)
    func milliseconds(monotonicNs: UInt64) -> UInt64 {
        monotonicNs / 1_000_000 &+ offsetMs.load(ordering: .relaxed)
    }
}
