/// The circuit breaker as a plain value (no clock, no I/O:
/// `CircuitBreakerTests`): whether an attempt may go to the endpoint now.
///
/// - closed: every attempt goes. `threshold` failed attempts in a row (any
///   connection's: no connection, no response, a 5xx, 408 or 429) open it;
/// - open: no attempt goes (connections wait with their events in hand,
///   spending no attempt; what is queued stays in the queue or the spool)
///   until the probe time;
/// - half open: one attempt, the probe, is out. An answer (a 2xx, or a 4xx
///   the endpoint meant) closes the circuit; a failure opens it again for
///   twice as long, from the retry's `initial_backoff` up to `max_backoff`:
///   the cadence one connection's retries have, so recovery is no slower
///   than without the breaker, while a pool of 32 makes one attempt per
///   interval instead of 32. Anchor: Convoy's breaker.
struct CircuitBreaker: Equatable {
    enum State: Equatable { case closed, open, halfOpen }

    enum Decision: Equatable {
        case go
        /// Go: this attempt is the probe.
        case probe
        /// Ask again then (monotonic ns).
        case wait(untilNs: UInt64)
    }

    /// Failed attempts in a row that open it; 0: never opens.
    var threshold: Int
    var initialIntervalNs: UInt64
    var maxIntervalNs: UInt64
    private(set) var state = State.closed
    private var failuresInARow = 0
    /// How long it stays open this time (doubles per failed probe).
    private var intervalNs: UInt64 = 0
    /// Open: when the probe may go. Half open: when the probe went.
    private var markNs: UInt64 = 0
    /// Times it opened (a counter in the metrics).
    private(set) var opened: UInt64 = 0

    init(threshold: Int, initialIntervalMs: Int, maxIntervalMs: Int) {
        self.threshold = threshold
        initialIntervalNs = UInt64(max(1, initialIntervalMs)) * 1_000_000
        maxIntervalNs = UInt64(max(1, maxIntervalMs)) * 1_000_000
    }

    /// May an attempt go now? A probe that has not reported within
    /// `probeLostAfterNs` (its connection stopped, or a rate limit held it)
    /// is given up on, and another may go.
    mutating func mayAttempt(nowNs: UInt64, probeLostAfterNs: UInt64) -> Decision {
        switch state {
        case .closed:
            return .go
        case .open where nowNs >= markNs, .halfOpen where nowNs >= markNs &+ probeLostAfterNs:
            state = .halfOpen
            markNs = nowNs
            return .probe
        case .open:
            return .wait(untilNs: markNs)
        case .halfOpen:
            return .wait(untilNs: nowNs + intervalNs)
        }
    }

    /// An attempt failed; true when that opened the circuit (closed before).
    mutating func attemptFailed(nowNs: UInt64) -> Bool {
        switch state {
        case .closed:
            failuresInARow += 1
            guard threshold > 0, failuresInARow >= threshold else { return false }
            intervalNs = initialIntervalNs
            open(nowNs)
            opened += 1
            return true
        case .halfOpen:
            intervalNs = min(intervalNs * 2, maxIntervalNs)
            open(nowNs)
            return false
        case .open:
            return false  // an attempt begun before it opened
        }
    }

    /// The endpoint answered; true when that closed the circuit.
    mutating func attemptAnswered() -> Bool {
        failuresInARow = 0
        defer { state = .closed }
        return state != .closed
    }

    /// Closed, counting from nothing (a failover to another URL); `opened` stays.
    mutating func reset() {
        state = .closed
        failuresInARow = 0
    }

    private mutating func open(_ nowNs: UInt64) {
        state = .open
        markNs = nowNs + intervalNs
    }
}
