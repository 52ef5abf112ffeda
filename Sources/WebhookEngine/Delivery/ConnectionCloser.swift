import CNng
import WebhookCore
#if canImport(Glibc)
import Glibc
#endif

/// Closes HTTP connections on short-lived threads of their own, never on
/// the nng callback that found them broken.
///
/// Why: `nng_http_conn_close` (nng 1.5.2) waits for the connection's
/// pending I/O to finish. Called from the callback of that same I/O (a TLS
/// connection whose handshake never came, timed out) it waits for itself:
/// the nng task thread was lost for good, no event was retried, and
/// `webhook_fini` never returned. Off the callback, the wait ends as soon as
/// the callback does. Closes are rare (errors, `Connection: close`), so a
/// thread each costs little; shutdown waits for them, bounded.
final class ConnectionCloser: @unchecked Sendable {
    private let lock = Lock()
    private var pending = 0

    /// Takes ownership of `conn` and closes (and frees) it.
    func close(_ conn: OpaquePointer) {
        lock.withLock { pending += 1 }
        let job = Unmanaged.passRetained(Job(conn: conn, closer: self)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            let job = Unmanaged<Job>.fromOpaque(context!).takeRetainedValue()
            nng_http_conn_close(job.conn)
            job.closer.finished()
            return nil
        }, job)
        if created == 0 {
            pthread_detach(thread)
        } else {
            // No thread to be had: leak the connection rather than risk the
            // hang (it is freed with the process).
            Unmanaged<Job>.fromOpaque(job).release()
            finished()
        }
    }

    /// Waits until every close has returned, for at most `limitMs`; false
    /// when one is still stuck inside nng (it is then abandoned).
    func waitForAll(limitMs: Int) -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(limitMs) * 1_000_000
        return lock.withLock {
            lock.wait(untilNanoseconds: deadline) { pending > 0 }
            return pending == 0
        }
    }

    private func finished() {
        lock.withLock {
            pending -= 1
            lock.broadcast()
        }
    }

    private final class Job {
        let conn: OpaquePointer
        let closer: ConnectionCloser
        init(conn: OpaquePointer, closer: ConnectionCloser) {
            self.conn = conn
            self.closer = closer
        }
    }
}
