import CNng
import WebhookCore
import CPlatform

/// Closes connections (nng streams) on short-lived threads of their own,
/// never on the nng callback that found them broken.
///
/// Why: closing can wait for the connection's pending I/O to finish
/// (`nng_http_conn_close` did, in nng 1.5.2). Called from the callback of
/// that same I/O (a TLS connection whose handshake never came, timed out)
/// it waited for itself: the nng task thread was lost for good, no event
/// was retried, and `webhook_fini` never returned. Off the callback, the
/// wait ends as soon as the callback does. Closes are rare (errors,
/// `Connection: close`), so a thread each costs little. The threads are
/// joined, not detached, so that once shutdown has waited for them none is
/// left running.
final class ConnectionCloser: @unchecked Sendable {
    private let lock = Lock()
    private var jobs: [Job] = []

    /// Takes ownership of `conn` and closes (and frees) it.
    func close(_ conn: OpaquePointer) {
        let job = Job(conn: conn, closer: self)
        joinFinished()
        // Under the lock: the thread's `finished` takes it too, so the job
        // is listed before it can be marked done.
        lock.withLock {
            // No thread to be had: the connection is leaked rather than risk
            // the hang (the process frees it when it exits).
            guard let thread = OSThread(name: "swh:close", {
                nng_stream_free(job.conn)  // closes, then frees
                job.closer.finished(job)
            }) else { return }
            job.thread = thread
            jobs.append(job)
        }
    }

    /// Waits until every close has returned, for at most `limitMs`, and
    /// joins their threads; false when one is still stuck inside nng (its
    /// thread is then detached and abandoned).
    func waitForAll(limitMs: Int) -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(limitMs) * 1_000_000
        let stuck = lock.withLock { () -> [Job] in
            lock.wait(untilNanoseconds: deadline) { jobs.contains { !$0.done } }
            let stuck = jobs.filter { !$0.done }
            for job in stuck { job.thread?.detach() }
            jobs.removeAll { !$0.done }
            return stuck
        }
        joinFinished()
        return stuck.isEmpty
    }

    private func finished(_ job: Job) {
        lock.withLock {
            job.done = true
            lock.broadcast()
        }
    }

    /// Joins the threads whose close has returned (they are exiting).
    private func joinFinished() {
        let done = lock.withLock { () -> [Job] in
            let done = jobs.filter { $0.done }
            jobs.removeAll { $0.done }
            return done
        }
        for job in done { job.thread?.join() }
    }

    private final class Job {
        let conn: OpaquePointer
        let closer: ConnectionCloser
        var thread: OSThread?
        /// Set under the closer's lock when nng_stream_free returned.
        var done = false

        init(conn: OpaquePointer, closer: ConnectionCloser) {
            self.conn = conn
            self.closer = closer
        }
    }
}
