/// Failover to `backup_url` as a plain value (no clock, no I/O:
/// `FailoverTests`): which URL an attempt goes to.
///
/// - on the primary: every attempt goes to `url`. When its circuit breaker
///   would open, `CircuitGate` switches to the backup instead;
/// - on the backup: every attempt goes to `backup_url`, except one probe of
///   the primary at growing intervals (the retry backoff's, from
///   `initial_backoff` doubling to `max_backoff`). The probe is a real
///   attempt of a real event: answered, everything goes back to the
///   primary; failed, that event is retried (on the backup) like any other.
///
/// Each connection moves to the target at its next attempt, never in the
/// middle of one, and a lane has one connection with `per_client`: one
/// client's events keep their order across the switch and back.
struct Failover: Equatable {
    enum Target: Equatable { case primary, backup }

    var initialIntervalNs: UInt64
    var maxIntervalNs: UInt64
    private(set) var target = Target.primary
    /// Times it switched, either way (a counter in the metrics).
    private(set) var switches: UInt64 = 0
    private var intervalNs: UInt64 = 0
    /// On the backup: when the next probe of the primary may go.
    private var nextProbeNs: UInt64 = 0
    /// When the probe out went; 0: none out.
    private var probeSentNs: UInt64 = 0

    init(initialIntervalMs: Int, maxIntervalMs: Int) {
        initialIntervalNs = UInt64(max(1, initialIntervalMs)) * 1_000_000
        maxIntervalNs = UInt64(max(1, maxIntervalMs)) * 1_000_000
    }

    /// The primary is down (its breaker opened): go to the backup; the
    /// first probe of the primary after `initial_backoff`.
    mutating func primaryWentDown(nowNs: UInt64) {
        guard target == .primary else { return }
        target = .backup
        switches += 1
        intervalNs = initialIntervalNs
        nextProbeNs = nowNs + intervalNs
        probeSentNs = 0
    }

    /// Where an attempt starting now goes. On the backup, the primary when
    /// a probe is due (and none is out, or the one out was lost: no outcome
    /// within `probeLostAfterNs`).
    mutating func targetForAttempt(nowNs: UInt64, probeLostAfterNs: UInt64) -> Target {
        guard target == .backup, nowNs >= nextProbeNs else { return target }
        if probeSentNs != 0 && nowNs < probeSentNs &+ probeLostAfterNs { return .backup }
        probeSentNs = nowNs
        return .primary
    }

    /// The primary answered (a probe, or an attempt begun before the
    /// switch): back to it. True when that switched.
    mutating func primaryAnswered() -> Bool {
        guard target == .backup else { return false }
        target = .primary
        switches += 1
        probeSentNs = 0
        return true
    }

    /// An attempt to the primary failed while on the backup: the next probe
    /// waits twice as long.
    mutating func primaryFailed(nowNs: UInt64) {
        guard target == .backup, probeSentNs != 0 else { return }
        probeSentNs = 0
        intervalNs = min(intervalNs * 2, maxIntervalNs)
        nextProbeNs = nowNs + intervalNs
    }

    /// A reload took the backup away: back to the primary.
    mutating func backupRemoved() {
        if target == .backup {
            target = .primary
            probeSentNs = 0
        }
    }
}
