import Foundation
import Testing
import TestKit
@testable import WebhookCore

/// The straightforward byte-by-byte radix conversion NanoMQ does: the
/// reference our word-based base62 must equal.
func referenceBase62(_ input: [UInt8]) -> String {
    let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    var zeros = 0
    while zeros < input.count, input[zeros] == 0 { zeros += 1 }
    var digits: [Int] = []  // least significant first
    for byte in input[zeros...] {
        var carry = Int(byte)
        for i in 0..<digits.count {
            carry += digits[i] * 256
            digits[i] = carry % 62
            carry /= 62
        }
        while carry > 0 {
            digits.append(carry % 62)
            carry /= 62
        }
    }
    return String(repeating: "0", count: zeros) + String(digits.reversed().map { alphabet[$0] })
}

@Suite struct EncodingTests {
    @Test func base64MatchesFoundation() {
        var rng = SeededRandom(state: 1)
        for size in [0, 1, 2, 3, 4, 5, 63, 64, 65, 1000, 4097] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString(), "size \(size)")
        }
        #expect(Base64.encode(Array("hello".utf8)) == "aGVsbG8=")
    }

    @Test func base62KnownValues() {
        #expect(Base62.encode([UInt8]()) == "")
        #expect(Base62.encode([0]) == "0")
        #expect(Base62.encode([0, 0]) == "00")
        #expect(Base62.encode([61]) == "z")
        #expect(Base62.encode([62]) == "10")
        #expect(Base62.encode([0, 62]) == "010")
        #expect(Base62.encode([255, 255, 255, 255]) == "4gfFC3")
        #expect(Base62.encode(Array("hello".utf8)) == referenceBase62(Array("hello".utf8)))
    }

    @Test func base62EqualsTheByteByByteReference() {
        var rng = SeededRandom(state: 42)
        var sizes = Array(0...40) + [63, 64, 65, 127, 128, 129, 255, 256, 257, 500, 1021, 2048]
        sizes += (0..<20).map { _ in Int.random(in: 1...3000, using: &rng) }
        for size in sizes {
            var bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base62.encode(bytes) == referenceBase62(bytes), "size \(size)")
            // The same with leading zero bytes, and with zeros inside and at the end.
            let zeros = Int.random(in: 1...5, using: &rng)
            bytes = [UInt8](repeating: 0, count: zeros) + bytes + [0, 0]
            #expect(Base62.encode(bytes) == referenceBase62(bytes), "size \(size) with \(zeros) leading zeros")
        }
        let allZero = [UInt8](repeating: 0, count: 17)
        #expect(Base62.encode(allZero) == String(repeating: "0", count: 17))
    }

    @Test func plainPayloadKeepsNULAndRepairsInvalidUTF8() throws {
        var json = JSONWriter()
        PayloadEncoding.plain.appendJSONString(ArraySlice([UInt8(ascii: "b"), UInt8(ascii: "i"), UInt8(ascii: "n"), 0, 0xFF, 0xFE]), to: &json)
        #expect(String(decoding: json.bytes, as: UTF8.self) == "\"bin\\u0000\u{FFFD}\u{FFFD}\"")
    }
}
