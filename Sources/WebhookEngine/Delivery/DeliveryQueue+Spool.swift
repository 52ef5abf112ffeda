import Synchronization
import WebhookCore

/// The queue's side of the spool (the spool thread's calls, and
/// shutdown's): see `SpoolQueue` for the contract. Every call holds one
/// lane's lock, briefly, and never across I/O.
extension DeliveryQueue: SpoolQueue {

    /// Swaps the lane's staged events out into `spare` (an empty log).
    /// They stay counted as `spooled`.
    func takeStaged(lane index: Int, into spare: inout EventLog) {
        let lane = lanes[index]
        lane.lock.withLock {
            swap(&lane.staged!, &spare)
            lane.stagedBytes = 0
        }
    }

    /// The spool rows of events finished since the last call.
    func takeFinishedRows(lane index: Int) -> [Int64] {
        let lane = lanes[index]
        return lane.lock.withLock {
            defer { lane.finishedRows.removeAll(keepingCapacity: true) }
            return lane.finishedRows
        }
    }

    /// The lane's failed events since the last call, for the dead letters.
    func takeDeadLetters(lane index: Int) -> [PendingDeadLetters] {
        let lane = lanes[index]
        return lane.lock.withLock {
            defer { lane.deadLetters.removeAll() }
            return lane.deadLetters
        }
    }

    /// Events in the lane's memory now.
    func memoryCount(lane index: Int) -> Int {
        let lane = lanes[index]
        return lane.lock.withLock { lane.events.count }
    }

    /// Events the memory queue has room for now (`queue.max_events`).
    var room: Int {
        max(0, maxEvents.load(ordering: .relaxed) - reservedEvents.load(ordering: .relaxed))
    }

    /// Moves records (each with its spool row set) from the front of
    /// `records` into the lane's memory, as far as the bounds allow, but at
    /// least `minimum` and at most `limit` of them, and wakes a connection
    /// parked on the lane (outside its lock); returns how many moved and the
    /// row of the last. The moved ones leave `spooled` for `queued`.
    func admit(lane index: Int, from records: inout EventLog, minimum: Int, limit: Int) -> (count: Int, lastRow: Int64) {
        let lane = lanes[index]
        var moved = 0
        var lastRow: Int64 = 0
        let wake: Waiter? = lane.lock.withLock {
            while moved < limit, let size = records.withFirst(EventRecord.size) {
                if moved < minimum { forceReserve(size) } else if !reserve(size) { break }
                records.removeFirst { record in
                    lastRow = EventRecord.spoolRow(record)
                    lane.events.append(size: size) { $0.copyMemory(from: record, byteCount: size) }
                }
                moved += 1
                lane.stats.queued += 1
                lane.stats.queuedBytes += UInt64(size)
            }
            lane.stats.spooled -= UInt64(moved)
            return moved > 0 ? lane.idle.popLast() : nil
        }
        wake?.wake()
        return (moved, lastRow)
    }

    /// Events the spool holds that will never reach memory (it was full, or
    /// a row was unreadable): counted as dropped.
    func spoolDropped(lane index: Int, count: Int) {
        guard count > 0 else { return }
        let lane = lanes[index]
        lane.lock.withLock {
            lane.stats.spooled -= UInt64(count)
            lane.stats.droppedSpool += UInt64(count)
        }
        if closed { wakeDrain() }
    }

    /// Events found in the spool at start (an earlier run's): `spooled`
    /// and `spoolReplayed` both count them.
    func replayed(lane index: Int, count: Int) {
        let lane = lanes[index]
        lane.lock.withLock {
            lane.stats.spooled += UInt64(count)
            lane.stats.spoolReplayed += UInt64(count)
        }
    }

    /// At shutdown, after `stop` and the connections: the lane's undelivered
    /// events in order (those a connection had, then the queue), handed to
    /// `save`, which writes them and says whether it could. They leave
    /// `queued` for `spooled`, or for `droppedShutdown`. `save` writes to
    /// disk, so it runs outside the lane's lock (no lock of the queue spans
    /// I/O): the events are taken out first and counted as spooled while
    /// they are written, then as dropped if the write failed.
    func takeLeftovers(lane index: Int, _ save: ([QueuedEvent], borrowing EventLog) -> Bool) -> Int {
        let lane = lanes[index]
        var events = EventLog()
        var returned: [QueuedEvent] = []
        let count = lane.lock.withLock { () -> Int in
            let count = lane.returned.count + lane.events.count
            guard count > 0 else { return 0 }
            events = lane.events.takeAll()
            returned = lane.returned
            lane.returned.removeAll()
            lane.stats.queued -= UInt64(count)
            lane.stats.spooled += UInt64(count)
            return count
        }
        guard count > 0 else { return 0 }
        let saved = save(returned, events)
        let records = events.count
        var bytes = 0
        while let size = events.removeFirst(EventRecord.size) { bytes += size }
        lane.lock.withLock {
            lane.stats.queuedBytes -= UInt64(bytes)
            if !saved {
                lane.stats.spooled -= UInt64(count)
                lane.stats.droppedShutdown += UInt64(count)
            }
        }
        release(bytes, events: records)
        return count
    }
}
