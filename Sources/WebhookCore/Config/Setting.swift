/// One key of the `webhook` section: where it is, what it takes, its
/// default, and a line of doc. The table of them (`Setting.all`, in
/// SettingsTable.swift) is the one place these facts are written: the
/// resolver reads values through it (ranges and defaults), the unknown-key
/// check walks it, `webhookctl check` shows each one (`show`), and the key reference
/// in docs/config.md is generated from it (`webhookctl reference`; a test
/// fails when they differ).
public struct Setting: Sendable {
    /// What a key takes, with its range and default.
    public enum Kind: Sendable {
        /// No default where it depends (`tls.enable`: the URL's scheme).
        case flag(default: Bool?)
        case integer(ClosedRange<Int>, default: Int)
        /// Milliseconds.
        case duration(ClosedRange<Int>, default: Int)
        /// Bytes.
        case size(ClosedRange<Int64>, default: Int64)
        case choice([String], default: String)
        /// Text the resolver checks itself (a URL, a path, a secret, a list).
        case text
    }

    /// The dotted path under `webhook`: `pool_size`, `retry.max_attempts`.
    public let key: String
    public let kind: Kind
    /// The reference's type, range and default columns where the kind does
    /// not say it all (nil: written from the kind).
    public let typeText: String?
    public let rangeText: String?
    public let defaultText: String?
    public let doc: String
    /// Its value in resolved settings, for people (secrets masked).
    public let show: @Sendable (WebhookSettings) -> String

    init(_ key: String, _ kind: Kind, type: String? = nil, range: String? = nil, default defaultText: String? = nil, _ doc: String,
         show: @escaping @Sendable (WebhookSettings) -> String) {
        self.key = key
        self.kind = kind
        self.typeText = type
        self.rangeText = range
        self.defaultText = defaultText
        self.doc = doc
        self.show = show
    }

    /// The block it is in (`retry`), or nil for a key directly under `webhook`.
    public var block: String? {
        guard let dot = key.utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        return String(key[..<dot])
    }

    /// Its name within its block (`max_attempts`).
    public var name: String {
        guard let dot = key.utf8.firstIndex(of: UInt8(ascii: ".")) else { return key }
        return String(key[key.index(after: dot)...])
    }

    // The defaults, for the settings types' initial values. Asking a key
    // for a default of another kind is a programming error.

    public var flagDefault: Bool {
        guard case .flag(let value?) = kind else { fatalError("\(key) is not a flag with a default") }
        return value
    }

    /// An integer's, or a duration's in milliseconds.
    public var integerDefault: Int {
        switch kind {
        case .integer(_, let value), .duration(_, let value): return value
        default: fatalError("\(key) is not an integer or a duration")
        }
    }

    public var sizeDefault: Int64 {
        guard case .size(_, let value) = kind else { fatalError("\(key) is not a size") }
        return value
    }

    public var choiceDefault: String {
        guard case .choice(_, let value) = kind else { fatalError("\(key) is not a choice") }
        return value
    }
}
