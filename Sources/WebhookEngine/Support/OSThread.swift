import CPlatform

/// A plain pthread running one closure, joined by its owner: for work that
/// blocks (the spool's SQLite calls), which must not run on nng's task
/// threads, where it would hold up deliveries.
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
}
