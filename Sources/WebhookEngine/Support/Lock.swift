import CPlatform

/// A pthread mutex with a condition variable: the one lock type of the
/// library, its CLI and its C ABI layer. The engine holds it only for queue
/// and counter updates, never across I/O. A failing pthread call is a bug
/// (a corrupted or destroyed lock), so it stops the process with its code
/// rather than going on unlocked.
public final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        check(pthread_mutex_init(mutex, nil), "pthread_mutex_init")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        check(pthread_cond_init(condition, &attributes), "pthread_cond_init")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        check(pthread_mutex_lock(mutex), "pthread_mutex_lock")
        defer { check(pthread_mutex_unlock(mutex), "pthread_mutex_unlock") }
        return try body()
    }

    /// Waits on the condition until `done()` holds or the monotonic deadline
    /// passes. Call with the lock held (inside `withLock`).
    public func wait(untilNanoseconds deadline: UInt64, while notDone: () -> Bool) {
        while notDone() {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let nowNs = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
            if nowNs >= deadline { return }
            var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            pthread_cond_timedwait(condition, mutex, &until)
        }
    }

    public func broadcast() {
        check(pthread_cond_broadcast(condition), "pthread_cond_broadcast")
    }

    @inline(__always)
    private func check(_ result: Int32, _ call: StaticString) {
        if result != 0 { fatalError("\(call) failed with \(result)") }
    }
}
