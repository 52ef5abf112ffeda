import WebhookCore

/// What is left of a response's body after its head, as a plain value: the
/// connection feeds it the bytes it reads and it says whether the body is
/// over. No I/O, so every framing, and every way an endpoint can get one
/// wrong, is tested without a socket (`ResponseBodyTests`).
///
/// Why the engine reads bodies itself: nng's `nng_http_conn_transact` keeps
/// the whole body in memory (an endpoint answering with an endless chunked
/// body grew a broker by a gigabyte in two seconds) and takes a `100
/// Continue` for the answer. The webhook only needs the status; the body is
/// read, discarded, only to keep the connection usable, and only up to
/// `limit` bytes: past that the connection is closed instead.
struct ResponseBody {
    enum Framing: Equatable {
        /// No body: 1xx, 204, 304, or `Content-Length: 0`.
        case none
        /// `Content-Length: n`.
        case length(Int)
        /// `Transfer-Encoding: chunked`.
        case chunked
        /// Neither: the body ends when the server closes the connection.
        case untilClose
    }

    enum Progress: Equatable {
        /// Read more.
        case needMore
        /// The body is over; the connection can carry the next request.
        case complete
        /// Not worth reading (past `limit`, or delimited by closing), or not
        /// HTTP (a broken chunk): the status stands, the connection closes.
        case abandon
    }

    let framing: Framing
    private let limit: Int
    private var read = 0
    private var chunk = ChunkDecoder()

    /// The framing a response's head announces. `contentLength` and
    /// `transferEncoding` are the header values, nil when absent.
    init(status: Int, contentLength: String?, transferEncoding: String?, limit: Int) {
        self.limit = limit
        if (100..<200).contains(status) || status == 204 || status == 304 {
            framing = .none
        } else if let encoding = transferEncoding, encoding.lowercased().containsText("chunked") {
            framing = .chunked
        } else if let text = contentLength {
            let trimmed = text.trimmingSpaces()
            if let n = Int(trimmed), n >= 0, trimmed.allSatisfy({ $0.isNumber }) {
                framing = n == 0 ? .none : .length(n)
            } else {
                framing = .untilClose  // unreadable length: only closing can end it safely
            }
        } else {
            framing = .untilClose
        }
    }

    /// Where reading starts: done already, worth reading, or better closed.
    var initialProgress: Progress {
        switch framing {
        case .none: return .complete
        case .length(let n): return n <= limit ? .needMore : .abandon
        case .chunked: return .needMore
        case .untilClose: return .abandon
        }
    }

    /// How many bytes the next read may ask for without reading past the
    /// body (for a length-delimited body) or past `buffer`.
    func nextReadSize(buffer: Int) -> Int {
        if case .length(let n) = framing { return min(buffer, n - read) }
        return buffer
    }

    /// Takes the next bytes read from the connection, all of which must be
    /// the body's: bytes past its end are not an answer to anything sent.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Progress {
        let (progress, used) = take(bytes)
        return progress == .complete && used < bytes.count ? .abandon : progress
    }

    /// Takes the next bytes read from a connection that pipelines, where
    /// the bytes after the body's end are the next answer's: returns how
    /// many of `bytes` were the body's.
    mutating func take(_ bytes: UnsafeRawBufferPointer) -> (Progress, used: Int) {
        switch framing {
        case .none, .untilClose:
            return (.abandon, 0)
        case .length(let n):
            let used = min(bytes.count, n - read)
            read += used
            return (read == n ? .complete : .needMore, used)
        case .chunked:
            for (i, byte) in bytes.enumerated() {
                switch chunk.take(byte) {
                case .more: continue
                case .data: read += 1
                case .end: return (.complete, i + 1)
                case .malformed: return (.abandon, i)
                }
                if read > limit { return (.abandon, i + 1) }
            }
            return (.needMore, bytes.count)
        }
    }
}

/// `Transfer-Encoding: chunked`, one byte at a time: hex size [;ext] CRLF,
/// data, CRLF, ..., a zero size, trailer lines, an empty line.
struct ChunkDecoder {
    enum Outcome { case more, data, end, malformed }

    private enum State {
        case size, sizeExtension, sizeLF, data, dataCR, dataLF, trailerStart, trailerLine, trailerLF, finalLF
    }

    private var state = State.size
    private var remaining = 0
    private var digits = 0

    mutating func take(_ byte: UInt8) -> Outcome {
        switch state {
        case .size:
            if let value = Self.hex(byte) {
                guard digits < 15 else { return .malformed }
                remaining = remaining << 4 | value
                digits += 1
                return .more
            }
            guard digits > 0 else { return .malformed }
            if byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                state = .sizeExtension
                return .more
            }
            guard byte == UInt8(ascii: "\r") else { return .malformed }
            state = .sizeLF
            return .more
        case .sizeExtension:
            if byte == UInt8(ascii: "\r") { state = .sizeLF }
            return .more
        case .sizeLF:
            guard byte == UInt8(ascii: "\n") else { return .malformed }
            digits = 0
            state = remaining == 0 ? .trailerStart : .data
            return .more
        case .data:
            remaining -= 1
            if remaining == 0 { state = .dataCR }
            return .data
        case .dataCR:
            guard byte == UInt8(ascii: "\r") else { return .malformed }
            state = .dataLF
            return .more
        case .dataLF:
            guard byte == UInt8(ascii: "\n") else { return .malformed }
            state = .size
            return .more
        case .trailerStart:
            if byte == UInt8(ascii: "\r") { state = .finalLF; return .more }
            state = .trailerLine
            return .more
        case .trailerLine:
            if byte == UInt8(ascii: "\r") { state = .trailerLF }
            return .more
        case .trailerLF:
            guard byte == UInt8(ascii: "\n") else { return .malformed }
            state = .trailerStart
            return .more
        case .finalLF:
            return byte == UInt8(ascii: "\n") ? .end : .malformed
        }
    }

    private static func hex(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
