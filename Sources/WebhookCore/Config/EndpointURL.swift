/// The webhook endpoint: `http(s)://host[:port]/path?query`.
public struct EndpointURL: Equatable, Sendable, CustomStringConvertible {
    public var scheme: String
    /// Host as written, without brackets for IPv6.
    public var host: String
    public var port: Int
    /// Path and query as sent in the request line; `/` when the URL has none.
    public var target: String

    public var isTLS: Bool { scheme == "https" }

    /// Whether `host` is an IP address (IPv4 dotted decimal, or IPv6),
    /// not a name: TLS then checks the certificate's iPAddress names.
    public static func isAddress(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.utf8.count <= 3 && part.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                && Int(part).map { $0 <= 255 } == true
        }
    }

    /// The URL handed to nng (brackets restored for IPv6).
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart):\(port)\(target)"
    }

    /// The URL as it may appear in a message: `user:password@` becomes
    /// `***@`, so a refused URL never shows its password.
    public static func redactingUserInfo(_ text: String) -> String {
        let utf8 = Array(text.utf8)
        guard let split = (0..<max(0, utf8.count - 2)).first(where: {
            utf8[$0] == UInt8(ascii: ":") && utf8[$0 + 1] == UInt8(ascii: "/") && utf8[$0 + 2] == UInt8(ascii: "/")
        }) else { return text }
        let start = split + 3
        let end = utf8[start...].firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") })
            ?? utf8.endIndex
        guard let at = utf8[start..<end].lastIndex(of: UInt8(ascii: "@")) else { return text }
        return String(decoding: utf8[..<start], as: UTF8.self) + "***" + String(decoding: utf8[at...], as: UTF8.self)
    }

    /// Parses a URL, or says what is wrong with it.
    public static func parse(_ text: String) -> Result<EndpointURL, ValueProblem> {
        let separator = Array("://".utf8)
        let utf8 = Array(text.utf8)
        guard let split = (0..<max(0, utf8.count - 2)).first(where: { Array(utf8[$0..<$0 + 3]) == separator }) else {
            return .failure(.init("expected http://host[:port][/path] or https://..."))
        }
        let scheme = String(decoding: utf8[..<split], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" else {
            return .failure(.init("scheme must be http or https, got \(Quoting.quoted(String(scheme)))"))
        }
        if utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            return .failure(.init("URL contains whitespace or control characters"))
        }
        let rest = Substring(String(decoding: utf8[(split + 3)...], as: UTF8.self))
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        target = percentEncodingRequestTarget(target)

        if authority.contains("@") {
            return .failure(.init("user:password@ in the URL is not supported; set headers.authorization instead"))
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return .failure(.init("unterminated '[' in IPv6 host")) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(.init("unexpected text after IPv6 host")) }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.isEmpty { return .failure(.init("URL has no host")) }
        // A name, an IPv4 address or (in brackets) an IPv6 address.
        let allowed = authority.hasPrefix("[")
            ? { (c: Character) in c.isHexDigit || c == ":" || c == "." || c == "%" }
            : { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "." || c == "_") }
        if !host.allSatisfy(allowed) {
            return .failure(.init("host \(Quoting.quoted(String(host))) is not a host name or IP address"))
        }
        let defaultPort = scheme == "https" ? 443 : 80
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value), portText.allSatisfy({ $0.isNumber }) else {
                return .failure(.init("port must be 1-65535, got \(Quoting.quoted(String(portText)))"))
            }
            port = value
        }
        return .success(EndpointURL(scheme: scheme, host: String(host), port: port, target: target))
    }
}

/// The path and query as they may stand in a request line (RFC 9112,
/// RFC 3986): bytes outside ASCII and the characters a URI never holds
/// raw (`"<>\\^`{|}`) are percent-encoded, in UTF-8; an existing `%XX` stays.
/// (Whitespace and control characters never get here: the URL is refused.)
func percentEncodingRequestTarget(_ target: String) -> String {
    let unsafe = Array("\"<>\\^`{|}".utf8)
    guard target.utf8.contains(where: { $0 >= 0x80 || unsafe.contains($0) }) else { return target }
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in target.utf8 {
        if byte >= 0x80 || unsafe.contains(byte) {
            out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
        } else {
            out.append(byte)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Why a URL or topic filter from a config is not usable (the resolver
/// adds file, line, column and key).
public struct ValueProblem: Error, Equatable {
    public var message: String
    init(_ message: String) { self.message = message }
}
