import WebhookCore

/// The receiver's side of `Signer`: whether a request's `webhook-signature`
/// holds a `v1` signature by one of the secrets, and whether its
/// `webhook-timestamp` is recent (the Standard Webhooks rule against replay).
/// What `webhookctl verify` runs.
public struct SignatureCheck {
    public enum Verdict: Equatable {
        /// Signed by `keys[secretIndex]`; `ageSeconds` may be negative (clock skew).
        case valid(secretIndex: Int, ageSeconds: Int)
        case missingHeader(String)
        case badTimestamp
        case tooOld(ageSeconds: Int)
        case tooNew(ageSeconds: Int)
        case noMatch
    }

    public var keys: [[UInt8]]
    /// How far the timestamp may be from now, either way (the reference
    /// libraries use 5 minutes).
    public var toleranceSeconds: Int

    public init(keys: [[UInt8]], toleranceSeconds: Int = 300) {
        self.keys = keys
        self.toleranceSeconds = toleranceSeconds
    }

    /// `header` looks a header up by its lower-case name.
    public func verify(body: [UInt8], nowSeconds: Int, header: (String) -> String?) throws(EngineError) -> Verdict {
        guard let id = header("webhook-id") else { return .missingHeader("webhook-id") }
        guard let timestampText = header("webhook-timestamp") else { return .missingHeader("webhook-timestamp") }
        guard let signatures = header("webhook-signature") else { return .missingHeader("webhook-signature") }
        guard let timestamp = Int(timestampText.trimmingSpaces()) else { return .badTimestamp }
        let age = nowSeconds - timestamp
        if age > toleranceSeconds { return .tooOld(ageSeconds: age) }
        if -age > toleranceSeconds { return .tooNew(ageSeconds: age) }
        let offered = Set(signatures.split(separator: " ").map(String.init))
        for (index, key) in keys.enumerated() {
            let expected = try Signer(keys: [key]).signature(id: id, timestamp: timestamp, body: body)
            if offered.contains(expected) { return .valid(secretIndex: index, ageSeconds: age) }
        }
        return .noMatch
    }
}
