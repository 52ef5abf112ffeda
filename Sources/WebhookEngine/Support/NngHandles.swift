import CNng

// The nng objects the engine owns outright, as types that free them: an aio
// and an HTTP response live exactly as long as their owner (a connection,
// the engine's watchdog), and nng's free is safe on any thread.
//
// HTTP clients and connections are not among them, on purpose: freeing
// either can block in nng 1.5.2 (a dial that never ends, a close that
// waits for its own callback), so their frees are explicit moves to
// bounded helper threads (`ConnectionCloser`, `Endpoint.close`,
// `Graveyard`), never a deinit on whichever thread let go last.

/// An nng aio with its callback. Freed (which also stops it) when its owner
/// lets go; `stop` first, where the owner must know no callback runs any more.
final class NngAio: @unchecked Sendable {
    let raw: OpaquePointer

    /// Allocated before the object (Embedded Swift never frees an object
    /// whose designated initializer throws: see Engine.init).
    convenience init(callback: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void, argument: UnsafeMutableRawPointer?) throws(EngineError) {
        var aio: OpaquePointer?
        let rv = nng_aio_alloc(&aio, callback, argument)
        guard rv == 0, let aio else { throw EngineError(nng: rv, "cannot allocate an nng aio") }
        self.init(raw: aio)
    }

    private init(raw: OpaquePointer) {
        self.raw = raw
    }

    /// Cancels what is outstanding and waits for its callback; later
    /// operations on the aio fail at once.
    func stop() {
        nng_aio_stop(raw)
    }

    deinit {
        nng_aio_free(raw)
    }
}

/// An HTTP response object, reset and reused for every response a
/// connection reads.
final class NngHTTPResponse: @unchecked Sendable {
    let raw: OpaquePointer

    convenience init() throws(EngineError) {
        var response: OpaquePointer?
        let rv = nng_http_res_alloc(&response)
        guard rv == 0, let response else { throw EngineError(nng: rv, "cannot allocate an HTTP response") }
        self.init(raw: response)
    }

    private init(raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        nng_http_res_free(raw)
    }
}
