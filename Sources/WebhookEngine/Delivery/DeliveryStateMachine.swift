import CNng
import WebhookCore

/// The rules for delivering one event on one connection, as a plain value:
/// `Connection` feeds it what nng reported and does what it answers. It
/// does no I/O and reads no clock or random source (times and a random
/// number for the jitter come in as arguments), so every rule below is
/// unit-tested without a socket or a wait (`DeliveryStateMachineTests`).
///
///     idle ──begin──▶ connecting ──connected──▶ exchanging ──2xx──▶ idle (delivered)
///                        │  ▲                      │   │
///                        │  └──── stale reuse ─────┘   └──4xx──▶ idle (failed)
///                        ▼                             ▼
///                     backingOff ◀───── 5xx, 408, 429, errors (retry allowed)
///                        │
///                        └──slept──▶ connecting or exchanging (next attempt)
///
/// The rules:
/// - An attempt is one try of the request, from connect (if no connection
///   is open) to the answer. It must end within `cancel_timeout`
///   (`attemptDeadlineNs`; the watchdog enforces it for connects).
/// - 2xx delivers. 408, 429 and 5xx and every transport failure are retried
///   while `retry` allows; any other status fails the event at once.
/// - A failure to write or read on a kept-alive connection that has already
///   carried a request, with "closed" or "reset", most likely means the
///   server closed it while it sat idle: the request is sent again at once
///   on a new connection without spending an attempt, once per event.
/// - The wait before a retry is `Retry-After` (429 and 503, capped by
///   `retry.max_retry_after`), else exponential backoff with equal jitter.
/// - `retry.max_elapsed` counts from the event's first attempt and includes
///   the wait that a retry would add.
struct DeliveryStateMachine {
    enum State: Equatable {
        /// No event in hand.
        case idle
        /// Opening a connection for the current attempt.
        case connecting
        /// Writing the request and reading the answer.
        case exchanging
        /// Waiting before the next attempt.
        case backingOff
    }

    /// Why an attempt failed.
    enum Failure: Equatable {
        /// The connect failed with this nng code.
        case connect(Int32)
        /// The watchdog cancelled a connect that passed its deadline.
        case connectTimedOut
        /// Writing the request or reading the answer failed with this nng code.
        case transport(Int32)
        /// The endpoint answered with a status that is retried.
        case status(Int)
        /// The endpoint sent only interim (1xx) responses.
        case interimOnly(Int)
    }

    /// What the connection does next.
    enum Action: Equatable {
        /// Open a connection, then report `connected` or `failed`.
        case connect
        /// Send the request on the open connection, then report `answered` or `failed`.
        case send
        /// Sleep `ms`, then report `backoffSlept` (count a retry).
        case retry(afterMs: Int, because: Failure)
        /// Open a new connection now, without spending an attempt (count a retry).
        case reconnect(because: Failure)
        /// The event is delivered.
        case delivered
        /// The endpoint refused the event with a status that is not retried.
        case rejected(status: Int)
        /// `retry` allows no more attempts.
        case gaveUp(because: Failure, attempts: Int, elapsedMs: Int)
        /// Shutdown took the event from the connection.
        case droppedAtShutdown
    }

    let retry: RetryPolicy
    let attemptTimeoutNs: UInt64

    private(set) var state = State.idle
    /// Attempts of the current event so far, the current one included.
    private(set) var attempt = 0
    /// When the current attempt must end.
    private(set) var attemptDeadlineNs: UInt64 = 0
    /// The last status the endpoint answered for the current event.
    private(set) var lastStatus: Int?
    /// The last failure of the current event, if any.
    private(set) var lastFailure: Failure?
    private var firstAttemptNs: UInt64 = 0
    private var staleRetryUsed = false

    init(retry: RetryPolicy, attemptTimeoutMs: Int) {
        self.retry = retry
        attemptTimeoutNs = UInt64(max(0, attemptTimeoutMs)) * 1_000_000
    }

    /// A new event; `connectionOpen` says whether a kept-alive connection waits.
    mutating func begin(nowNs: UInt64, connectionOpen: Bool) -> Action {
        assert(state == .idle, "begin while \(state)")
        attempt = 0
        firstAttemptNs = nowNs
        staleRetryUsed = false
        lastStatus = nil
        lastFailure = nil
        return startAttempt(nowNs: nowNs, connectionOpen: connectionOpen)
    }

    mutating func connected() -> Action {
        assert(state == .connecting, "connected while \(state)")
        state = .exchanging
        return .send
    }

    /// The attempt failed before an answer. `onReusedConnection`: the
    /// connection had carried a request before this one.
    mutating func failed(_ failure: Failure, onReusedConnection: Bool, nowNs: UInt64, jitter: UInt64) -> Action {
        assert(state == .connecting || state == .exchanging, "failed while \(state)")
        lastFailure = failure
        if case .transport(let code) = failure, onReusedConnection, !staleRetryUsed, Self.isClosedByPeer(code) {
            staleRetryUsed = true
            state = .connecting
            attemptDeadlineNs = nowNs + attemptTimeoutNs
            return .reconnect(because: failure)
        }
        return retryOrGiveUp(failure, delayMs: nil, nowNs: nowNs, jitter: jitter)
    }

    /// The endpoint answered with `status` (not 1xx); `retryAfterSeconds` is
    /// its `Retry-After` header, when it sent a number of seconds. `jitter`
    /// is any random number (it picks the backoff within its step).
    mutating func answered(status: Int, retryAfterSeconds: Int?, nowNs: UInt64, jitter: UInt64) -> Action {
        assert(state == .exchanging, "answered while \(state)")
        lastStatus = status
        lastFailure = nil
        switch Self.verdict(status) {
        case .delivered:
            state = .idle
            return .delivered
        case .retry:
            let honoured = status == 429 || status == 503 ? retryAfterSeconds.map { retry.retryAfterDelayMs(seconds: $0) } : nil
            return retryOrGiveUp(.status(status), delayMs: honoured, nowNs: nowNs, jitter: jitter)
        case .rejected:
            state = .idle
            return .rejected(status: status)
        }
    }

    /// What an answer's status means for its event: a 2xx delivers it; a
    /// timeout, a throttle or a server error is retried; anything else (a
    /// 3xx, a 4xx) is the endpoint refusing it for good.
    enum Verdict { case delivered, retry, rejected }

    static func verdict(_ status: Int) -> Verdict {
        switch status {
        case 200..<300: .delivered
        case 408, 429, 500..<600: .retry
        default: .rejected
        }
    }

    mutating func backoffSlept(nowNs: UInt64, connectionOpen: Bool) -> Action {
        assert(state == .backingOff, "backoffSlept while \(state)")
        return startAttempt(nowNs: nowNs, connectionOpen: connectionOpen)
    }

    /// Shutdown: the event in hand, if any, is dropped.
    mutating func stop() -> Action? {
        defer { state = .idle }
        return state == .idle ? nil : .droppedAtShutdown
    }

    // MARK: Rules

    private mutating func startAttempt(nowNs: UInt64, connectionOpen: Bool) -> Action {
        attempt += 1
        attemptDeadlineNs = nowNs + attemptTimeoutNs
        state = connectionOpen ? .exchanging : .connecting
        return connectionOpen ? .send : .connect
    }

    private mutating func retryOrGiveUp(_ failure: Failure, delayMs: Int?, nowNs: UInt64, jitter: UInt64) -> Action {
        let delay = delayMs ?? backoffMs(afterAttempt: attempt, jitter: jitter)
        let elapsedMs = Int((nowNs &- firstAttemptNs) / 1_000_000)
        guard retry.allowsRetry(afterAttempts: attempt, elapsedMs: elapsedMs + delay) else {
            state = .idle
            return .gaveUp(because: failure, attempts: attempt, elapsedMs: elapsedMs)
        }
        state = .backingOff
        return .retry(afterMs: delay, because: failure)
    }

    /// Exponential backoff with equal jitter: half the step fixed, half
    /// random, so a fleet of brokers does not retry in lockstep.
    private func backoffMs(afterAttempt attempt: Int, jitter: UInt64) -> Int {
        let exponent = min(max(attempt - 1, 0), 30)
        let step = min(retry.maxBackoffMs, retry.initialBackoffMs << exponent)
        let spread = UInt64(max(0, step - step / 2)) + 1
        return step / 2 + Int(jitter % spread)
    }

    /// nng's codes for a connection the other side closed or reset.
    static func isClosedByPeer(_ code: Int32) -> Bool {
        code == Int32(NNG_ECLOSED.rawValue) || code == Int32(NNG_ECONNRESET.rawValue) || code == Int32(NNG_ECONNSHUT.rawValue)
    }
}
