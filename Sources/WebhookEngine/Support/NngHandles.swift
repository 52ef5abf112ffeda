import CNng

// The nng objects the engine owns outright, as types that free them: an aio
// lives exactly as long as its owner (a connection), and nng's free is safe
// on any thread.
//
// Dialers and streams are not among them, on purpose: freeing either can
// block in nng 1.5.2 (a dial that has not ended, a close that waits for its
// own callback), so their frees are explicit moves to bounded helper
// threads (`ConnectionCloser`, `Endpoint.close`, `Graveyard`), never a
// deinit on whichever thread let go last.

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
