/// Everything the library needs from the `webhook` section, resolved and
/// validated. Every default is the settings table's (`Setting.all`).
public struct WebhookSettings: Sendable {
    /// `enable = false` turns the feature off: init succeeds, every emit is filtered.
    public var enabled: Bool = Setting.enable.flagDefault
    /// The endpoint's name: the key of its `endpoints { }` entry, or
    /// `default` for the single-URL config (NanoMQ's).
    public var endpointName = WebhookSettings.defaultEndpointName
    public var url: EndpointURL
    /// Used while `url` is down (the circuit breaker opened); nil: none.
    public var backupURL: EndpointURL?
    /// The `tls` block as it applies to `backupURL` (its host is the name
    /// checked unless `server_name` is set); nil for a plain-HTTP backup.
    public var backupTLS: TLSSettings?
    /// Sent with every request, in config order. Names as configured.
    public var headers: [HTTPHeader] = []
    public var encoding: PayloadEncoding = PayloadEncoding(rawValue: Setting.bodyEncoding.choiceDefault)!
    /// Persistent HTTP connections kept to the endpoint.
    public var poolSize: Int = Setting.poolSize.integerDefault
    /// Per-attempt deadline: connect + send + response.
    public var cancelTimeoutMs: Int = Setting.cancelTimeout.integerDefault
    /// Nil for plain HTTP.
    public var tls: TLSSettings?
    public var rules: RuleTable = RuleTable()
    public var retry: RetryPolicy = RetryPolicy()
    public var queue: QueueLimits = QueueLimits()
    public var ordering: Ordering = Ordering(rawValue: Setting.ordering.choiceDefault)!
    /// How long shutdown keeps delivering what is queued.
    public var drainTimeoutMs: Int = Setting.drainTimeout.integerDefault
    /// A response body is read, and discarded, up to this size so the
    /// connection can carry the next request; a longer (or endless) one is
    /// not read: the status stands and the connection is closed.
    public var maxResponseBodyBytes: Int = Int(Setting.maxResponseBody.sizeDefault)
    /// The nice value of the threads that deliver (nng's task threads): by
    /// default below the broker's, so the broker's own work comes first when
    /// the CPUs are scarce. 0 = the same priority as the broker. One value
    /// per process: the last engine started sets it.
    public var deliveryNice: Int = Setting.deliveryNice.integerDefault
    /// Sends each event's id as the `webhook-id` header (Standard Webhooks):
    /// the same across an event's retries, so receivers can deduplicate.
    public var eventIDs: Bool = Setting.eventIDs.flagDefault
    /// Signs every request the Standard Webhooks way; nil = unsigned.
    public var signing: SigningSettings?
    /// Several events per request; off (one event per request) by default.
    public var batch: BatchSettings = BatchSettings()
    /// Requests written on a connection before their answers are read
    /// (HTTP/1.1 pipelining); 1 = one at a time.
    public var pipeline: Int = Setting.pipeline.integerDefault
    public var compression: Compression = Compression(rawValue: Setting.compression.choiceDefault)!
    public var rateLimit = RateLimitSettings()
    /// Failed attempts in a row that open the circuit; 0 = no breaker.
    public var circuitBreakerFailures: Int = Setting.circuitBreakerFailures.integerDefault
    /// The disk spool under the memory queue; nil (the default) = memory only.
    public var spool: SpoolSettings?
    /// Things worth a log line that do not stop init (unknown keys and the like).
    public var warnings: [String] = []
    /// `endpoints { name { url ... } }`: each endpoint's settings (the
    /// section's keys with the endpoint's own over them), in config order;
    /// rules name them by bit (`Rule.endpoints`). Empty for the single-URL
    /// config, whose one endpoint is these settings themselves.
    public var endpoints: [WebhookSettings] = []

    public init(url: EndpointURL) {
        self.url = url
    }

    /// The name of the single-URL config's one endpoint.
    public static let defaultEndpointName = "default"
    /// Bits of `EndpointMask`.
    public static let maxEndpoints = 64

    /// What the engine delivers to: `endpoints`, or these settings alone.
    public var deliveryEndpoints: [WebhookSettings] {
        endpoints.isEmpty ? [self] : endpoints
    }

    /// Whether this is a config with an `endpoints { }` block.
    public var hasNamedEndpoints: Bool { !endpoints.isEmpty }
}

/// `signing { secret = "whsec_..." }` or `secret = ["whsec_new", "whsec_old"]`
/// (rotation: every request carries a signature for each).
public struct SigningSettings: Equatable, Sendable {
    /// The keys: each secret's base64 after `whsec_`, decoded. Never printed.
    public var keys: [[UInt8]]

    public init(keys: [[UInt8]]) {
        self.keys = keys
    }

    /// Standard Webhooks secrets start with this; the rest is base64.
    public static let secretPrefix = "whsec_"

    /// What is wrong with a secret; never quotes it.
    public enum SecretProblem: Error, Equatable {
        case noPrefix, notBase64, empty

        public var message: String {
            switch self {
            case .noPrefix: "a secret starts with \(SigningSettings.secretPrefix) followed by base64 (Standard Webhooks)"
            case .notBase64: "the secret after \(SigningSettings.secretPrefix) is not valid base64"
            case .empty: "the secret is empty"
            }
        }
    }

    /// The key a `whsec_...` secret stands for: the config's reading, and
    /// `webhookctl verify`'s.
    public static func key(fromSecret text: String) -> Result<[UInt8], SecretProblem> {
        guard text.hasPrefix(secretPrefix) else { return .failure(.noPrefix) }
        guard let bytes = Base64.decode(text.utf8.dropFirst(secretPrefix.utf8.count)) else { return .failure(.notBase64) }
        return bytes.isEmpty ? .failure(.empty) : .success(bytes)
    }
}

/// `spool { dir, max_bytes, durability, sync_interval }`: events the memory
/// queue cannot hold, and what is still queued at shutdown, are kept on disk
/// and replayed in per-client order (docs/spool.md).
public struct SpoolSettings: Equatable, Sendable {
    /// The directory; created (mode 0700) if missing. One process per directory.
    public var directory: String
    /// The most the spool's database file may hold; past it new events are
    /// dropped and counted (`dropped_spool`).
    public var maxBytes: Int64 = Setting.spoolMaxBytes.sizeDefault
    public var durability: SpoolDurability = SpoolDurability(rawValue: Setting.spoolDurability.choiceDefault)!
    /// How often the spool thread commits what the broker's threads staged:
    /// with `crash` or `power`, the sync point.
    public var syncIntervalMs: Int = Setting.spoolSyncInterval.integerDefault
    /// Failed events kept with their reason (dead letters); 0: counted only.
    public var deadLetters: Int = Setting.spoolDeadLetters.integerDefault
    /// How long a dead letter is kept.
    public var deadLetterMaxAgeMs: Int = Setting.spoolDeadLetterMaxAge.integerDefault
    /// Where `dir` was set ("nanomq.conf:12:9: webhook.spool.dir"): the
    /// spool's errors at start (a busy or unusable directory) begin with it.
    public var origin: String

    public init(directory: String, origin: String = "spool.dir") {
        self.directory = directory
        self.origin = origin
    }
}

/// What a spooled event survives.
public enum SpoolDurability: String, CaseIterable, Sendable {
    /// Only overflow and what is queued at a clean shutdown go to disk: a
    /// clean stop (webhook_fini) loses nothing; a crash loses what was in memory.
    case clean
    /// Every accepted event is written through, committed every
    /// `sync_interval`: survives `kill -9` of the broker once committed.
    case crash
    /// As `crash`, and each commit is synced to the device (survives a power loss).
    case power
}

/// `batch { max_events, max_bytes, max_delay }`: a connection sends up to
/// `maxEvents` queued events of its lane in one request, as a JSON array.
public struct BatchSettings: Equatable, Sendable {
    /// 1 = no batching (NanoMQ's one event per request).
    public var maxEvents: Int = Setting.batchMaxEvents.integerDefault
    /// A batch stops growing before its events' queued size (the records
    /// `queue.max_bytes` counts) passes this; its first event always goes,
    /// alone if it is larger.
    public var maxBytes: Int = Int(Setting.batchMaxBytes.sizeDefault)
    /// How long a batch may wait for more events; 0 = send what is there.
    public var maxDelayMs: Int = Setting.batchMaxDelay.integerDefault

    public init() {}

    public var isOn: Bool { maxEvents > 1 }
}

/// `rate_limit { events_per_second, bytes_per_second }`: 0 = no limit.
public struct RateLimitSettings: Equatable, Sendable {
    public var eventsPerSecond = 0
    public var bytesPerSecond = 0

    public init() {}

    public var isOn: Bool { eventsPerSecond > 0 || bytesPerSecond > 0 }
}

public struct HTTPHeader: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Values of these headers are never printed.
    public var isSecret: Bool { Secrets.isSecretName(name) }
}

public struct TLSSettings: Equatable, Sendable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var keyPassword: String?
    public var verifyPeer: Bool = Setting.tlsVerifyPeer.flagDefault
    /// SNI and the name the server certificate must carry.
    public var serverName: String

    public init(serverName: String) {
        self.serverName = serverName
    }
}

/// How long one event is retried. The defaults keep at-least-once through
/// any outage the queue can hold: no count limit, only a time limit that
/// keeps one event the endpoint always refuses (a 5xx for that body) from
/// holding its lane forever. Memory stays bounded by `QueueLimits`.
public struct RetryPolicy: Equatable, Sendable {
    /// Attempts per event including the first; 0 = no limit, 1 disables retries.
    public var maxAttempts: Int = Setting.retryMaxAttempts.integerDefault
    /// Time from an event's first attempt after which it is not retried
    /// again; 0 = no limit.
    public var maxElapsedMs: Int = Setting.retryMaxElapsed.integerDefault
    public var initialBackoffMs: Int = Setting.retryInitialBackoff.integerDefault
    public var maxBackoffMs: Int = Setting.retryMaxBackoff.integerDefault
    /// The longest wait a `Retry-After` header is honoured for; a longer one
    /// waits this long (one answer must not stall a connection, and every
    /// client hashed onto it, for an hour).
    public var maxRetryAfterMs: Int = Setting.retryMaxRetryAfter.integerDefault

    public init() {}

    /// The wait before the next attempt when the endpoint said `Retry-After: seconds`.
    public func retryAfterDelayMs(seconds: Int) -> Int {
        seconds >= maxRetryAfterMs / 1000 ? maxRetryAfterMs : max(0, seconds) * 1000
    }

    /// Whether an event that has had `attempts` attempts may have another,
    /// which would start `elapsedMs` after its first.
    public func allowsRetry(afterAttempts attempts: Int, elapsedMs: Int) -> Bool {
        if maxAttempts > 0 && attempts >= maxAttempts { return false }
        if maxElapsedMs > 0 && elapsedMs > maxElapsedMs { return false }
        return true
    }
}

public enum OverflowPolicy: String, CaseIterable, Sendable {
    case dropNew = "drop_new"
    case dropOld = "drop_old"
}

public struct QueueLimits: Equatable, Sendable {
    public var maxEvents: Int = Setting.queueMaxEvents.integerDefault
    public var maxBytes: Int = Int(clamping: Setting.queueMaxBytes.sizeDefault)
    public var overflow: OverflowPolicy = OverflowPolicy(rawValue: Setting.queueOverflow.choiceDefault)!

    public init() {}
}

public enum Ordering: String, CaseIterable, Sendable {
    /// Events of one client id arrive in the order they were emitted.
    case perClient = "per_client"
    /// Any free connection takes the next event.
    case none
}

/// How request bodies are encoded on the wire.
public enum Compression: String, CaseIterable, Sendable {
    case none
    /// `Content-Encoding: gzip`.
    case gzip
}

/// Which keys and header names hold secrets.
public enum Secrets {
    static let secretWords = ["authorization", "token", "secret", "password", "passwd", "api-key", "apikey", "api_key", "cookie"]

    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return secretWords.contains { lower.containsText($0) }
    }
}
