/// RFC 4648 base64, standard alphabet, `=` padding: NanoMQ's output.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode<C: Collection>(_ input: C, into out: inout [UInt8]) where C.Element == UInt8 {
        out.reserveCapacity(out.count + (input.count + 2) / 3 * 4)
        alphabet.withUnsafeBufferPointer { table in
            var iterator = input.makeIterator()
            while let a = iterator.next() {
                let b = iterator.next()
                let c = iterator.next()
                let word = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
                out.append(table[Int(word >> 18 & 63)])
                out.append(table[Int(word >> 12 & 63)])
                out.append(b == nil ? UInt8(ascii: "=") : table[Int(word >> 6 & 63)])
                out.append(c == nil ? UInt8(ascii: "=") : table[Int(word & 63)])
            }
        }
    }

    public static func encode<C: Collection>(_ input: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        encode(input, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
