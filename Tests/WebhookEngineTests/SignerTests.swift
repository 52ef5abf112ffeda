import Testing
import WebhookCore
@testable import WebhookEngine

/// Standard Webhooks signatures from mbedtls' HMAC-SHA256.
@Suite struct SignerTests {
    static let key = Base64.decode(Array("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".utf8))!

    /// The example of the Standard Webhooks reference libraries (svix's tests).
    @Test func theReferenceVector() throws {
        let signer = try Signer(keys: [Self.key])
        let body = Array(#"{"test": 2432232314}"#.utf8)
        #expect(signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body)
                == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func oneEntryPerSecretInOrderAndEachResetBetweenCalls() throws {
        let other: [UInt8] = Array(repeating: 7, count: 24)
        let both = try Signer(keys: [Self.key, other])
        let first = try Signer(keys: [Self.key]), second = try Signer(keys: [other])
        let body = Array("[1,2,3]".utf8)
        for timestamp in [1, 1_700_000_000, 1_700_000_001] {
            let entries = both.signature(id: "a-0-1", timestamp: timestamp, body: body).split(separator: " ").map(String.init)
            #expect(entries == [first.signature(id: "a-0-1", timestamp: timestamp, body: body),
                                second.signature(id: "a-0-1", timestamp: timestamp, body: body)])
        }
        #expect(first.signature(id: "x", timestamp: 1, body: body) != first.signature(id: "x", timestamp: 1, body: body + [0]))
        #expect(first.signature(id: "x", timestamp: 1, body: []) .hasPrefix("v1,"))
    }
}
