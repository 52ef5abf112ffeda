/// A HOCON parser for real `nanomq.conf` files.
///
/// It reads the subset of HOCON that NanoMQ's configs use (spec/config.md):
/// `=`/`:`/`{` separators, dotted and quoted keys, object merging, arrays with
/// commas or newlines, `#` and `//` comments, quoted, triple-quoted and
/// unquoted strings, value concatenation, `include`, and `${VAR}` / `${?VAR}`
/// from the environment (also inside quoted strings, as NanoMQ users write
/// `"Bearer ${TOKEN}"`). Substitutions never refer to other config paths.
///
/// It works on bytes, tracks line and column for every value, and never
/// nests deeper than `maxDepth`, counting braces, brackets, the parts of a
/// dotted key (`a.b.c = 1` is three objects deep) and the files that
/// include each other: the parser and every later walk of the tree recurse
/// once a level, and a broker may call `webhook_init` on a thread with a
/// small stack, so a hostile file is an error, not a crash.
struct HOCONParser {
    /// Reads and parses an included file; the loader owns cycle detection.
    /// `depth`: how deep the include stands, where the included file's own
    /// nesting starts.
    typealias IncludeHandler = (_ path: String, _ at: SourceLocation, _ depth: Int) throws(ConfigError) -> ConfigObject

    static let maxDepth = 64

    private let bytes: [UInt8]
    private let file: String
    private let environment: Environment
    private let include: IncludeHandler
    private var pos = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    /// Keys of the objects being parsed, so errors name `webhook.events`, not `events`.
    private var keyStack: [String] = []

    /// `depth`: the nesting the text starts at (an included file's is its include's).
    init(bytes: [UInt8], file: String, environment: Environment, depth: Int = 0, include: @escaping IncludeHandler) {
        self.bytes = bytes
        self.file = file
        self.environment = environment
        self.depth = depth
        self.include = include
    }

    private func tooDeep() -> ConfigError {
        error("objects and arrays nest deeper than \(Self.maxDepth) levels")
    }

    // MARK: Entry points

    /// A whole file: members at the top level, or one `{ ... }` object.
    mutating func parseDocument() throws(ConfigError) -> ConfigObject {
        skipBlankAndComments(separators: false)
        let object: ConfigObject
        if peek() == UInt8(ascii: "{") {
            let open = location()
            advance()
            object = try parseMembers(closedBy: UInt8(ascii: "}"), openedAt: open)
        } else {
            object = try parseMembers(closedBy: nil, openedAt: location())
        }
        skipBlankAndComments(separators: true)
        if pos < bytes.count {
            throw error("unexpected \(describe(bytes[pos])) after the end of the document")
        }
        return object
    }

    /// One value standing alone (a legacy rule's JSON object).
    mutating func parseStandaloneValue() throws(ConfigError) -> ConfigNode? {
        skipSpaces()
        let node = try parseValue(key: "value")
        skipSpaces()
        skipComment()
        if pos < bytes.count && !isNewline(bytes[pos]) {
            throw error("unexpected \(describe(bytes[pos])) after the value")
        }
        return node
    }

    // MARK: Objects

    private mutating func parseMembers(closedBy close: UInt8?, openedAt open: SourceLocation) throws(ConfigError) -> ConfigObject {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw tooDeep() }

        var object = ConfigObject()
        while true {
            skipBlankAndComments(separators: true)
            guard pos < bytes.count else {
                if close != nil { throw ConfigError("unterminated object: '{' opened at \(open.line):\(open.column) is never closed", at: location()) }
                return object
            }
            let c = bytes[pos]
            if let close, c == close {
                advance()
                return object
            }
            if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                throw error("unexpected \(describe(c))")
            }
            if atIncludeKeyword() {
                object.merge(try parseInclude())
            } else {
                try parseMember(into: &object)
            }
            // A member ends at a newline, a comma, the closing brace or the end.
            skipSpaces()
            skipComment()
            if pos < bytes.count {
                let next = bytes[pos]
                if next == UInt8(ascii: "}") || next == UInt8(ascii: "]"), next != close {
                    throw error("unexpected \(describe(next))")
                }
                if !(isNewline(next) || next == UInt8(ascii: ",") || next == close) {
                    throw error("expected a newline or ',' after a value, got \(describe(next))")
                }
            }
        }
    }

    private mutating func parseMember(into object: inout ConfigObject) throws(ConfigError) {
        let path = try parseKeyPath()
        let keyName = (keyStack + path).joined(separator: ".")
        keyStack.append(contentsOf: path)
        defer { keyStack.removeLast(path.count) }
        skipSpaces()
        var node: ConfigNode?
        switch peek() {
        case UInt8(ascii: "{"):
            node = try parseValue(key: keyName)
        case UInt8(ascii: "="), UInt8(ascii: ":"):
            advance()
            skipSpaces()
            node = try parseValue(key: keyName)
        case UInt8(ascii: "+") where peek(1) == UInt8(ascii: "="):
            throw ConfigError("'+=' is not supported; write the whole array", at: location(), key: keyName)
        case nil:
            throw ConfigError("expected '=', ':' or '{' after the key, got the end of the file", at: location(), key: keyName)
        case let c?:
            throw ConfigError("expected '=', ':' or '{' after the key, got \(describe(c))", at: location(), key: keyName)
        }
        // `${?VAR}` with VAR unset leaves the key out (HOCON's rule).
        if let node { object.assign(path: path[...], node) }
    }

    /// The parts of a key. Each part but the last opens an object, so a key
    /// with more parts than the nesting has left is an error (before the
    /// rest of it is read: a hostile key may have millions).
    private mutating func parseKeyPath() throws(ConfigError) -> [String] {
        var segments: [String] = []
        while true {
            if depth + segments.count > Self.maxDepth {
                throw error("a dotted key nests deeper than \(Self.maxDepth) levels")
            }
            if peek() == UInt8(ascii: "\"") {
                segments.append(try parseQuotedString(substitute: false))
            } else {
                let start = pos
                while pos < bytes.count, isKeyByte(bytes[pos]), !atLineComment() { pos += 1 }
                if start == pos {
                    if let c = peek() { throw error("expected a key, got \(describe(c))") }
                    throw error("expected a key, got the end of the file")
                }
                // Bytes that are not UTF-8 are kept, escaped, so a message names the key as written.
                segments.append(Quoting.escaping(bytes: bytes[start..<pos]))
            }
            guard peek() == UInt8(ascii: ".") else { return segments }
            advance()
        }
    }

    // MARK: include

    private func atIncludeKeyword() -> Bool {
        let word = Array("include".utf8)
        guard pos + word.count < bytes.count, Array(bytes[pos..<pos + word.count]) == word else { return false }
        let after = bytes[pos + word.count]
        return after == UInt8(ascii: " ") || after == UInt8(ascii: "\t")
    }

    /// `include "f"`, `include file("f")`, `include required("f")`, `include required(file("f"))`.
    private mutating func parseInclude() throws(ConfigError) -> ConfigObject {
        let at = location()
        pos += "include".utf8.count
        skipSpaces()
        var wrappers = 0
        while true {
            let start = pos
            while pos < bytes.count, isLetter(bytes[pos]) { pos += 1 }
            let word = String(decoding: bytes[start..<pos], as: UTF8.self)
            if word.isEmpty { break }
            guard word == "required" || word == "file", peek() == UInt8(ascii: "(") else {
                throw ConfigError("expected a quoted file name after include, got '\(word)'", at: at, key: "include")
            }
            advance()
            wrappers += 1
        }
        guard peek() == UInt8(ascii: "\"") else {
            throw ConfigError("expected a quoted file name after include", at: location(), key: "include")
        }
        let name = try parseQuotedString(substitute: true)
        for _ in 0..<wrappers {
            skipSpaces()
            guard peek() == UInt8(ascii: ")") else { throw ConfigError("expected ')'", at: location(), key: "include") }
            advance()
        }
        return try include(FileSystem.resolve(name, relativeTo: file), at, depth)
    }

    // MARK: Values

    private mutating func parseValue(key: String) throws(ConfigError) -> ConfigNode? {
        let at = location()
        switch peek() {
        case UInt8(ascii: "{"):
            advance()
            return ConfigNode(.object(try parseMembers(closedBy: UInt8(ascii: "}"), openedAt: at)), at: at)
        case UInt8(ascii: "["):
            advance()
            return ConfigNode(.array(try parseArray(key: key, openedAt: at)), at: at)
        default:
            return try parseConcatenation(key: key)
        }
    }

    private mutating func parseArray(key: String, openedAt open: SourceLocation) throws(ConfigError) -> [ConfigNode] {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth { throw tooDeep() }

        var elements: [ConfigNode] = []
        while true {
            skipBlankAndComments(separators: true)
            guard let c = peek() else {
                throw ConfigError("unterminated array: '[' opened at \(open.line):\(open.column) is never closed", at: location(), key: key)
            }
            if c == UInt8(ascii: "]") {
                advance()
                return elements
            }
            if let element = try parseValue(key: "\(key)[\(elements.count)]") {
                elements.append(element)
            }
            skipSpaces()
            skipComment()
            if let next = peek(), !(isNewline(next) || next == UInt8(ascii: ",") || next == UInt8(ascii: "]")) {
                throw ConfigError("expected ',' or ']' after an array element, got \(describe(next))", at: location(), key: key)
            }
        }
    }

    /// A run of quoted strings, unquoted text and substitutions on one line,
    /// joined into one string (HOCON value concatenation). Returns nil when the
    /// value is only unset `${?VAR}`s, so the key is left out.
    private mutating func parseConcatenation(key: String) throws(ConfigError) -> ConfigNode? {
        let at = location()
        let valueStart = pos
        var parts: [(text: String, quoted: Bool)] = []
        var sawUnsetOptional = false
        while let c = peek(), !isValueEnd(c) {
            if c == UInt8(ascii: "\"") {
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                    parts.append((try parseTripleQuotedString(), true))
                } else {
                    parts.append((try parseQuotedString(substitute: true), true))
                }
            } else if c == UInt8(ascii: "$"), peek(1) == UInt8(ascii: "{") {
                if let value = try parseSubstitution(key: key) {
                    parts.append((value, true))
                } else {
                    sawUnsetOptional = true
                }
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                throw ConfigError("unexpected \(describe(c)) inside a value", at: location(), key: key)
            } else {
                let start = pos
                while let u = peek(), !isValueEnd(u), u != UInt8(ascii: "\""),
                      !(u == UInt8(ascii: "$") && peek(1) == UInt8(ascii: "{")),
                      u != UInt8(ascii: "{"), u != UInt8(ascii: "[") {
                    pos += 1
                }
                parts.append((String(decoding: bytes[start..<pos], as: UTF8.self), false))
            }
        }
        // Spaces before a comment or the end of the line are not part of the value.
        if let last = parts.last, !last.quoted {
            let trimmed = trimmedTrailingSpaces(last.text)
            parts.removeLast()
            if !trimmed.isEmpty { parts.append((trimmed, false)) }
        }
        if parts.isEmpty {
            if sawUnsetOptional { return nil }
            throw ConfigError("expected a value", at: at, key: key)
        }
        if parts.count == 1, !parts[0].quoted, parts[0].text == "null" {
            return ConfigNode(.null, at: at)
        }
        let text = parts.map { $0.text }.joined()
        let invalid = Quoting.firstInvalidUTF8(bytes[valueStart..<pos]).map { location(ofByte: valueStart + $0, from: valueStart, at: at) }
        return ConfigNode(.scalar(text, quoted: parts.contains { $0.quoted }), at: at, invalidUTF8At: invalid)
    }

    /// `${NAME}` (must be set) or `${?NAME}` (nil when unset).
    private mutating func parseSubstitution(key: String) throws(ConfigError) -> String? {
        let at = location()
        pos += 2
        let optional = peek() == UInt8(ascii: "?")
        if optional { advance() }
        let start = pos
        while let c = peek(), c != UInt8(ascii: "}") {
            if isNewline(c) { break }
            pos += 1
        }
        guard peek() == UInt8(ascii: "}") else {
            throw ConfigError("unterminated substitution: '${' has no closing '}'", at: at, key: key)
        }
        let name = String(decoding: bytes[start..<pos], as: UTF8.self).trimmingSpaces()
        advance()
        if name.isEmpty { throw ConfigError("empty substitution '${}'", at: at, key: key) }
        if let value = environment.value(name) { return value }
        if optional { return nil }
        throw ConfigError("environment variable \(name) is not set (write ${?\(name)} to make it optional)", at: at, key: key)
    }

    private mutating func parseTripleQuotedString() throws(ConfigError) -> String {
        let at = location()
        pos += 3
        let start = pos
        while pos < bytes.count {
            if bytes[pos] == UInt8(ascii: "\""), peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                // Extra quotes before the closing three belong to the string.
                var end = pos
                while peek(3) == UInt8(ascii: "\"") { pos += 1; end += 1 }
                let text = String(decoding: bytes[start..<end], as: UTF8.self)
                pos += 3
                return text
            }
            if bytes[pos] == UInt8(ascii: "\n") { newLine(after: pos) }
            pos += 1
        }
        throw ConfigError("unterminated triple-quoted string", at: at)
    }

    /// A JSON string. With `substitute`, `${VAR}` inside it is expanded.
    private mutating func parseQuotedString(substitute: Bool) throws(ConfigError) -> String {
        let at = location()
        advance()
        var out: [UInt8] = []
        while true {
            guard let c = peek(), !isNewline(c) else {
                throw ConfigError("unterminated string: no closing '\"' on this line", at: at)
            }
            switch c {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeAt = location()
                advance()
                do {
                    try parseEscape(into: &out)
                } catch {
                    throw ConfigError(error.message, at: escapeAt)
                }
            case UInt8(ascii: "$") where substitute && peek(1) == UInt8(ascii: "{"):
                let value = try parseSubstitution(key: "string")
                out.append(contentsOf: Array((value ?? "").utf8))
            default:
                out.append(c)
                advance()
            }
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(ConfigError) {
        guard let c = peek() else { throw error("unterminated escape sequence") }
        advance()
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800..<0xDC00).contains(scalar), peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") {
                pos += 2
                let low = try parseHex4()
                if (0xDC00..<0xE000).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    throw error("invalid surrogate pair in \\u escape")
                }
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape: lone surrogate") }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw error("invalid escape '\\\(String(decoding: [c], as: UTF8.self))' in a string")
        }
    }

    private mutating func parseHex4() throws(ConfigError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek(), let digit = hexValue(c) else { throw error("expected 4 hex digits after \\u") }
            value = value << 4 | UInt32(digit)
            advance()
        }
        return value
    }

    // MARK: Lexical helpers

    private func peek(_ offset: Int = 0) -> UInt8? {
        pos + offset < bytes.count ? bytes[pos + offset] : nil
    }

    private mutating func advance() { pos += 1 }

    private func location() -> SourceLocation {
        SourceLocation(file: file, line: line, column: pos - lineStart + 1)
    }

    /// Where byte `index` is, counting from `start`, which is at `at`
    /// (a triple-quoted value spans lines).
    private func location(ofByte index: Int, from start: Int, at: SourceLocation) -> SourceLocation {
        var place = at
        for byte in bytes[start..<index] {
            if isNewline(byte) { place.line += 1; place.column = 1 } else { place.column += 1 }
        }
        return place
    }

    private func error(_ message: String) -> ConfigError {
        ConfigError(message, at: location())
    }

    private mutating func newLine(after index: Int) {
        line += 1
        lineStart = index + 1
    }

    private mutating func skipSpaces() {
        while let c = peek(), c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == 0x0D || c == 0xEF && peek(1) == 0xBB && peek(2) == 0xBF {
            pos += c == 0xEF ? 3 : 1
        }
    }

    private mutating func skipComment() {
        if peek() == UInt8(ascii: "#") || atLineComment() {
            while let c = peek(), c != UInt8(ascii: "\n") { pos += 1 }
        }
    }

    /// Skips spaces, newlines and comments; with `separators`, commas too.
    private mutating func skipBlankAndComments(separators: Bool) {
        while true {
            skipSpaces()
            skipComment()
            guard let c = peek() else { return }
            if c == UInt8(ascii: "\n") {
                newLine(after: pos)
                pos += 1
            } else if separators && c == UInt8(ascii: ",") {
                pos += 1
            } else {
                return
            }
        }
    }

    private func atLineComment() -> Bool {
        peek() == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/")
    }

    private func isNewline(_ c: UInt8) -> Bool { c == UInt8(ascii: "\n") }

    private func isValueEnd(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "\n") || c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]")
            || c == UInt8(ascii: "#") || atLineComment()
    }

    private func isKeyByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), 0x0D,
             UInt8(ascii: "."), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "{"), UInt8(ascii: "}"),
             UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: "#"), UInt8(ascii: "\""),
             UInt8(ascii: "+"), UInt8(ascii: "$"):
            return false
        default:
            return true
        }
    }

    private func isLetter(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c)
    }

    private func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private func describe(_ c: UInt8) -> String {
        switch c {
        case 0x0A: return "a newline"
        case 0x20...0x7E: return "'\(String(decoding: [c], as: UTF8.self))'"
        default: return "byte 0x\(String(c, radix: 16))"
        }
    }

    private func trimmedTrailingSpaces(_ s: String) -> String {
        var s = Substring(s)
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
