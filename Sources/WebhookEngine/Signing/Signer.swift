import CMbedCrypto
import CNng
import WebhookCore

/// Signs requests the Standard Webhooks way (https://www.standardwebhooks.com):
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one
/// space-separated entry per secret, so a receiver that knows any of them
/// (rotation) can check the request. The HMAC is mbedtls'.
///
/// Per secret there are two HMAC contexts keyed once: `start` holds the
/// state right after the key's inner pad, and `work` signs. A signature
/// copies `start`'s hash state into `work` (`mbedtls_md_clone`) instead of
/// `mbedtls_md_hmac_reset`, which would hash the 64-byte pad again: one
/// SHA-256 block of the six a 200-byte body takes. Contexts are not
/// thread-safe: each connection has its own signer.
public struct Signer: ~Copyable {
    /// `start` of key i at 2i, its `work` at 2i + 1.
    private let contexts: UnsafeMutablePointer<mbedtls_md_context_t>
    private let count: Int

    /// Fails when mbedtls cannot allocate, or libnng (whose mbedtls this
    /// is) cannot be loaded.
    public init(keys: [[UInt8]]) throws(EngineError) {
        // Everything that can fail happens before `self` exists, so a
        // failure never reaches `deinit`.
        contexts = try Self.keyedContexts(keys)
        count = keys.count
    }

    /// Two HMAC-SHA256 contexts per key, both keyed: `start` and `work`.
    private static func keyedContexts(_ keys: [[UInt8]]) throws(EngineError) -> UnsafeMutablePointer<mbedtls_md_context_t> {
        try NngLibrary.load()
        let contexts = UnsafeMutablePointer<mbedtls_md_context_t>.allocate(capacity: max(1, 2 * keys.count))
        let sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256)
        for index in 0..<(2 * keys.count) {
            mbedtls_md_init(contexts + index)
            var rv = mbedtls_md_setup(contexts + index, sha256, 1)
            if rv == 0 { rv = keys[index / 2].withUnsafeBufferPointer { mbedtls_md_hmac_starts(contexts + index, $0.baseAddress, $0.count) } }
            if rv != 0 {
                for set in 0...index { mbedtls_md_free(contexts + set) }
                contexts.deallocate()
                throw rv == MBEDTLS_ERR_MD_ALLOC_FAILED
                    ? EngineError(nng: Int32(NNG_ENOMEM.rawValue), "cannot set up HMAC-SHA256 for signing")
                    : EngineError("cannot set up HMAC-SHA256 for signing: mbedtls error \(rv)")
            }
        }
        return contexts
    }

    deinit {
        for index in 0..<(2 * count) { mbedtls_md_free(contexts + index) }
        contexts.deallocate()
    }

    /// The `webhook-signature` header value for this id, timestamp (Unix
    /// seconds) and body, appended to `out`.
    public func appendSignature(id: String, timestamp: Int, body: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        // "<timestamp>." in a small buffer: no String for the number.
        var prefix = (UInt64(0), UInt64(0), UInt64(0))
        let prefixLength = withUnsafeMutableBytes(of: &prefix) { Self.writeDecimal(timestamp, then: UInt8(ascii: "."), into: $0) }
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var id = id
        id.withUTF8 { idBytes in
            withUnsafeBytes(of: &prefix) { prefixBytes in
                for index in 0..<count {
                    let start = contexts + 2 * index, work = contexts + 2 * index + 1
                    _ = mbedtls_md_clone(work, start)
                    _ = mbedtls_md_hmac_update(work, idBytes.baseAddress, idBytes.count)
                    var dot = UInt8(ascii: ".")
                    _ = mbedtls_md_hmac_update(work, &dot, 1)
                    _ = mbedtls_md_hmac_update(work, prefixBytes.baseAddress!.assumingMemoryBound(to: UInt8.self), prefixLength)
                    _ = mbedtls_md_hmac_update(work, body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count)
                    withUnsafeMutableBytes(of: &digest) { raw in
                        _ = mbedtls_md_hmac_finish(work, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        if index > 0 { out.append(UInt8(ascii: " ")) }
                        out.append(contentsOf: "v1,".utf8)
                        Base64.encode(UnsafeRawBufferPointer(raw), into: &out)
                    }
                }
            }
        }
    }

    /// The header value as a String (webhookctl, tests).
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var out: [UInt8] = []
        body.withUnsafeBytes { appendSignature(id: id, timestamp: timestamp, body: $0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` in decimal, then `then`; returns the length (at most 21).
    private static func writeDecimal(_ value: Int, then last: UInt8, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var digits = (UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var n = value.magnitude
            var count = 0
            repeat {
                scratch[count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            } while n > 0
            var length = 0
            if value < 0 { buffer[0] = UInt8(ascii: "-"); length = 1 }
            for i in stride(from: count - 1, through: 0, by: -1) {
                buffer[length] = scratch[i]
                length += 1
            }
            buffer[length] = last
            return length + 1
        }
    }
}
