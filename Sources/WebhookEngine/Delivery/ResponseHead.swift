import WebhookCore

/// A response's head (its status line and the headers the engine acts on),
/// parsed from bytes as a plain value: the connection reads, this says
/// where the head ends and what it holds. No I/O, so every way an endpoint
/// can get a head wrong is tested without a socket (`ResponseHeadTests`).
///
/// Why the engine parses heads itself: it talks to the endpoint through
/// nng's byte streams, not nng's HTTP layer, whose every operation is two
/// completions handed to two of nng's threads instead of one (docs/engine.md,
/// "Where the CPU goes"). The engine only needs the status, the body's
/// framing, whether the connection stays open and `Retry-After`; every
/// other header is skipped unread.
///
/// As lenient as nng's parser was where servers differ (a bare LF ends a
/// line, the reason phrase may be missing) and as strict where a head is
/// not HTTP (no `HTTP/` version, a status outside 100-999, a control
/// character, a header line without a name).
struct ResponseHead: Equatable {
    var status: Int
    /// An HTTP/1.0 answer closes the connection unless it says keep-alive.
    var isHTTP10 = false
    /// The values of the headers the engine reads, nil when absent
    /// (repeated ones joined with ", ", as RFC 9110 allows for lists).
    var contentLength: String?
    var transferEncoding: String?
    var connection: String?
    var retryAfter: String?

    /// Where the head ends in `bytes` (the length of the head with its empty
    /// line), or nil while it has not ended. `from` is where to resume the
    /// search after more bytes arrived: the previous length less 3, so an
    /// ending split across two reads is found.
    static func end(in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = max(0, from)
        while i < bytes.count {
            if bytes[i] == lf {
                if i + 1 < bytes.count, bytes[i + 1] == lf { return i + 2 }
                if i + 2 < bytes.count, bytes[i + 1] == cr, bytes[i + 2] == lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Parses a whole head (`bytes` up to what `end` returned); nil when it
    /// is not an HTTP response head.
    init?(parsing bytes: UnsafeRawBufferPointer) {
        var lines = Lines(bytes)
        guard let statusLine = lines.next(), let parsed = Self.statusLine(statusLine) else { return nil }
        status = parsed.status
        isHTTP10 = parsed.isHTTP10
        while let line = lines.next() {
            if line.isEmpty { return }  // the head's end
            // An obsolete folded line continues a header none of ours uses.
            if line[0] == space || line[0] == tab { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                  !line[0..<colon].contains(where: { $0 == space || $0 == tab })
            else { return nil }
            let name = line[0..<colon]
            let value = Self.trimmed(line[(colon + 1)...])
            if Self.name(name, is: "content-length") {
                // Two different lengths: no length at all (the body is then
                // read until the server closes, which the engine never does).
                let text = String(decoding: value, as: UTF8.self)
                contentLength = contentLength.map { $0 == text ? text : "" } ?? text
            } else if Self.name(name, is: "transfer-encoding") {
                transferEncoding = Self.joined(transferEncoding, value)
            } else if Self.name(name, is: "connection") {
                connection = Self.joined(connection, value)
            } else if Self.name(name, is: "retry-after") {
                retryAfter = String(decoding: value, as: UTF8.self)
            }
        }
        if lines.malformed { return nil }
    }

    init(status: Int) {
        self.status = status
    }

    /// Whether the server lets the connection carry the next request: not
    /// after `Connection: close`, nor from HTTP/1.0 without keep-alive.
    var keepsConnection: Bool {
        let tokens = connection?.lowercased() ?? ""
        if tokens.containsText("close") { return false }
        return !isHTTP10 || tokens.containsText("keep-alive")
    }

    /// `Retry-After: <seconds>` (the date form is not honoured: the retry
    /// rules apply instead).
    var retryAfterSeconds: Int? {
        guard let retryAfter, let seconds = Int(retryAfter), seconds >= 0 else { return nil }
        return seconds
    }

    // MARK: Parsing

    /// `HTTP/x.y SP 3DIGIT [SP reason]`.
    private static func statusLine(_ line: UnsafeRawBufferPointer) -> (status: Int, isHTTP10: Bool)? {
        guard let space1 = line.firstIndex(of: space) else { return nil }
        let version = line[0..<space1]
        guard version.starts(with: "HTTP/".utf8) else { return nil }
        let rest = line[(space1 + 1)...]
        let digits = rest.prefix { $0 != space }
        guard digits.count == 3, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let status = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard status >= 100 else { return nil }
        return (status, version.elementsEqual("HTTP/1.0".utf8))
    }

    private static func name(_ name: Slice<UnsafeRawBufferPointer>, is lowercase: StaticString) -> Bool {
        guard name.count == lowercase.utf8CodeUnitCount else { return false }
        let pattern = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return zip(name, pattern).allSatisfy { $0 | 0x20 == $1 }
    }

    private static func trimmed(_ value: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var value = value
        while let first = value.first, first == space || first == tab { value = value.dropFirst() }
        while let last = value.last, last == space || last == tab { value = value.dropLast() }
        return value
    }

    private static func joined(_ earlier: String?, _ value: Slice<UnsafeRawBufferPointer>) -> String {
        let text = String(decoding: value, as: UTF8.self)
        return earlier.map { $0 + ", " + text } ?? text
    }
}

/// The lines of a head, each without its LF or CRLF; `malformed` once a
/// line holds a control character (a tab aside) or a CR not before its LF.
private struct Lines {
    private let bytes: UnsafeRawBufferPointer
    private var start = 0
    private(set) var malformed = false

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard !malformed, start < bytes.count else { return nil }
        var i = start
        while i < bytes.count, bytes[i] != lf { i += 1 }
        guard i < bytes.count else { return nil }  // no LF: not a whole line
        var end = i
        if end > start, bytes[end - 1] == cr { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        start = i + 1
        if line.contains(where: { $0 < space && $0 != tab }) {
            malformed = true
            return nil
        }
        return line
    }
}

private let lf = UInt8(ascii: "\n")
private let cr = UInt8(ascii: "\r")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
