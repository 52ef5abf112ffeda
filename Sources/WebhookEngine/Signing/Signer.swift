import CMbedCrypto
import CNng
import WebhookCore

/// Signs requests the Standard Webhooks way (https://www.standardwebhooks.com):
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one
/// space-separated entry per secret, so a receiver that knows any of them
/// (rotation) can check the request. The HMAC is mbedtls'.
///
/// Each key's HMAC context is keyed once and reset per signature, so a
/// signature costs the hash of the content and no key setup. A context is
/// not thread-safe: each connection has its own signer.
public struct Signer: ~Copyable {
    private let contexts: UnsafeMutablePointer<mbedtls_md_context_t>
    private let count: Int

    /// Fails only when mbedtls cannot allocate.
    public init(keys: [[UInt8]]) throws(EngineError) {
        count = keys.count
        contexts = .allocate(capacity: max(1, keys.count))
        let sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256)
        for (index, key) in keys.enumerated() {
            mbedtls_md_init(contexts + index)
            var rv = mbedtls_md_setup(contexts + index, sha256, 1)
            if rv == 0 { rv = key.withUnsafeBufferPointer { mbedtls_md_hmac_starts(contexts + index, $0.baseAddress, $0.count) } }
            if rv != 0 {
                for set in 0...index { mbedtls_md_free(contexts + set) }
                contexts.deallocate()
                throw rv == MBEDTLS_ERR_MD_ALLOC_FAILED
                    ? EngineError(nng: Int32(NNG_ENOMEM.rawValue), "cannot set up HMAC-SHA256 for signing")
                    : EngineError("cannot set up HMAC-SHA256 for signing: mbedtls error \(rv)")
            }
        }
    }

    deinit {
        for index in 0..<count { mbedtls_md_free(contexts + index) }
        contexts.deallocate()
    }

    /// The `webhook-signature` header value for this id, timestamp (Unix
    /// seconds) and body, appended to `out`.
    public func appendSignature(id: String, timestamp: Int, body: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let timestampText = String(timestamp)
        for index in 0..<count {
            let context = contexts + index
            mbedtls_md_hmac_reset(context)
            var idText = id
            idText.withUTF8 { _ = mbedtls_md_hmac_update(context, $0.baseAddress, $0.count) }
            Self.dot(context)
            var ts = timestampText
            ts.withUTF8 { _ = mbedtls_md_hmac_update(context, $0.baseAddress, $0.count) }
            Self.dot(context)
            _ = mbedtls_md_hmac_update(context, body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count)
            withUnsafeMutableBytes(of: &digest) { raw in
                _ = mbedtls_md_hmac_finish(context, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
                if index > 0 { out.append(UInt8(ascii: " ")) }
                out.append(contentsOf: "v1,".utf8)
                Base64.encode(UnsafeRawBufferPointer(raw), into: &out)
            }
        }
    }

    /// The header value as a String (webhookctl, tests).
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var out: [UInt8] = []
        body.withUnsafeBytes { appendSignature(id: id, timestamp: timestamp, body: $0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func dot(_ context: UnsafeMutablePointer<mbedtls_md_context_t>) {
        var dot = UInt8(ascii: ".")
        _ = mbedtls_md_hmac_update(context, &dot, 1)
    }
}
