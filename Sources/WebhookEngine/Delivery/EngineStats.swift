import WebhookCore

/// Counters since the engine started, read without stopping delivery.
/// At any quiet moment:
/// `matched + spoolReplayed == delivered + failed + dropped + queued + inFlight + spooled`.
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
    /// Spool on: events the spool holds and memory does not (staged for
    /// the disk, or on it).
    public var spooled: UInt64 = 0
    /// Events found in the spool at start: an earlier run's, not `matched` in this one.
    public var spoolReplayed: UInt64 = 0
    /// Dropped because the spool was full (`spool.max_bytes`, a full disk)
    /// or could not keep up (its staging was full).
    public var droppedSpool: UInt64 = 0
    /// Events committed to the spool since start: with `durability = crash`,
    /// the events that survive a `kill -9` of the broker.
    public var spoolWritten: UInt64 = 0
    /// Rows in the spool's database now (events on disk, including those
    /// also in memory with `durability = crash`), and the file's size.
    public var spoolRows: UInt64 = 0
    public var spoolBytes: UInt64 = 0
    /// Emit-to-2xx latency percentiles, microseconds.
    public var latencyP50Us: UInt64 = 0
    public var latencyP99Us: UInt64 = 0
    /// Per event type: matched, delivered (2xx) and failed (the metrics
    /// text's labels). Their totals are `matched`, `delivered`, `failed`,
    /// except that `matched` does not count an earlier run's events.
    var matchedByKind = PerKindCounts()
    var deliveredByKind = PerKindCounts()
    var failedByKind = PerKindCounts()
    /// Emit-to-2xx latencies in the metrics histogram's buckets (a snapshot's).
    var latency = LatencyBuckets()
    /// Monotonic time of the last 2xx; 0: none yet.
    var lastDeliveredAtNs: UInt64 = 0
    /// Monotonic time the oldest event in memory was accepted; 0: none
    /// waiting (a snapshot's).
    var oldestQueuedAtNs: UInt64 = 0
    /// The time (wall clock, ms) of the oldest event on disk and not in
    /// memory; 0: none. The spool thread's, refreshed every cycle.
    var spoolOldestTimestampMs: UInt64 = 0
    /// Dead letters in the spool now, and dropped past `spool.dead_letters`
    /// or `spool.dead_letter_max_age` (or when they could not be written).
    public var deadLetters: UInt64 = 0
    public var deadLettersDropped: UInt64 = 0
    /// The endpoints (an endpoint's own stats say 1), and how many of them
    /// are down or disabled, have their circuit open (or half open), or
    /// send to their `backup_url` now; times a circuit opened, and times
    /// delivery failed over or back.
    public var endpoints: UInt64 = 0
    public var endpointsDown: UInt64 = 0
    public var circuitsOpen: UInt64 = 0
    public var circuitOpened: UInt64 = 0
    public var onBackup: UInt64 = 0
    public var failovers: UInt64 = 0

    public init() {}

    public var dropped: UInt64 { droppedQueueFull + droppedShutdown + droppedSpool }

    /// Events not finished yet: in memory, in flight, or in the spool.
    public var waiting: UInt64 { queued + inFlight + spooled }

    /// Adds another set of counters (a lane's into the engine's); the
    /// latency percentiles and histogram are not summed.
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
        spooled += other.spooled
        spoolReplayed += other.spoolReplayed
        droppedSpool += other.droppedSpool
        spoolWritten += other.spoolWritten
        spoolRows += other.spoolRows
        spoolBytes += other.spoolBytes
        deadLetters += other.deadLetters
        deadLettersDropped += other.deadLettersDropped
        endpoints += other.endpoints
        endpointsDown += other.endpointsDown
        circuitsOpen += other.circuitsOpen
        circuitOpened += other.circuitOpened
        onBackup += other.onBackup
        failovers += other.failovers
        matchedByKind.add(other.matchedByKind)
        deliveredByKind.add(other.deliveredByKind)
        failedByKind.add(other.failedByKind)
        lastDeliveredAtNs = max(lastDeliveredAtNs, other.lastDeliveredAtNs)
    }

    /// Adds an endpoint's counters into the engine's (the C ABI's stats):
    /// what `add` sums, the latency histogram and the oldest waiting
    /// event; the percentiles are the slowest endpoint's.
    mutating func addEndpoint(_ other: EngineStats) {
        add(other)
        latency.add(other.latency)
        // The slowest endpoint's percentiles: the broker's one number says how late delivery runs.
        latencyP50Us = max(latencyP50Us, other.latencyP50Us)
        latencyP99Us = max(latencyP99Us, other.latencyP99Us)
        if other.oldestQueuedAtNs != 0 { oldestQueuedAtNs = oldestQueuedAtNs == 0 ? other.oldestQueuedAtNs : min(oldestQueuedAtNs, other.oldestQueuedAtNs) }
        if other.spoolOldestTimestampMs != 0 {
            spoolOldestTimestampMs = spoolOldestTimestampMs == 0 ? other.spoolOldestTimestampMs : min(spoolOldestTimestampMs, other.spoolOldestTimestampMs)
        }
    }

    /// The accounting identity every test checks. (`spoolReplayed`: events
    /// an earlier run accepted, which this one delivers.)
    public var isBalanced: Bool {
        matched + spoolReplayed == delivered + failed + dropped + queued + inFlight + spooled
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
