/// `body.encoding`: how the `payload` field of message bodies is written.
public enum PayloadEncoding: String, CaseIterable, Sendable {
    /// The bytes as a JSON string (NUL as \u0000, invalid UTF-8 as U+FFFD).
    case plain
    /// RFC 4648 standard alphabet with padding.
    case base64
    /// NanoMQ's radix-62 big-number form.
    case base62

    /// Appends the payload's JSON string form (with quotes) to `out`.
    public func appendJSONString(_ payload: ArraySlice<UInt8>, to out: inout JSONWriter) {
        switch self {
        case .plain: out.string(payload)
        case .base64: out.rawString { Base64.encode(payload, into: &$0) }
        case .base62: out.rawString { Base62.encode(payload, into: &$0) }
        }
    }
}
