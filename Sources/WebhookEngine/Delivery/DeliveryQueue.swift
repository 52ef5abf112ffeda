import WebhookCore

/// An accepted event waiting for, or being, delivered.
struct QueuedEvent {
    var event: Event
    /// Order of acceptance, to find the oldest event for `drop_old`.
    let sequence: UInt64
    /// Monotonic time of `submit`, for emit-to-2xx latency.
    let acceptedAtNs: UInt64
    /// Bytes charged against `queue.max_bytes`.
    let bytes: Int
}

/// What became of an event a connection took.
enum DeliveryOutcome {
    case delivered
    case failed
    case droppedAtShutdown
}

/// The bounded queue between the broker's threads and the connections,
/// and every counter. One lock guards it all; it is held only for O(1)
/// list and counter updates, never across I/O, so `submit` on the broker's
/// thread cannot wait behind the network.
///
/// Lanes give `ordering`: with `per_client` there is one lane per
/// connection and a client id always hashes to the same one, so its events
/// go out one at a time, in order, and a retry holds its lane. With `none`
/// there is one lane that every connection serves.
final class DeliveryQueue: @unchecked Sendable {
    struct Lane {
        var events = RingBuffer<QueuedEvent>()
        /// Connections with nothing to do, waiting for this lane.
        var idle: [Connection] = []
    }

    let lock = Lock()
    private var lanes: [Lane]
    private let limits: QueueLimits
    private var stats = EngineStats()
    private var histogram = LatencyHistogram()
    private var nextSequence: UInt64 = 0
    /// No new events (shutdown began).
    private(set) var closed = false
    /// Connections must stop taking work (drain time is over).
    private var stopping = false

    init(laneCount: Int, limits: QueueLimits) {
        self.laneCount = max(1, laneCount)
        lanes = (0..<self.laneCount).map { _ in Lane() }
        self.limits = limits
    }

    /// Fixed at init and read without the lock (`lanes` itself is only
    /// touched under it: ThreadSanitizer caught an unlocked `lanes.count`).
    let laneCount: Int

    enum SubmitResult {
        case queued(wake: Connection?)
        case dropped
        case shuttingDown
    }

    /// Called on the broker's thread.
    func submit(_ event: __owned Event, lane: Int, nowNs: UInt64) -> SubmitResult {
        let bytes = event.byteCount
        return lock.withLock {
            if closed { return .shuttingDown }
            stats.matched += 1
            while stats.queued >= UInt64(limits.maxEvents) || stats.queuedBytes + UInt64(bytes) > UInt64(limits.maxBytes) {
                if limits.overflow == .dropNew || !dropOldest() {
                    stats.droppedQueueFull += 1
                    return .dropped
                }
            }
            let queuedEvent = QueuedEvent(event: event, sequence: nextSequence, acceptedAtNs: nowNs, bytes: bytes)
            nextSequence += 1
            lanes[lane].events.append(queuedEvent)
            stats.queued += 1
            stats.queuedBytes += UInt64(bytes)
            return .queued(wake: lanes[lane].idle.popLast())
        }
    }

    /// `drop_old`: the oldest queued event of any lane goes.
    private func dropOldest() -> Bool {
        var oldest: Int?
        for i in lanes.indices {
            guard let head = lanes[i].events.first else { continue }
            if oldest == nil || head.sequence < lanes[oldest!].events.first!.sequence { oldest = i }
        }
        guard let lane = oldest, let victim = lanes[lane].events.popFirst() else { return false }
        stats.queued -= 1
        stats.queuedBytes -= UInt64(victim.bytes)
        stats.droppedQueueFull += 1
        return true
    }

    /// The next event for a connection, or nil (then it is parked as idle
    /// on its lane until `submit` wakes it).
    func take(lane: Int, for connection: Connection) -> QueuedEvent? {
        lock.withLock { takeLocked(lane: lane, for: connection) }
    }

    /// Records what became of an event and hands over the next one.
    func complete(_ finished: QueuedEvent, _ outcome: DeliveryOutcome, lane: Int, for connection: Connection, takeNext: Bool) -> QueuedEvent? {
        let now = Clock.monotonicNanoseconds()
        return lock.withLock {
            stats.inFlight -= 1
            switch outcome {
            case .delivered:
                stats.delivered += 1
                histogram.record(microseconds: (now &- finished.acceptedAtNs) / 1000)
            case .failed:
                stats.failed += 1
            case .droppedAtShutdown:
                stats.droppedShutdown += 1
            }
            if closed { lock.broadcast() }  // a drain may be waiting for this
            return takeNext ? takeLocked(lane: lane, for: connection) : nil
        }
    }

    private func takeLocked(lane: Int, for connection: Connection) -> QueuedEvent? {
        if stopping { return nil }
        if let next = lanes[lane].events.popFirst() {
            stats.queued -= 1
            stats.queuedBytes -= UInt64(next.bytes)
            stats.inFlight += 1
            return next
        }
        if !lanes[lane].idle.contains(where: { $0 === connection }) {
            lanes[lane].idle.append(connection)
        }
        if closed { lock.broadcast() }
        return nil
    }

    func countRetry() {
        lock.withLock { stats.retried += 1 }
    }

    func connectionOpened() {
        lock.withLock {
            stats.connectionsOpen += 1
            stats.connectionsOpened += 1
        }
    }

    func connectionClosed() {
        lock.withLock { stats.connectionsOpen -= 1 }
    }

    var isStopping: Bool { lock.withLock { stopping } }

    /// The counters now. Percentiles are computed after the lock is
    /// released, so reading stats does not hold up delivery.
    func snapshot() -> EngineStats {
        var (copy, latencies) = lock.withLock { (stats, histogram) }
        copy.latencyP50Us = latencies.percentile(0.50)
        copy.latencyP99Us = latencies.percentile(0.99)
        return copy
    }

    // MARK: Shutdown

    /// Refuses new events from now on.
    func close() {
        lock.withLock { closed = true }
    }

    /// Waits until everything queued is delivered (or failed) or the
    /// deadline passes. Returns whether the queue drained.
    func waitUntilDrained(deadlineNs: UInt64) -> Bool {
        lock.withLock {
            lock.wait(untilNanoseconds: deadlineNs) { stats.queued > 0 || stats.inFlight > 0 }
            return stats.queued == 0 && stats.inFlight == 0
        }
    }

    /// Stops handing out work; what is still queued is counted as dropped.
    func stop() -> Int {
        lock.withLock {
            stopping = true
            var count = 0
            for i in lanes.indices {
                for event in lanes[i].events.removeAll() {
                    stats.queued -= 1
                    stats.queuedBytes -= UInt64(event.bytes)
                    stats.droppedShutdown += 1
                    count += 1
                }
                lanes[i].idle.removeAll()
            }
            return count
        }
    }
}
