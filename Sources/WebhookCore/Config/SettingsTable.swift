/// Every key of the `webhook` section, once (see `Setting`). A new key is
/// a line here, a read in SettingsResolver, and `webhookctl reference`
/// pasted into docs/config.md.
extension Setting {
    public static let enable: Setting = Setting("enable", .flag(default: true),
        "`false`: the broker starts without the webhook, whatever the rest says; the rest is still checked, its problems as warnings") { $0.enabled ? "true" : "false (every event is filtered)" }
    public static let url: Setting = Setting("url", .text, type: "`http://` or `https://` URL", range: "port 1-65535, no `user:password@`",
        default: "(required)", "where events are POSTed; the path and query are sent percent-encoded") { "\($0.url)" }
    public static let backupURL: Setting = Setting("backup_url", .text, type: "`http://` or `https://` URL", range: "not the url itself", default: "none",
        "failover: where events go while `url` is down (its circuit breaker opened); back to `url` once a probe there is answered. An https:// one uses the `tls` block") { $0.backupURL.map { "\($0)" } ?? "none" }
    public static let endpoints: Setting = Setting("endpoints", .text, type: "`endpoints { <name> { url = ..., ... } }`",
        range: "1-64 names of letters, digits, `_`, `-`; not with `url`", default: "none (the one `url`)",
        "several endpoints, each with any key above and below but `enable`, `events`, `spool`, `delivery_nice`, `drain_timeout` (the section's); a key it does not set is the section's (a block it sets replaces the section's whole). A rule's `endpoints = [names]` picks some; a rule that names none goes to all") { $0.endpoints.isEmpty ? "none (one endpoint: url)" : $0.endpoints.map { $0.endpointName }.joined(separator: ", ") }
    public static let headers: Setting = Setting("headers", .text, type: "`headers.<name> = value`",
        range: "a token name; no control characters in the value", default: "`content-type = application/json`",
        "extra request headers. Refused: `content-length`, `transfer-encoding`, `connection`; `webhook-id` while `event_ids` or `signing` is on, `webhook-timestamp` and `webhook-signature` while `signing` is on. A `host` replaces the URL's") { $0.headers.map { "\($0.name): \($0.isSecret ? "******** (secret)" : $0.value)" }.joined(separator: ", ") }
    public static let bodyEncoding: Setting = Setting("body.encoding", .choice(["plain", "base64", "base62"], default: "plain"),
        "how the payload goes into the body") { $0.encoding.rawValue }
    public static let poolSize: Setting = Setting("pool_size", .integer(1...1024, default: 32), "persistent connections") { "\($0.poolSize)" }
    public static let cancelTimeout: Setting = Setting("cancel_timeout", .duration(1...3_600_000, default: 5000),
        "one attempt's limit (connect, send, answer)") { Units.durationText($0.cancelTimeoutMs) }
    public static let events: Setting = Setting("events", .text, type: "array of `{ event, topic, endpoints }`", range: "the 12 event names; endpoint names",
        default: "none", "the rules: an event goes out when a rule names its type and, for topic events, its topic matches the filter (`+`, `#`, shared subscriptions)") { "\($0.rules.rules.count) rule\($0.rules.rules.count == 1 ? "" : "s") (below)" }

    public static let retryMaxAttempts: Setting = Setting("retry.max_attempts", .integer(0...1_000_000, default: 0), default: "0 (no limit)",
        "attempts per event, the first included") { $0.retry.maxAttempts == 0 ? "0 (no limit)" : "\($0.retry.maxAttempts)" }
    public static let retryMaxElapsed: Setting = Setting("retry.max_elapsed", .duration(0...604_800_000, default: 600_000),
        "no retry after this long since the first attempt; 0 = no limit") { $0.retry.maxElapsedMs == 0 ? "0 (no limit)" : Units.durationText($0.retry.maxElapsedMs) }
    public static let retryInitialBackoff: Setting = Setting("retry.initial_backoff", .duration(1...3_600_000, default: 100),
        "first backoff; it doubles, with jitter") { Units.durationText($0.retry.initialBackoffMs) }
    public static let retryMaxBackoff: Setting = Setting("retry.max_backoff", .duration(1...86_400_000, default: 10_000),
        "the backoff's cap; not below `initial_backoff`") { Units.durationText($0.retry.maxBackoffMs) }
    public static let retryMaxRetryAfter: Setting = Setting("retry.max_retry_after", .duration(0...86_400_000, default: 60_000),
        "the longest `Retry-After` honoured") { Units.durationText($0.retry.maxRetryAfterMs) }

    public static let queueMaxEvents: Setting = Setting("queue.max_events", .integer(1...100_000_000, default: 100_000), "events waiting in memory") { "\($0.queue.maxEvents)" }
    public static let queueMaxBytes: Setting = Setting("queue.max_bytes", .size(1024...(1 << 40), default: 64 << 20), "their bytes") { Units.sizeText(Int64($0.queue.maxBytes)) }
    public static let queueOverflow: Setting = Setting("queue.overflow", .choice(["drop_new", "drop_old"], default: "drop_new"),
        "what a full queue (or a full spool) drops; every drop is counted") { $0.queue.overflow.rawValue }

    public static let ordering: Setting = Setting("ordering", .choice(["per_client", "none"], default: "per_client"),
        "one client's events in order on one connection, or any connection") { $0.ordering.rawValue }
    public static let drainTimeout: Setting = Setting("drain_timeout", .duration(0...3_600_000, default: 5000),
        "how long `webhook_fini` keeps delivering") { Units.durationText($0.drainTimeoutMs) }
    public static let maxResponseBody: Setting = Setting("max_response_body", .size(0...(64 << 20), default: 64 << 10),
        "how much of a response body is read to keep the connection") { Units.sizeText(Int64($0.maxResponseBodyBytes)) }
    public static let deliveryNice: Setting = Setting("delivery_nice", .integer(0...19, default: 10), "nice value of the delivery threads") { "\($0.deliveryNice)" }
    public static let pipeline: Setting = Setting("pipeline", .integer(1...64, default: 1), default: "1 (off)",
        "HTTP/1.1 pipelining: up to this many queued events written on a connection before their answers are read, each its own request. Needs `ordering = none` and no batches") { $0.pipeline == 1 ? "1 (off)" : "\($0.pipeline) requests in flight per connection" }
    public static let compression: Setting = Setting("compression", .choice(["none", "gzip"], default: "none"),
        "`gzip`: request bodies compressed (`Content-Encoding: gzip`, zlib from Debian's zlib1g); a signature covers the bytes sent") { $0.compression.rawValue }
    public static let eventIDs: Setting = Setting("event_ids", .flag(default: true), "a `webhook-id` header per event") { $0.eventIDs ? "true (webhook-id header)" : "false" }

    public static let signingSecret: Setting = Setting("signing.secret", .text, type: "`\"whsec_<base64>\"` or an array", default: "off",
        "Standard Webhooks signatures (`webhook-timestamp`, `webhook-signature`); never printed") { $0.signing.map { "\($0.keys.count) secret\($0.keys.count == 1 ? "" : "s") ******** (masked), webhook-signature v1 (HMAC-SHA256)" } ?? "off" }

    public static let batchMaxEvents: Setting = Setting("batch.max_events", .integer(1...10_000, default: 1), default: "1 (off)",
        "events per request, as a JSON array") { $0.batch.isOn ? "\($0.batch.maxEvents) (JSON arrays)" : "1 (off: one event per request)" }
    public static let batchMaxBytes: Setting = Setting("batch.max_bytes", .size(1...(64 << 20), default: 1 << 20), "a batch's queued bytes") { Units.sizeText(Int64($0.batch.maxBytes)) }
    public static let batchMaxDelay: Setting = Setting("batch.max_delay", .duration(0...60_000, default: 0),
        "how long a partial batch waits for company; never once shutdown began") { Units.durationText($0.batch.maxDelayMs) }

    public static let circuitBreakerFailures: Setting = Setting("circuit_breaker.failures", .integer(0...1_000_000, default: 5),
        "failed attempts in a row (any connection's) that open the circuit: then one probe request at a time, at the retry backoff's growing intervals, until one is answered; no attempt is spent waiting. 0 = off") { $0.circuitBreakerFailures == 0 ? "0 (off)" : "\($0.circuitBreakerFailures)" }

    // 0 (the value when the key is absent) is no limit; the kind's default is what an error suggests.
    public static let rateLimitEvents: Setting = Setting("rate_limit.events_per_second", .integer(1...10_000_000, default: 0),
        default: "none (no limit)", "at most this many events sent in any second (retries and every event of a batch counted); events wait for it, within the queue's bounds, never dropped for it") { $0.rateLimit.eventsPerSecond == 0 ? "none" : "\($0.rateLimit.eventsPerSecond)" }
    public static let rateLimitBytes: Setting = Setting("rate_limit.bytes_per_second", .size(1...(1 << 30), default: 1 << 20),
        default: "none (no limit)", "at most this many request-body bytes sent in any second (as sent: after gzip)") { $0.rateLimit.bytesPerSecond == 0 ? "none" : Units.sizeText(Int64($0.rateLimit.bytesPerSecond)) }

    public static let tlsEnable: Setting = Setting("tls.enable", .flag(default: nil), default: "from the URL's scheme",
        "must agree with the scheme; `ssl` is the same block") { $0.tls == nil ? "false" : "true" }
    public static let tlsCACertFile: Setting = Setting("tls.cacertfile", .text, type: "path", range: "readable", default: "the system bundle",
        "CAs to verify the server with") { $0.tls.map { $0.caFile ?? "(none)" } ?? "-" }
    public static let tlsCertFile: Setting = Setting("tls.certfile", .text, type: "path", range: "readable; with `keyfile`", default: "none",
        "a client certificate (mutual TLS)") { $0.tls.map { $0.certFile ?? "(none)" } ?? "-" }
    public static let tlsKeyFile: Setting = Setting("tls.keyfile", .text, type: "path", range: "readable; with `certfile`", default: "none",
        "the client certificate's key") { $0.tls.map { $0.keyFile ?? "(none)" } ?? "-" }
    public static let tlsKeyPassword: Setting = Setting("tls.key_password", .text, default: "none", "the key file's password; never printed") { $0.tls.map { $0.keyPassword == nil ? "(none)" : "******** (secret)" } ?? "-" }
    public static let tlsServerName: Setting = Setting("tls.server_name", .text, default: "the URL's host",
        "what the certificate must name; an IP address is checked against its iPAddress names") { $0.tls.map { $0.serverName } ?? "-" }
    public static let tlsVerifyPeer: Setting = Setting("tls.verify_peer", .flag(default: true), "verify the server's certificate") { $0.tls.map { $0.verifyPeer ? "true" : "false" } ?? "-" }

    public static let spoolEnable: Setting = Setting("spool.enable", .flag(default: nil), default: "`true` when the block is there",
        "`false` keeps the block but turns the spool off") { $0.spool == nil ? "false (memory only)" : "true" }
    public static let spoolDir: Setting = Setting("spool.dir", .text, type: "path", range: "absolute or `./...`", default: "(required)",
        "the spool's directory, made 0700 with its missing parents; one process per directory") { $0.spool?.directory ?? "-" }
    public static let spoolMaxBytes: Setting = Setting("spool.max_bytes", .size((64 << 10)...(1 << 44), default: 1 << 30), "the database's size limit") { $0.spool.map { Units.sizeText($0.maxBytes) } ?? "-" }
    public static let spoolDurability: Setting = Setting("spool.durability", .choice(["clean", "crash", "power"], default: "clean"),
        "`clean`: memory first, disk past it and at stop; `crash`: every event through the disk; `power`: each commit synced") { $0.spool?.durability.rawValue ?? "-" }
    public static let spoolSyncInterval: Setting = Setting("spool.sync_interval", .duration(1...10_000, default: 10),
        "how often the spool thread commits") { $0.spool.map { Units.durationText($0.syncIntervalMs) } ?? "-" }
    public static let spoolDeadLetters: Setting = Setting("spool.dead_letters", .integer(0...10_000_000, default: 10_000),
        "failed events kept with their reason (`webhookctl dead`), oldest dropped past it; 0: counted only") { $0.spool.map { "\($0.deadLetters)" } ?? "-" }
    // At most 24 days: milliseconds in a 32-bit Int (armv7).
    public static let spoolDeadLetterMaxAge: Setting = Setting("spool.dead_letter_max_age", .duration(60_000...2_073_600_000, default: 604_800_000),
        "how long a dead letter is kept") { $0.spool.map { Units.durationText($0.deadLetterMaxAgeMs) } ?? "-" }

    /// In the reference's order.
    public static let all: [Setting] = [
        enable, url, backupURL, endpoints, headers, bodyEncoding, poolSize, cancelTimeout, events,
        retryMaxAttempts, retryMaxElapsed, retryInitialBackoff, retryMaxBackoff, retryMaxRetryAfter,
        queueMaxEvents, queueMaxBytes, queueOverflow, ordering, pipeline, compression, drainTimeout, maxResponseBody, deliveryNice, eventIDs,
        signingSecret, batchMaxEvents, batchMaxBytes, batchMaxDelay, circuitBreakerFailures, rateLimitEvents, rateLimitBytes,
        tlsEnable, tlsCACertFile, tlsCertFile, tlsKeyFile, tlsKeyPassword, tlsServerName, tlsVerifyPeer,
        spoolEnable, spoolDir, spoolMaxBytes, spoolDurability, spoolSyncInterval, spoolDeadLetters, spoolDeadLetterMaxAge,
    ]

    /// Another name a block goes by (NanoMQ's `ssl` for `tls`).
    public static let blockAliases = [("ssl", "tls")]
}
