/// What wakes the spool thread before its next `sync_interval`. Made before
/// the queue and the spool, so each gets it at init: the queue asks for a
/// load when a lane runs dry (on a connection's thread), the engine for a
/// flush when shutdown begins and for a stop at the end, and the spool
/// thread sleeps in `wait`.
final class SpoolSignal: @unchecked Sendable {
    private let lock = Lock()
    private var loadWanted = false
    private var flushWanted = false
    private var replayWanted = false
    private var stopping = false

    init() {}

    /// A lane's memory ran dry while the spool holds some of its events:
    /// run a cycle now rather than at the next `sync_interval`.
    func requestLoad() {
        raise { loadWanted = true }
    }

    /// Shutdown began: write what the lanes staged now, so the drain can
    /// send it.
    func requestFlush() {
        raise { flushWanted = true }
    }

    /// A reload: dead letters marked for replay go back among the events.
    func requestReplay() {
        raise { replayWanted = true }
    }

    /// The thread is to end.
    func requestStop() {
        raise { stopping = true }
    }

    /// Sets a request's flag and wakes the thread.
    private func raise(_ set: () -> Void) {
        lock.withLock {
            set()
            lock.broadcast()
        }
    }

    /// Sleeps until a request, or until `deadline` (monotonic ns); says
    /// whether to stop, flush and replay, and clears the requests.
    func wait(untilNanoseconds deadline: UInt64) -> (stop: Bool, flush: Bool, replay: Bool) {
        lock.withLock {
            lock.wait(untilNanoseconds: deadline) { !loadWanted && !flushWanted && !replayWanted && !stopping }
            defer { loadWanted = false; flushWanted = false; replayWanted = false }
            return (stopping, flushWanted, replayWanted)
        }
    }
}
