import CPlatform

/// A plain pthread running one closure, joined (or given up on and
/// detached) by its owner: for work that blocks (the spool's SQLite calls,
/// closing a connection, freeing clients), which must not run on nng's task
/// threads, where it would hold up deliveries or wait for itself. The one
/// place the engine creates a thread.
final class OSThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private var thread = pthread_t()

    /// Starts `body` on a new thread; nil if the system has no thread to give.
    init?(_ body: @escaping () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let rv = pthread_create(&thread, nil, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        if rv != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            return nil
        }
    }

    /// Waits for the closure to return.
    func join() {
        pthread_join(thread, nil)
    }

    /// Gives the thread up: it exits on its own when the closure returns.
    /// (For one stuck in a call that may never return.)
    func detach() {
        pthread_detach(thread)
    }
}
