// B13: what signing costs a delivery thread per request (Standard Webhooks,
// HMAC-SHA256 from mbedtls) for a 200-byte body, with one secret and with
// two (rotation), ids as the engine makes them. Prints JSON.
//
//     swift run -c release sign-bench [ROUNDS]
import WebhookCore
import WebhookEngine
#if canImport(Glibc)
import Glibc
#endif

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Median over 5 runs of `rounds` signatures: ns per signature.
func measure(_ signer: borrowing Signer, rounds: Int, body: [UInt8]) -> Double {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    // Ids as the engine makes them (it makes one per event, signed or not),
    // made before the clock starts: only signing is timed.
    let ids = (0..<1024).map { "3f2a9c01d4e5b6a7-3-\(100_000 + $0)" }
    var runs: [Double] = []
    for _ in 0..<5 {
        let start = nowNs()
        for i in 0..<rounds {
            out.removeAll(keepingCapacity: true)
            body.withUnsafeBytes { signer.appendSignature(id: ids[i & 1023], timestamp: 1_764_400_000 + i, body: $0, to: &out) }
        }
        runs.append(Double(nowNs() - start) / Double(rounds))
        precondition(out.starts(with: Array("v1,".utf8)))
    }
    return runs.sorted()[2]
}

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 200_000
// A publish body of exactly 200 bytes, as the issue's target says.
let body = Array(#"{"ts":1764400000000,"topic":"site/line7/temperature","retain":false,"qos":1,"action":"message_publish","from_username":"bench","from_client_id":"dev-0001","payload":"reading 00000001 t=21.50 h=40.00"}"#.utf8)
precondition(body.count == 200)
let key1 = [UInt8](repeating: 0x5a, count: 32), key2 = [UInt8](repeating: 0xa5, count: 24)
let one = try Signer(keys: [key1])
let two = try Signer(keys: [key1, key2])
print("{\"body_bytes\": \(body.count), \"rounds\": \(rounds), \"ns_per_signature_one_secret\": \(measure(one, rounds: rounds, body: body)), \"ns_per_signature_two_secrets\": \(measure(two, rounds: rounds, body: body))}")
