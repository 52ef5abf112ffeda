/// The memory queue as the spool thread sees it: everything the spool does
/// to the lanes, and nothing else (`DeliveryQueue` conforms, in
/// DeliveryQueue+Spool.swift). Each call takes one lane's lock briefly and
/// none holds it across I/O: the spool reads and writes SQLite between them.
///
/// The counters move with the events: `replayed` and staging add to
/// `spooled`; `admit` moves events from `spooled` to `queued`;
/// `spoolDropped` from `spooled` to `dropped_spool`; `takeLeftovers` from
/// `queued` back to `spooled` (or to `dropped_shutdown`).
protocol SpoolQueue: AnyObject {
    /// Fixed at init.
    var laneCount: Int { get }
    /// The drain is over: the spool stops handing events to memory.
    var isStopping: Bool { get }
    /// Events the memory queue has room for now (`queue.max_events`).
    var room: Int { get }
    /// Events in the lane's memory now.
    func memoryCount(lane: Int) -> Int
    /// Swaps the lane's staged events out into `spare` (an empty log).
    func takeStaged(lane: Int, into spare: inout EventLog)
    /// The spool rows of the lane's events finished since the last call.
    func takeFinishedRows(lane: Int) -> [Int64]
    /// The lane's failed events since the last call, to keep as dead letters.
    func takeDeadLetters(lane: Int) -> [PendingDeadLetters]
    /// Moves records (each with its spool row set) from the front of
    /// `records` into the lane's memory, as far as the bounds allow, but at
    /// least `minimum` and at most `limit`, and wakes a connection parked
    /// on the lane; returns how many moved and the row of the last.
    func admit(lane: Int, from records: inout EventLog, minimum: Int, limit: Int) -> (count: Int, lastRow: Int64)
    /// Events the spool held that will never reach memory.
    func spoolDropped(lane: Int, count: Int)
    /// Events found in the spool at start (an earlier run's).
    func replayed(lane: Int, count: Int)
    /// At shutdown: the lane's undelivered events, handed to `save` outside
    /// the lane's lock; returns how many.
    func takeLeftovers(lane: Int, _ save: ([QueuedEvent], borrowing EventLog) -> Bool) -> Int
}
