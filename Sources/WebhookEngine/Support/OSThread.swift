import CPlatform

/// A plain pthread running one closure, joined (or given up on and
/// detached) by its owner: for work that blocks (the spool's SQLite calls,
/// closing a connection, freeing clients), which must not run on nng's task
/// threads, where it would hold up deliveries or wait for itself. The one
/// place the engine creates a thread.
final class OSThread {
    private final class Body {
        let name: StaticString
        let run: () -> Void
        init(name: StaticString, _ run: @escaping () -> Void) {
            self.name = name
            self.run = run
        }
    }

    private var thread = pthread_t()

    /// Starts `body` on a new thread named `name` (as `top -H` and perf
    /// show it: a host sees whose thread it is); nil if the system has no
    /// thread to give.
    init?(name: StaticString, _ body: @escaping () -> Void) {
        let context = Unmanaged.passRetained(Body(name: name, body)).toOpaque()
        let rv = pthread_create(&thread, nil, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.name.withUTF8Buffer { name in
                name.withMemoryRebound(to: CChar.self) { cplatform_name_thread($0.baseAddress) }
            }
            body.run()
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
