import CPlatform
import CThreadPriority
import WebhookCore

/// The engine's one timer thread: connections' backoffs and batch waits and
/// the engine's watchdog. Each owner registers a slot with a C callback and
/// its argument (as nng's aios take them: no closure keeps the owner alive),
/// arms it, and the callback runs on this thread when the deadline comes.
///
/// Why not `nng_sleep_aio`: nng 1.5.2 keeps deadlines in whole milliseconds
/// and its expiry thread only expires an aio whose deadline is strictly
/// before the current millisecond, so for every sleep that ends it spins
/// on `clock_gettime` for up to a millisecond (measured: 37% of the
/// process's CPU with batches waiting `max_delay` at 5,000 events/s; see
/// docs/engine.md). And a sleep's callback is one more hand-off to nng's
/// task threads, where this thread runs the callback itself.
final class TimerThread: @unchecked Sendable {
    typealias Callback = @convention(c) (UnsafeMutableRawPointer?) -> Void

    private let lock = Lock()
    private var queue = TimerQueue()
    private var callbacks: [(Callback, UnsafeMutableRawPointer?)] = []
    /// Bumped by every change the sleeping thread must look at.
    private var changes: UInt64 = 0
    private var stopping = false
    private var thread: OSThread?
    /// A thread that cannot sleep longer than this looks again (a deadline
    /// further than this is no different; it keeps timespec within 32 bits).
    private static let longestSleepNs: UInt64 = 1_000_000_000

    /// Starts the thread (convenience: see Engine.init on throwing inits).
    convenience init() throws(EngineError) {
        self.init(unstarted: ())
        let started = OSThread(name: "swh:timer") { [self] in run() }
        guard let started else { throw EngineError("cannot start the timer thread") }
        thread = started
    }

    private init(unstarted: Void) {}

    /// A slot for `callback(argument)`, not armed.
    func addSlot(_ callback: Callback, argument: UnsafeMutableRawPointer?) -> Int {
        lock.withLock {
            callbacks.append((callback, argument))
            return queue.addSlot()
        }
    }

    /// Runs the slot's callback `afterNs` from now (replacing an earlier arming).
    func arm(_ slot: Int, afterNs: UInt64) {
        let deadline = Clock.monotonicNanoseconds() &+ afterNs
        lock.withLock {
            if queue.arm(slot, deadlineNs: deadline) {
                changes &+= 1
                lock.broadcast()
            }
        }
    }

    /// Runs an armed slot's callback now rather than at its deadline
    /// (shutdown: a batch waiting for company goes at once). Nothing if
    /// the slot is not armed.
    func fireNow(_ slot: Int) {
        lock.withLock {
            if queue.advance(slot, toNs: 0) {
                changes &+= 1
                lock.broadcast()
            }
        }
    }

    /// Stops the thread and waits for it: no callback runs after this
    /// returns, armed slots never fire. Safe to call more than once.
    func stop() {
        let running = lock.withLock { () -> OSThread? in
            stopping = true
            changes &+= 1
            lock.broadcast()
            defer { thread = nil }
            return thread
        }
        running?.join()
    }

    private func run() {
        cthread_apply_delivery_nice()
        while let (callback, argument) = nextDue() {
            callback(argument)
        }
    }

    /// Sleeps until a slot is due and returns its callback; nil once stopping.
    private func nextDue() -> (Callback, UnsafeMutableRawPointer?)? {
        lock.withLock {
            while !stopping {
                let now = Clock.monotonicNanoseconds()
                if let slot = queue.takeDue(nowNs: now) { return callbacks[slot] }
                let seen = changes
                let until = min(queue.earliest() ?? UInt64.max, now &+ Self.longestSleepNs)
                lock.wait(untilNanoseconds: until) { changes == seen && !stopping }
            }
            return nil
        }
    }
}
