/// Whether the endpoint answers, from the attempts of every connection: a
/// plain value, no I/O (EndpointMonitor holds it, logs and counts).
///
/// - up: the last attempt got an answer (a 2xx, or a 4xx the endpoint meant);
/// - retrying: the last attempts failed (no connection, no response, a 5xx,
///   408, 429), fewer than `downAfter` of them in a row;
/// - down: `downAfter` or more failed in a row. It is up again at the next
///   answer;
/// - disabled: it answered `410 Gone`, which Standard Webhooks defines as
///   "stop sending": no request goes to it until a reload or a restart,
///   whatever else happens.
struct EndpointHealth: Equatable {
    enum State: Equatable {
        case up, retrying, down, disabled
    }

    /// Failed attempts in a row that make the endpoint down: one failure is
    /// a blip a retry absorbs; three, across the backoff, is an outage.
    static let downAfter = 3

    private(set) var state = State.up
    private(set) var failuresInARow = 0
    /// When the failures in a row began (monotonic ns), and the first one's reason.
    private(set) var failingSinceNs: UInt64 = 0
    private(set) var firstFailure = ""

    /// What an attempt changed, for the log.
    enum Change: Equatable {
        /// Down now: since when, and why the first attempt of the run failed.
        case wentDown(sinceNs: UInt64, firstFailure: String)
        /// Answering again after being down for `downForNs`.
        case cameBack(downForNs: UInt64)
    }

    mutating func attemptFailed(reason: String, nowNs: UInt64) -> Change? {
        if state == .disabled { return nil }
        if failuresInARow == 0 {
            failingSinceNs = nowNs
            firstFailure = reason
        }
        failuresInARow += 1
        guard failuresInARow >= Self.downAfter else {
            state = .retrying
            return nil
        }
        defer { state = .down }
        return state == .down ? nil : .wentDown(sinceNs: failingSinceNs, firstFailure: firstFailure)
    }

    mutating func attemptAnswered(nowNs: UInt64) -> Change? {
        if state == .disabled { return nil }
        defer {
            state = .up
            failuresInARow = 0
        }
        return state == .down ? .cameBack(downForNs: nowNs &- failingSinceNs) : nil
    }

    /// It answered `410 Gone`; true the first time (the one log line).
    mutating func gone() -> Bool {
        defer { state = .disabled }
        return state != .disabled
    }
}
