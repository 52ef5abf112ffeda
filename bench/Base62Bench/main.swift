// B8: base62 of a 64 KiB payload, against the plain byte-by-byte radix
// conversion NanoMQ does (written here, as the reference). Prints JSON.
//
//     swift run -c release base62-bench [BYTES]
import WebhookCore
#if canImport(Glibc)
import Glibc
#endif

/// NanoMQ's way: for each input byte, multiply the whole digit array by 256.
func referenceBase62(_ input: [UInt8]) -> [UInt8] {
    let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    var zeros = 0
    while zeros < input.count, input[zeros] == 0 { zeros += 1 }
    var digits: [Int] = []
    digits.reserveCapacity(input.count * 138 / 100 + 1)
    for byte in input[zeros...] {
        var carry = Int(byte)
        for i in 0..<digits.count {
            carry += digits[i] << 8
            digits[i] = carry % 62
            carry /= 62
        }
        while carry > 0 {
            digits.append(carry % 62)
            carry /= 62
        }
    }
    return [UInt8](repeating: UInt8(ascii: "0"), count: zeros) + digits.reversed().map { alphabet[$0] }
}

func seconds(_ body: () -> Void) -> Double {
    var start = timespec(), end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    body()
    clock_gettime(CLOCK_MONOTONIC, &end)
    return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
}

let size = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 65536 : 65536
var state: UInt64 = 0x2545F4914F6CDD1D
let payload: [UInt8] = (0..<size).map { _ in
    state ^= state << 13; state ^= state >> 7; state ^= state << 17
    return UInt8(truncatingIfNeeded: state)
}

var fast: [UInt8] = []
var fastRuns = 0
let fastTime = seconds {
    repeat {
        fast = []
        Base62.encode(payload, into: &fast)
        fastRuns += 1
    } while fastRuns < 5
} / Double(fastRuns)
var reference: [UInt8] = []
let referenceTime = seconds { reference = referenceBase62(payload) }

print("{\"bytes\": \(size), \"identical\": \(fast == reference), \"library_ms\": \(fastTime * 1000), "
      + "\"reference_ms\": \(referenceTime * 1000), \"speedup\": \(referenceTime / fastTime)}")
exit(fast == reference ? 0 : 1)
