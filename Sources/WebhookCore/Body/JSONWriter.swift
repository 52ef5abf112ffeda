/// A small append-only JSON writer for the request bodies (the hot path of
/// delivery, so no intermediate dictionaries and no Foundation).
///
/// Strings are escaped per RFC 8259 the way cJSON (and so NanoMQ) does it:
/// `"` `\` and control characters, `/` left alone. Bytes that are not valid
/// UTF-8 become U+FFFD, one per maximal ill-formed subsequence (the Unicode
/// recommendation, the same as Swift's `String(decoding:as:)`), so whatever
/// the broker passed, the body is valid JSON.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// `"name":` (names are fixed ASCII identifiers, never escaped).
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func null() {
        separate()
        append("null")
    }

    public mutating func bool(_ value: Bool) {
        separate()
        append(value ? "true" : "false")
    }

    public mutating func integer<I: BinaryInteger>(_ value: I) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = UInt64(value.magnitude)
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// A string from text the library itself produced (names, reasons).
    public mutating func string(_ value: String) {
        string(Array(value.utf8))
    }

    /// A string from bytes the broker passed: escaped and UTF-8-repaired.
    public mutating func string<C: Collection>(_ value: C) where C.Element == UInt8, C.Index == Int {
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendEscaped(value)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string whose content `write` appends and guarantees needs no
    /// escaping (base64 and base62 digits).
    public mutating func rawString(_ write: (inout [UInt8]) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        write(&bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    // MARK: Internals

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendEscaped<C: Collection>(_ input: C) where C.Element == UInt8, C.Index == Int {
        var i = input.startIndex
        let end = input.endIndex
        while i < end {
            // Runs of plain ASCII are copied in one go.
            var run = i
            while run < end {
                let c = input[run]
                if c < 0x20 || c >= 0x80 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { break }
                run += 1
            }
            if run > i {
                bytes.append(contentsOf: input[i..<run])
                i = run
                if i == end { break }
            }
            let c = input[i]
            if c < 0x80 {
                appendEscapedASCII(c)
                i += 1
                continue
            }
            let length = Self.validSequenceLength(input, at: i)
            if length > 0 {
                bytes.append(contentsOf: input[i..<i + length])
                i += length
            } else {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                i += Self.illFormedLength(input, at: i)
            }
        }
    }

    private mutating func appendEscapedASCII(_ c: UInt8) {
        switch c {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        default:
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                      Self.hex[Int(c >> 4)], Self.hex[Int(c & 15)]])
        }
    }

    /// The range the second byte of a sequence must fall in, per lead byte
    /// (Unicode Table 3-7: no overlongs, no surrogates, nothing past U+10FFFF).
    @inline(__always)
    private static func sequenceShape(_ lead: UInt8) -> (length: Int, low: UInt8, high: UInt8)? {
        switch lead {
        case 0xC2...0xDF: return (2, 0x80, 0xBF)
        case 0xE0: return (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: return (3, 0x80, 0xBF)
        case 0xED: return (3, 0x80, 0x9F)
        case 0xF0: return (4, 0x90, 0xBF)
        case 0xF1...0xF3: return (4, 0x80, 0xBF)
        case 0xF4: return (4, 0x80, 0x8F)
        default: return nil
        }
    }

    /// Length of the well-formed sequence at `i`, or 0.
    private static func validSequenceLength<C: Collection>(_ input: C, at i: Int) -> Int where C.Element == UInt8, C.Index == Int {
        guard let shape = sequenceShape(input[i]), i + shape.length <= input.endIndex else { return 0 }
        let second = input[i + 1]
        guard second >= shape.low && second <= shape.high else { return 0 }
        for k in 2..<shape.length where input[i + k] & 0xC0 != 0x80 { return 0 }
        return shape.length
    }

    /// Bytes of the maximal ill-formed subpart at `i` (at least 1).
    private static func illFormedLength<C: Collection>(_ input: C, at i: Int) -> Int where C.Element == UInt8, C.Index == Int {
        guard let shape = sequenceShape(input[i]) else { return 1 }
        var k = 1
        while k < shape.length, i + k < input.endIndex {
            let c = input[i + k]
            let ok = k == 1 ? (c >= shape.low && c <= shape.high) : (c & 0xC0 == 0x80)
            if !ok { break }
            k += 1
        }
        return k
    }
}
