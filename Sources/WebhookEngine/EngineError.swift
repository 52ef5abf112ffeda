import CNng

/// Why the engine could not start, or a reload was refused. The message is
/// what `webhook_init` / `webhook_reload` report.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The nng error code behind it; 0 when nng was not involved.
    public var nngCode: Int32
    public var description: String { message }

    public init(_ message: String) {
        self.message = message
        nngCode = 0
    }

    /// `what` failed inside nng with `code`; the message says both.
    init(nng code: Int32, _ what: String) {
        message = "\(what): \(nngError(code))"
        nngCode = code
    }

    /// nng ran out of memory: `webhook_init` answers SWIFTWEBHOOK_ENOMEM, as the header promises.
    public var isOutOfMemory: Bool { nngCode == Int32(NNG_ENOMEM.rawValue) }
}

/// nng's error text for a code.
func nngError(_ code: Int32) -> String {
    String(cString: nng_strerror(code))
}
