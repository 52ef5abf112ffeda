/// The deadlines of the engine's timers, as a plain value (no clock, no
/// thread): `TimerThread` asks it what is due and how long to sleep.
///
/// One slot per timer owner (a connection's backoff or batch wait, the
/// watchdog), each armed or not. A pool has tens of connections and few
/// are armed at once, so the earliest deadline is found by a scan rather
/// than kept in a heap.
struct TimerQueue {
    /// Each slot's deadline (monotonic nanoseconds), nil when not armed.
    private var deadlines: [UInt64?] = []

    /// A new, unarmed slot.
    mutating func addSlot() -> Int {
        deadlines.append(nil)
        return deadlines.count - 1
    }

    /// Arms `slot` for `deadlineNs`, replacing an earlier arming. Returns
    /// whether it is now the earliest deadline (the thread must wake to
    /// sleep less).
    mutating func arm(_ slot: Int, deadlineNs: UInt64) -> Bool {
        deadlines[slot] = deadlineNs
        return earliest().map { $0 >= deadlineNs } ?? true
    }

    /// Brings an armed slot's deadline to `nowNs`; false if it was not armed.
    mutating func advance(_ slot: Int, toNs nowNs: UInt64) -> Bool {
        guard let deadline = deadlines[slot] else { return false }
        deadlines[slot] = min(deadline, nowNs)
        return true
    }

    func isArmed(_ slot: Int) -> Bool {
        deadlines[slot] != nil
    }

    /// The earliest armed deadline, nil when none is armed.
    func earliest() -> UInt64? {
        var earliest: UInt64?
        for case let deadline? in deadlines where earliest.map({ deadline < $0 }) ?? true {
            earliest = deadline
        }
        return earliest
    }

    /// A slot whose deadline has come (the earliest first), disarmed; nil
    /// when none has.
    mutating func takeDue(nowNs: UInt64) -> Int? {
        var due: Int?
        for slot in deadlines.indices {
            guard let deadline = deadlines[slot], deadline <= nowNs else { continue }
            if let chosen = due, let chosenDeadline = deadlines[chosen], chosenDeadline <= deadline { continue }
            due = slot
        }
        if let due { deadlines[due] = nil }
        return due
    }
}
