/// NanoMQ's base62: the payload read as one big-endian unsigned integer and
/// written in radix 62 (`0-9A-Za-z`, most significant digit first), with one
/// `0` in front for each leading zero byte. Empty input gives "".
///
/// NanoMQ converts byte by byte, O(n²) in single-byte steps. This works on
/// 32-bit limbs and peels off five base-62 digits per pass (62⁵ < 2³²), with a
/// division by a constant the compiler turns into a multiply: the same
/// quadratic shape, about 40 times fewer and cheaper steps.
public enum Base62 {
    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    /// 62⁵: five digits per division pass.
    private static let chunkRadix: UInt64 = 916_132_832

    public static func encode<C: Collection>(_ input: C, into out: inout [UInt8]) where C.Element == UInt8 {
        let bytes = Array(input)
        var leadingZeros = 0
        while leadingZeros < bytes.count, bytes[leadingZeros] == 0 { leadingZeros += 1 }
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: leadingZeros))
        let significant = bytes[leadingZeros...]
        if significant.isEmpty { return }

        // Big-endian 32-bit limbs, the first one partial.
        var limbs = [UInt32](repeating: 0, count: (significant.count + 3) / 4)
        var index = 0
        let head = significant.count % 4 == 0 ? 4 : significant.count % 4
        var cursor = significant.startIndex
        for limb in 0..<limbs.count {
            let take = limb == 0 ? head : 4
            var value: UInt32 = 0
            for _ in 0..<take {
                value = value << 8 | UInt32(significant[cursor])
                cursor += 1
            }
            limbs[limb] = value
        }

        // Repeated division by 62⁵, least significant chunk first.
        var chunks: [UInt32] = []
        chunks.reserveCapacity(significant.count * 8 / 29 + 2)
        limbs.withUnsafeMutableBufferPointer { limbs in
            var first = 0
            while first < limbs.count {
                var remainder: UInt64 = 0
                for i in first..<limbs.count {
                    let value = remainder << 32 | UInt64(limbs[i])
                    let quotient = value / chunkRadix
                    remainder = value - quotient * chunkRadix
                    limbs[i] = UInt32(truncatingIfNeeded: quotient)
                }
                chunks.append(UInt32(remainder))
                while first < limbs.count, limbs[first] == 0 { first += 1 }
            }
        }
        index = chunks.count - 1

        // Most significant chunk without leading zero digits, the rest padded to 5.
        alphabet.withUnsafeBufferPointer { table in
            var digits: [UInt8] = []
            var top = chunks[index]
            while top > 0 {
                digits.append(table[Int(top % 62)])
                top /= 62
            }
            out.append(contentsOf: digits.reversed())
            var five = [UInt8](repeating: 0, count: 5)
            while index > 0 {
                index -= 1
                var chunk = chunks[index]
                for d in stride(from: 4, through: 0, by: -1) {
                    five[d] = table[Int(chunk % 62)]
                    chunk /= 62
                }
                out.append(contentsOf: five)
            }
        }
    }

    public static func encode<C: Collection>(_ input: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        encode(input, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
