/// Why a config cannot be used. The description is the message a broker logs:
///
///     nanomq.conf:42:19: webhook.body.encoding: expected plain, base64 or base62, got "base63"
///
/// Values of secret keys (passwords, authorization headers) are never quoted.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var location: SourceLocation?
    /// Dotted key path (`webhook.body.encoding`), or nil for a syntax error.
    public var key: String?
    public var message: String

    public init(_ message: String, at location: SourceLocation?, key: String? = nil) {
        self.location = location
        self.key = key
        self.message = message
    }

    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        if let key { text += "\(key): " }
        // One line, whole in a C buffer: no control character gets through.
        return Quoting.escapingControls(text + message)
    }
}
