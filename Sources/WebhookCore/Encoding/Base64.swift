/// RFC 4648 base64, standard alphabet, `=` padding: NanoMQ's output.
public enum Base64 {
    @usableFromInline static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Inlinable so callers in other modules get it specialized for their
    /// collection (unspecialized, each byte went through a witness table:
    /// an eighth of a signature's cost).
    @inlinable
    public static func encode<C: Collection>(_ input: C, into out: inout [UInt8]) where C.Element == UInt8 {
        // Sized once and filled in place (appending byte by byte checked
        // the array's uniqueness and capacity for every character).
        var o = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "="), count: (input.count + 2) / 3 * 4))
        out.withUnsafeMutableBufferPointer { buffer in
            alphabet.withUnsafeBufferPointer { table in
                var iterator = input.makeIterator()
                while let a = iterator.next() {
                    let b = iterator.next()
                    let c = iterator.next()
                    let word = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
                    buffer[o] = table[Int(word >> 18 & 63)]
                    buffer[o + 1] = table[Int(word >> 12 & 63)]
                    if b != nil { buffer[o + 2] = table[Int(word >> 6 & 63)] }
                    if c != nil { buffer[o + 3] = table[Int(word & 63)] }
                    o += 4
                }
            }
        }
    }

    public static func encode<C: Collection>(_ input: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        encode(input, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Strict decoding (standard alphabet, `=` padding optional): nil for
    /// anything else. Reads secrets from config, never broker data.
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        var out: [UInt8] = []
        var word: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let value = sextet(c) else { return nil }
            word = word << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: word >> UInt32(bits)))
            }
        }
        let length = text.count
        // Leftover bits must be zero padding bits; `=` only completes a quantum.
        guard bits < 6, word & ((1 << UInt32(bits)) - 1) == 0, padding <= 2,
              padding == 0 || length % 4 == 0 else { return nil }
        return out
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
