import WebhookCore

/// Counters since the engine started, read without stopping delivery.
/// At any quiet moment:
/// `matched == delivered + failed + droppedQueueFull + droppedShutdown + queued + inFlight`.
public struct EngineStats: Equatable, Sendable {
    /// Events that passed the filter.
    public var matched: UInt64 = 0
    /// Waiting in the queue now.
    public var queued: UInt64 = 0
    /// Taken by a connection and not finished (sending, or waiting to retry).
    public var inFlight: UInt64 = 0
    /// Answered with a 2xx.
    public var delivered: UInt64 = 0
    /// Given up on: a 4xx that is not retried, or every attempt used.
    public var failed: UInt64 = 0
    /// Attempts beyond the first.
    public var retried: UInt64 = 0
    /// Dropped because `queue.max_events` or `queue.max_bytes` was reached.
    public var droppedQueueFull: UInt64 = 0
    /// Dropped because shutdown's drain time ran out.
    public var droppedShutdown: UInt64 = 0
    /// HTTP connections open now.
    public var connectionsOpen: UInt64 = 0
    /// HTTP connections opened since start (reconnects included).
    public var connectionsOpened: UInt64 = 0
    /// Bytes held by queued events now.
    public var queuedBytes: UInt64 = 0
    /// Emit-to-2xx latency percentiles, microseconds.
    public var latencyP50Us: UInt64 = 0
    public var latencyP99Us: UInt64 = 0

    public init() {}

    public var dropped: UInt64 { droppedQueueFull + droppedShutdown }

    /// Adds another set of counters (a lane's into the engine's); the
    /// latency percentiles are not summed.
    mutating func add(_ other: EngineStats) {
        matched += other.matched
        queued += other.queued
        inFlight += other.inFlight
        delivered += other.delivered
        failed += other.failed
        retried += other.retried
        droppedQueueFull += other.droppedQueueFull
        droppedShutdown += other.droppedShutdown
        connectionsOpen += other.connectionsOpen
        connectionsOpened += other.connectionsOpened
        queuedBytes += other.queuedBytes
    }

    /// The accounting identity every test checks.
    public var isBalanced: Bool {
        matched == delivered + failed + dropped + queued + inFlight
    }
}

/// What became of one event, for tools that want to watch deliveries
/// (the operator CLI's `send`). Reported on nng's threads.
public struct DeliveryReport: Sendable {
    public enum Outcome: Sendable { case delivered, failed, droppedAtShutdown }
    public var kind: EventKind
    public var outcome: Outcome
    /// The last HTTP status received, if any response came.
    public var httpStatus: Int?
    /// The last transport error, if the last attempt had no response.
    public var error: String?
    public var attempts: Int
    /// From `submit` to the outcome.
    public var latencyNs: UInt64
}

public typealias DeliveryObserver = @Sendable (DeliveryReport) -> Void
