import CNng

/// Debian's libnng, loaded once per process before the engine's first nng
/// call (Sources/CBinding/include/cbinding.h explains why it is not linked).
enum NngLibrary {
    /// Loads libnng.so.1, or throws why it cannot (not installed, too old).
    static func load() throws(EngineError) {
        var reason = [CChar](repeating: 0, count: 512)
        guard cnng_load(&reason, reason.count) == 0 else {
            throw EngineError(String(cString: reason))
        }
    }
}
