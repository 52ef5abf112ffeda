import Synchronization
import WebhookCore

/// An event a connection took from the queue (queued events are
/// `EventRecord`s in their lane's `EventLog`).
struct QueuedEvent {
    var event: Event
    /// Monotonic time of `submit`: emit-to-2xx latency, and the age that
    /// `drop_old` compares across lanes.
    let acceptedAtNs: UInt64
    /// What its `webhook-id` is made of: kept with the event, so a retry,
    /// and a replay from the spool after a restart, send the same id.
    let id: EventID
    /// Its row in the spool, deleted once it is delivered; 0 = not on disk.
    var spoolRow: Int64 = 0
}

/// An event's identity: the tag of the engine that accepted it (random per
/// `webhook_init`), its lane there and its number in that lane.
struct EventID: Equatable {
    var tag: UInt64
    var lane: UInt32
    var sequence: UInt64
}

/// How many events a connection takes at once: a batch's (`batch { ... }`),
/// or with `pipeline` the requests it writes before reading their answers.
struct BatchLimits {
    var maxEvents = 1
    /// Queued (record) bytes; the first event is taken whatever its size.
    var maxBytes = Int.max
    /// How long the oldest event may wait for company; 0 = never waits.
    var maxDelayNs: UInt64 = 0

    init() {}

    init(_ settings: BatchSettings, pipeline: Int = 1) {
        maxEvents = settings.maxEvents
        maxBytes = settings.maxBytes
        maxDelayNs = UInt64(settings.maxDelayMs) * 1_000_000
        // Pipelined requests never wait for company: each goes as it is.
        if !settings.isOn, pipeline > 1 {
            maxEvents = pipeline
            maxBytes = Int.max
            maxDelayNs = 0
        }
    }
}

/// What parks on a lane with nothing to do (a `Connection`), and how it is
/// woken when events arrive.
protocol QueueWaiter: AnyObject {
    func wake()
}

/// How a lane hands events to the spool (`spool { ... }`; nil = memory only).
struct SpillLimits {
    /// Every event goes through the disk (`durability = crash | power`);
    /// otherwise only what the memory queue cannot hold (`clean`).
    var always = false
    /// What one lane may stage for the spool thread before events are
    /// dropped (the disk cannot keep up): the broker's thread never waits.
    var stagingBytesPerLane = 2 << 20
    /// Failed events go to the spool's dead letters (`spool.dead_letters` > 0).
    var keepsDeadLetters = false

    init(always: Bool, stagingBytesPerLane: Int) {
        self.always = always
        self.stagingBytesPerLane = stagingBytesPerLane
    }

    /// An engine's: 16 MB of staging in all, at least 256 KB per lane.
    init(durability: SpoolDurability, laneCount: Int, keepsDeadLetters: Bool = false) {
        self.keepsDeadLetters = keepsDeadLetters
        always = durability != .clean
        stagingBytesPerLane = max(256 << 10, (16 << 20) / max(1, laneCount))
    }
}

/// What a connection asking for work gets.
enum Take {
    /// Events of its lane, oldest first (one unless batching).
    case work([QueuedEvent])
    /// A batch is not full yet and its oldest event may still wait this
    /// long: ask again then (with `gathered: true`). Not parked meanwhile.
    case gather(afterNs: UInt64)
    /// Nothing: parked as idle on the lane (unless stopping) until `submit`
    /// wakes it.
    case nothing
}

/// Why events failed, for the spool's dead letters.
struct DeadLetterReason {
    /// "HTTP 404", "connect failed: ...".
    var reason: String
    /// The last HTTP status; 0: none.
    var status: Int
    var attempts: Int
}

/// Failed events waiting for the spool thread to keep them.
struct PendingDeadLetters {
    var events: [QueuedEvent]
    var why: DeadLetterReason
    /// Wall clock, ms.
    var failedAtMs: UInt64
}

/// What became of an event a connection took.
enum DeliveryOutcome {
    case delivered
    case failed
    case droppedAtShutdown
}

/// The bounded queue between the broker's threads and the connections, and
/// every counter.
///
/// Lanes give `ordering`: with `per_client` there is one lane per connection
/// and a client id always hashes to the same one, so its events go out one at
/// a time, in order, and a retry holds its lane. With `none` there is one
/// lane that every connection serves.
///
/// Each lane has its own lock, held only for O(1) list and counter updates,
/// never across I/O. A broker thread's `submit` takes the lock of one lane,
/// which only that lane's connections share, so it does not wait behind the
/// completions of the whole pool. The bounds (`queue.max_events`,
/// `queue.max_bytes`) span all lanes; they are two atomics, reserved before
/// an event is appended and released when a connection takes it.
///
/// `Waiter` is what parks on a lane when it has nothing to do (a
/// `Connection`; a plain object in the unit tests).
///
/// The spool's side of the queue (`SpoolQueue`) is in DeliveryQueue+Spool.swift;
/// what it shares with this file is internal, not private, for that reason.
final class DeliveryQueue<Waiter: QueueWaiter>: @unchecked Sendable {
    /// One lane: its events, its parked connections and its share of the
    /// counters, all behind its lock. A class, so each lock stays put.
    final class Lane {
        let lock = Lock()
        var events = EventLog()
        /// Connections with nothing to do, waiting for this lane.
        var idle: [Waiter] = []
        /// Connections waiting for a batch to fill (`Take.gather`): they
        /// take what arrives meanwhile, so a new event wakes no one else
        /// until a whole batch is waiting.
        var gathering = 0
        /// `batch { }`: each lane's copy, changed under its lock by `apply`.
        var batch = BatchLimits()
        /// This lane's counters; the engine's are their sum (see `snapshot`).
        var stats = EngineStats()
        var latencies = LatencyHistogram()
        /// The next event's number in this lane (its id's last part).
        var nextSequence: UInt64 = 0
        /// Spool on: events accepted while the lane spills, waiting for the
        /// spool thread to write them. While the spool holds any event of
        /// the lane (`stats.spooled > 0`), new ones follow it here, so none
        /// overtakes an older one of its client.
        /// Nil without a spool (a log holds a 64 KB block from the start).
        var staged: EventLog?
        var stagedBytes = 0
        /// Spool rows of events that are done (delivered or failed), for the
        /// spool thread to delete.
        var finishedRows: [Int64] = []
        /// Spool on, at shutdown: events taken by a connection and not
        /// delivered, oldest first, to be saved ahead of the lane's queue.
        var returned: [QueuedEvent] = []
        /// Spool on, with `spool.dead_letters`: failed events for the spool
        /// thread to keep (their rows are deleted in the same transaction).
        var deadLetters: [PendingDeadLetters] = []
    }

    let lanes: [Lane]
    /// `queue { }`: the bounds, read on every submit without a lock, and
    /// changed by a reload (`apply`).
    let maxEvents: Atomic<Int>
    private let maxBytes: Atomic<Int>
    private let dropsOld: Atomic<Bool>
    /// `batch.max_delay` (any lane's): whether a take reads the clock.
    private let batchDelayNs: Atomic<UInt64>
    private let spill: SpillLimits?
    /// Told (outside the lane's lock) when a connection finds its lane's
    /// memory empty while the spool holds some of its events.
    private let spoolSignal: SpoolSignal?
    /// Events and bytes queued or being appended, across lanes: the bounds.
    let reservedEvents = Atomic<Int>(0)
    private let reservedBytes = Atomic<Int>(0)
    /// Counted outside the lanes' locks, but only while holding one (so a
    /// snapshot, which holds them all, sees each drop with its event).
    private let droppedQueueFull = Atomic<UInt64>(0)
    /// No new events (shutdown began).
    private let closedFlag = Atomic<Bool>(false)
    /// Connections must stop taking work (drain time is over).
    private let stoppingFlag = Atomic<Bool>(false)
    /// Where `waitUntilDrained` sleeps; taken only once shutdown began.
    private let drainLock = Lock()

    /// Fixed at init.
    let laneCount: Int
    /// The first part of every event's id.
    let idTag: UInt64

    /// `spill` and `spoolSignal` with a spool, nil without.
    init(laneCount: Int, limits: QueueLimits, batch: BatchLimits = BatchLimits(), spill: SpillLimits? = nil,
         spoolSignal: SpoolSignal? = nil, idTag: UInt64 = 0) {
        self.idTag = idTag
        self.spoolSignal = spoolSignal
        self.laneCount = max(1, laneCount)
        lanes = (0..<self.laneCount).map { _ in
            let lane = Lane()
            if spill != nil { lane.staged = EventLog() }
            lane.batch = batch
            return lane
        }
        maxEvents = Atomic(limits.maxEvents)
        maxBytes = Atomic(limits.maxBytes)
        dropsOld = Atomic(limits.overflow == .dropOld)
        batchDelayNs = Atomic(batch.maxDelayNs)
        self.spill = spill
    }

    var closed: Bool { closedFlag.load(ordering: .acquiring) }
    var isStopping: Bool { stoppingFlag.load(ordering: .acquiring) }

    enum SubmitResult {
        case queued(wake: Waiter?)
        case dropped
        case shuttingDown
    }

    /// Called on the broker's thread: copies the event into its lane.
    func submit(_ event: RawEvent, timestampMs: UInt64, lane index: Int, nowNs: UInt64) -> SubmitResult {
        if closed { return .shuttingDown }
        let bytes = EventRecord.size(of: event)
        // Not retained: `lanes` never changes and lives as long as `self`
        // (a retain and release here were 5% of an emit).
        unowned(unsafe) let lane = lanes[index]
        if let spill {
            return submit(event, bytes: bytes, timestampMs: timestampMs, to: lane, index: index, spill: spill, nowNs: nowNs)
        }
        while !reserve(bytes) {
            if !dropsOld.load(ordering: .relaxed) || !dropOldest() {
                return lane.lock.withLock {
                    if closed { return .shuttingDown }
                    lane.stats.matched += 1
                    lane.stats.matchedByKind[event.header.kind] += 1
                    droppedQueueFull.add(1, ordering: .relaxed)
                    return .dropped
                }
            }
        }
        return lane.lock.withLock {
            // Checked again under the lock: `stop` empties each lane under
            // its lock after `close`, so nothing is appended behind it.
            if closed {
                release(bytes)
                return .shuttingDown
            }
            let id = countMatched(event.header.kind, in: lane, index: index)
            return appendLocked(event, id: id, bytes: bytes, timestampMs: timestampMs, nowNs: nowNs, to: lane)
        }
    }

    /// Counts an accepted event in its lane and gives it the lane's next
    /// id. Under the lane's lock.
    @inline(__always)
    private func countMatched(_ kind: EventKind, in lane: Lane, index: Int) -> EventID {
        lane.stats.matched += 1
        lane.stats.matchedByKind[kind] += 1
        defer { lane.nextSequence &+= 1 }
        return EventID(tag: idTag, lane: UInt32(truncatingIfNeeded: index), sequence: lane.nextSequence)
    }

    /// Appends an event to the lane's memory queue, its room already
    /// reserved; hands back a parked connection to wake. Under the lane's lock.
    @inline(__always)
    private func appendLocked(_ event: RawEvent, id: EventID, bytes: Int, timestampMs: UInt64, nowNs: UInt64, to lane: Lane) -> SubmitResult {
        lane.events.append(size: bytes) {
            EventRecord.write(event, timestampMs: timestampMs, acceptedAtNs: nowNs, id: id, size: bytes, to: $0)
        }
        lane.stats.queued += 1
        lane.stats.queuedBytes += UInt64(bytes)
        guard lane.gathering == 0 || lane.events.count >= lane.batch.maxEvents else { return .queued(wake: nil) }
        return .queued(wake: lane.idle.popLast())
    }

    /// `submit` with the spool on: to memory while the lane does not spill
    /// and there is room, otherwise to the lane's staging for the spool
    /// thread. Never touches the disk.
    private func submit(_ event: RawEvent, bytes: Int, timestampMs: UInt64, to lane: Lane, index: Int, spill: SpillLimits, nowNs: UInt64) -> SubmitResult {
        let reserved = !spill.always && reserve(bytes)
        return lane.lock.withLock {
            if closed {
                if reserved { release(bytes) }
                return .shuttingDown
            }
            let id = countMatched(event.header.kind, in: lane, index: index)
            if reserved && lane.stats.spooled == 0 {
                return appendLocked(event, id: id, bytes: bytes, timestampMs: timestampMs, nowNs: nowNs, to: lane)
            }
            if reserved { release(bytes) }
            // The first event always fits, whatever its size; others wait for the spool thread.
            guard lane.stagedBytes == 0 || lane.stagedBytes + bytes <= spill.stagingBytesPerLane else {
                lane.stats.droppedSpool += 1
                return .dropped
            }
            lane.staged!.append(size: bytes) {
                EventRecord.write(event, timestampMs: timestampMs, acceptedAtNs: nowNs, id: id, size: bytes, to: $0)
            }
            lane.stagedBytes += bytes
            lane.stats.spooled += 1
            return .queued(wake: nil)
        }
    }

    /// Room for one more event of `bytes`, taken if there is: each bound is
    /// a compare-and-swap loop, so neither is ever exceeded.
    func reserve(_ bytes: Int) -> Bool {
        guard Self.add(1, to: reservedEvents, limit: maxEvents.load(ordering: .relaxed)) else { return false }
        guard Self.add(bytes, to: reservedBytes, limit: maxBytes.load(ordering: .relaxed)) else {
            reservedEvents.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Takes room whatever the bounds say (events loaded from the spool for
    /// a lane with nothing in memory: the lane must make progress).
    func forceReserve(_ bytes: Int) {
        reservedEvents.add(1, ordering: .relaxed)
        reservedBytes.add(bytes, ordering: .relaxed)
    }

    func release(_ bytes: Int, events: Int = 1) {
        reservedEvents.subtract(events, ordering: .relaxed)
        reservedBytes.subtract(bytes, ordering: .relaxed)
    }

    private static func add(_ amount: Int, to counter: borrowing Atomic<Int>, limit: Int) -> Bool {
        var current = counter.load(ordering: .relaxed)
        while true {
            guard amount <= limit - current else { return false }
            let (exchanged, original) = counter.weakCompareExchange(
                expected: current, desired: current + amount, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// `drop_old`: the oldest queued event of any lane goes. Lanes are
    /// locked one at a time (never two at once, so no lock order to keep);
    /// the head found may have been taken meanwhile, and then the lane's
    /// new head, no younger than the rest, goes instead.
    private func dropOldest() -> Bool {
        var oldest: (lane: Lane, acceptedAtNs: UInt64)?
        for lane in lanes {
            guard let age = lane.lock.withLock({ lane.events.withFirst(EventRecord.acceptedAtNs) }) else { continue }
            if oldest == nil || age < oldest!.acceptedAtNs { oldest = (lane, age) }
        }
        guard let lane = oldest?.lane else { return false }
        return lane.lock.withLock {
            guard let bytes = lane.events.removeFirst(EventRecord.size) else { return false }
            lane.stats.queued -= 1
            lane.stats.queuedBytes -= UInt64(bytes)
            droppedQueueFull.add(1, ordering: .relaxed)
            release(bytes)
            return true
        }
    }

    /// The next events for a connection (see `Take`). `gathered`: it has
    /// already waited for a batch to fill; take what is there.
    func take(lane index: Int, for waiter: Waiter, gathered: Bool = false) -> Take {
        let lane = lanes[index]
        let now = batchDelayNs.load(ordering: .relaxed) > 0 && !gathered ? Clock.monotonicNanoseconds() : 0
        var ranDry = false
        let take = lane.lock.withLock {
            if gathered { lane.gathering -= 1 }
            let take = takeLocked(lane, for: waiter, gathered: gathered, nowNs: now)
            ranDry = spill != nil && lane.events.isEmpty && lane.stats.spooled > 0
            return take
        }
        if ranDry { spoolSignal?.requestLoad() }
        return take
    }

    /// Records what became of the events a connection took and hands over
    /// the next ones.
    func complete(_ finished: [QueuedEvent], _ outcome: DeliveryOutcome, lane index: Int, for waiter: Waiter, takeNext: Bool,
                  why: DeadLetterReason? = nil) -> Take {
        let now = Clock.monotonicNanoseconds()
        let lane = lanes[index]
        var ranDry = false
        let next = lane.lock.withLock { () -> Take in
            let count = UInt64(finished.count)
            lane.stats.inFlight -= count
            switch outcome {
            case .delivered:
                lane.stats.delivered += count
                lane.stats.lastDeliveredAtNs = now
                for event in finished {
                    lane.latencies.record(microseconds: (now &- event.acceptedAtNs) / 1000)
                    lane.stats.deliveredByKind[event.event.kind] += 1
                }
            case .failed:
                lane.stats.failed += count
                for event in finished { lane.stats.failedByKind[event.event.kind] += 1 }
                if let why, spill?.keepsDeadLetters == true {
                    lane.deadLetters.append(PendingDeadLetters(events: finished, why: why, failedAtMs: Clock.wallMilliseconds()))
                }
            case .droppedAtShutdown where spill != nil:
                // Saved to the spool at shutdown, ahead of what is queued.
                lane.returned.append(contentsOf: finished)
                lane.stats.queued += count
                return .nothing
            case .droppedAtShutdown:
                lane.stats.droppedShutdown += count
            }
            if spill != nil {
                for event in finished where event.spoolRow != 0 { lane.finishedRows.append(event.spoolRow) }
            }
            let next = takeNext ? takeLocked(lane, for: waiter, gathered: false, nowNs: now) : .nothing
            ranDry = spill != nil && lane.events.isEmpty && lane.stats.spooled > 0
            return next
        }
        if ranDry { spoolSignal?.requestLoad() }
        if closed { wakeDrain() }
        return next
    }

    private func takeLocked(_ lane: Lane, for waiter: Waiter, gathered: Bool, nowNs: UInt64) -> Take {
        if isStopping { return .nothing }
        guard let oldest = lane.events.withFirst(EventRecord.acceptedAtNs) else {
            if !lane.idle.contains(where: { $0 === waiter }) {
                lane.idle.append(waiter)
            }
            return .nothing
        }
        // A batch that is not full waits for company, up to max_delay from
        // its oldest event; not once shutdown began (the drain must not wait).
        let batch = lane.batch
        // (nowNs is 0 when a reload turned max_delay on after the clock was read: no wait this once.)
        if batch.maxDelayNs > 0, nowNs > 0, !gathered, lane.events.count < batch.maxEvents, !closed {
            let age = nowNs > oldest ? nowNs - oldest : 0
            if age < batch.maxDelayNs {
                lane.gathering += 1
                return .gather(afterNs: batch.maxDelayNs - age)
            }
        }
        var taken: [QueuedEvent] = []
        taken.reserveCapacity(min(batch.maxEvents, lane.events.count))
        var takenBytes = 0
        // Read under the lock: once removed, a record's bytes may be reused
        // by the next append to this lane.
        while taken.count < batch.maxEvents,
              let size = lane.events.withFirst(EventRecord.size),
              taken.isEmpty || takenBytes + size <= batch.maxBytes,
              let next = lane.events.removeFirst(EventRecord.read) {
            taken.append(next)
            takenBytes += size
        }
        let count = UInt64(taken.count)
        lane.stats.queued -= count
        lane.stats.queuedBytes -= UInt64(takenBytes)
        lane.stats.inFlight += count
        release(takenBytes, events: taken.count)
        return .work(taken)
    }

    /// A reload's new `queue { }` and `batch { }`: the bounds hold for what
    /// is accepted from now on (events already queued stay), batches are
    /// cut to the new limits from the next take.
    func apply(limits: QueueLimits, batch: BatchLimits) {
        maxEvents.store(limits.maxEvents, ordering: .relaxed)
        maxBytes.store(limits.maxBytes, ordering: .relaxed)
        dropsOld.store(limits.overflow == .dropOld, ordering: .relaxed)
        batchDelayNs.store(batch.maxDelayNs, ordering: .relaxed)
        for lane in lanes { lane.lock.withLock { lane.batch = batch } }
    }

    func countRetry(lane index: Int) {
        let lane = lanes[index]
        lane.lock.withLock { lane.stats.retried += 1 }
    }

    func connectionOpened(lane index: Int) {
        let lane = lanes[index]
        lane.lock.withLock {
            lane.stats.connectionsOpen += 1
            lane.stats.connectionsOpened += 1
        }
    }

    func connectionClosed(lane index: Int) {
        let lane = lanes[index]
        lane.lock.withLock { lane.stats.connectionsOpen -= 1 }
    }

    /// The counters now, consistent: every lane is locked at once (in
    /// index order, the only place two lane locks are held), so each event
    /// is counted exactly once. Percentiles are computed after the locks
    /// are released, so reading stats does not hold up delivery.
    func snapshot() -> EngineStats {
        var total = EngineStats()
        var latencies = LatencyHistogram()
        withAllLanesLocked {
            for lane in lanes {
                total.add(lane.stats)
                latencies.add(lane.latencies)
                if let oldest = lane.events.withFirst(EventRecord.acceptedAtNs), total.oldestQueuedAtNs == 0 || oldest < total.oldestQueuedAtNs {
                    total.oldestQueuedAtNs = oldest
                }
            }
            total.droppedQueueFull = droppedQueueFull.load(ordering: .relaxed)
        }
        total.latencyP50Us = latencies.percentile(0.50)
        total.latencyP99Us = latencies.percentile(0.99)
        total.latency = latencies.buckets
        return total
    }

    private func withAllLanesLocked(from index: Int = 0, _ body: () -> Void) {
        guard index < lanes.count else { return body() }
        lanes[index].lock.withLock { withAllLanesLocked(from: index + 1, body) }
    }

    // MARK: Shutdown

    /// Refuses new events from now on.
    func close() {
        closedFlag.store(true, ordering: .sequentiallyConsistent)
    }

    /// Waits until everything queued is delivered (or failed) or the
    /// deadline passes. Returns whether the queue drained.
    ///
    /// No wake-up is lost: `complete` updates its lane and then reads
    /// `closed`; this sets `closed` (in `close`) and then reads the lanes
    /// under `drainLock`, which `complete` takes to wake it.
    func waitUntilDrained(deadlineNs: UInt64) -> Bool {
        drainLock.withLock {
            drainLock.wait(untilNanoseconds: deadlineNs) { !isDrained() }
            return isDrained()
        }
    }

    /// Nothing in memory, in flight, or in the spool (staged or on disk).
    private func isDrained() -> Bool {
        lanes.allSatisfy { lane in lane.lock.withLock { lane.events.isEmpty && lane.stats.inFlight == 0 && lane.stats.spooled == 0 } }
    }

    func wakeDrain() {
        drainLock.withLock { drainLock.broadcast() }
    }

    /// Stops handing out work; what is still queued is counted as dropped
    /// (spool on: kept for `takeLeftovers`).
    func stop() -> Int {
        stoppingFlag.store(true, ordering: .sequentiallyConsistent)
        var count = 0
        if spill != nil {
            for lane in lanes { lane.lock.withLock { lane.idle.removeAll() } }
            return 0
        }
        for lane in lanes {
            lane.lock.withLock {
                while let bytes = lane.events.removeFirst(EventRecord.size) {
                    lane.stats.queued -= 1
                    lane.stats.queuedBytes -= UInt64(bytes)
                    lane.stats.droppedShutdown += 1
                    release(bytes)
                    count += 1
                }
                lane.idle.removeAll()
            }
        }
        return count
    }
}
