/// A small append-only JSON writer for the request bodies (the hot path of
/// delivery, so no intermediate dictionaries and no Foundation).
///
/// Strings are escaped per RFC 8259 the way cJSON (and so NanoMQ) does it:
/// `"` `\` and control characters, `/` left alone. Bytes that are not valid
/// UTF-8 become U+FFFD, one per maximal ill-formed subsequence (the Unicode
/// recommendation, the same as Swift's `String(decoding:as:)`), so whatever
/// the broker passed, the body is valid JSON.
public struct JSONWriter: ~Copyable {
    // A raw, manually grown buffer: bodies are built for every event, and
    // Array.append's per-call checks made up most of the cost (callgrind).
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var needsComma = false

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    /// The JSON text so far.
    public var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: base, count: count))
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        separate()
        put(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        put(bracket)
        needsComma = true
    }

    /// `"name":` (names are fixed ASCII identifiers, never escaped).
    public mutating func key(_ name: StaticString) {
        separate()
        let length = name.utf8CodeUnitCount
        reserve(length + 3)
        base[count] = UInt8(ascii: "\"")
        (base + count + 1).update(from: name.utf8Start, count: length)
        base[count + 1 + length] = UInt8(ascii: "\"")
        base[count + 2 + length] = UInt8(ascii: ":")
        count += length + 3
        needsComma = false
    }

    public mutating func null() {
        separate()
        put("null")
    }

    public mutating func bool(_ value: Bool) {
        separate()
        put(value ? "true" : "false")
    }

    public mutating func integer<I: BinaryInteger>(_ value: I) {
        separate()
        reserve(21)
        if value < 0 {
            base[count] = UInt8(ascii: "-")
            count += 1
        }
        var magnitude = UInt64(value.magnitude)
        var digits = 1
        var probe = magnitude
        while probe >= 10 { probe /= 10; digits += 1 }
        var at = count + digits - 1
        repeat {
            base[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            at -= 1
        } while magnitude > 0
        count += digits
    }

    /// A string from text the library itself produced (names, reasons).
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string($0) }
    }

    /// A string from bytes the broker passed: escaped and UTF-8-repaired.
    public mutating func string<C: Collection>(_ value: C) where C.Element == UInt8, C.Index == Int {
        separate()
        put(UInt8(ascii: "\""))
        if value.withContiguousStorageIfAvailable({ appendEscaped($0) }) == nil {
            Array(value).withUnsafeBufferPointer { appendEscaped($0) }
        }
        put(UInt8(ascii: "\""))
    }

    /// A string whose content `write` appends and guarantees needs no
    /// escaping (base64 and base62 digits).
    public mutating func rawString(_ write: (inout [UInt8]) -> Void) {
        separate()
        var digits: [UInt8] = []
        write(&digits)
        reserve(digits.count + 2)
        base[count] = UInt8(ascii: "\"")
        digits.withUnsafeBufferPointer { (base + count + 1).update(from: $0.baseAddress!, count: $0.count) }
        base[count + 1 + digits.count] = UInt8(ascii: "\"")
        count += digits.count + 2
    }

    // MARK: Internals

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.initialize(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    private mutating func put(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        (base + count).update(from: text.utf8Start, count: length)
        count += length
    }

    private mutating func separate() {
        if needsComma { put(UInt8(ascii: ",")) }
        needsComma = true
    }

    /// Escapes `input` into the buffer. Reserves the worst case first
    /// (`\u00XX`, six bytes per input byte) so the loop stores without checks.
    private mutating func appendEscaped(_ input: UnsafeBufferPointer<UInt8>) {
        reserve(input.count * 6)
        var out = base + count
        var i = 0
        let end = input.count
        while i < end {
            let c = input[i]
            if c >= 0x20 && c < 0x80 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                out.pointee = c
                out += 1
                i += 1
                continue
            }
            if c < 0x80 {
                out = Self.writeEscapedASCII(c, at: out)
                i += 1
                continue
            }
            let length = Self.validSequenceLength(input, at: i)
            if length > 0 {
                for k in 0..<length { out[k] = input[i + k] }
                out += length
                i += length
            } else {
                out[0] = 0xEF; out[1] = 0xBF; out[2] = 0xBD  // U+FFFD
                out += 3
                i += Self.illFormedLength(input, at: i)
            }
        }
        count = out - base
    }

    private static func writeEscapedASCII(_ c: UInt8, at out: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        out[0] = UInt8(ascii: "\\")
        switch c {
        case UInt8(ascii: "\""): out[1] = UInt8(ascii: "\""); return out + 2
        case UInt8(ascii: "\\"): out[1] = UInt8(ascii: "\\"); return out + 2
        case 0x08: out[1] = UInt8(ascii: "b"); return out + 2
        case 0x0C: out[1] = UInt8(ascii: "f"); return out + 2
        case 0x0A: out[1] = UInt8(ascii: "n"); return out + 2
        case 0x0D: out[1] = UInt8(ascii: "r"); return out + 2
        case 0x09: out[1] = UInt8(ascii: "t"); return out + 2
        default:
            out[1] = UInt8(ascii: "u"); out[2] = UInt8(ascii: "0"); out[3] = UInt8(ascii: "0")
            out[4] = hexDigits[Int(c >> 4)]; out[5] = hexDigits[Int(c & 15)]
            return out + 6
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

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
    private static func validSequenceLength(_ input: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        guard let shape = sequenceShape(input[i]), i + shape.length <= input.endIndex else { return 0 }
        let second = input[i + 1]
        guard second >= shape.low && second <= shape.high else { return 0 }
        for k in 2..<shape.length where input[i + k] & 0xC0 != 0x80 { return 0 }
        return shape.length
    }

    /// Bytes of the maximal ill-formed subpart at `i` (at least 1).
    private static func illFormedLength(_ input: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
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
