import CPlatform

/// Turns the `webhook` section of a loaded config into `WebhookSettings`,
/// checking every key and naming file, line, column and key in each error.
public struct SettingsResolver {
    /// The CA bundle used when TLS verifies peers and no `cacertfile` is given.
    public static let systemCABundle = "/etc/ssl/certs/ca-certificates.crt"

    private let prefix: String
    private let legacy: Bool

    public init(sectionName: String = "webhook") {
        self.prefix = sectionName
        self.legacy = sectionName == "web.hook"
    }

    /// Resolves a loaded config's section; a config without one is an error
    /// (a library whose only job is the webhook was surely meant to have one).
    public static func settings(from config: LoadedConfig) throws(ConfigError) -> WebhookSettings {
        guard let section = config.section else {
            throw ConfigError("no webhook section: expected 'webhook { ... }' or 'web.hook.*' keys", at: config.documentStart)
        }
        return try SettingsResolver(sectionName: config.sectionName).resolve(section)
    }

    public func resolve(_ section: ConfigNode) throws(ConfigError) -> WebhookSettings {
        guard case .object(let object) = section.value else {
            throw ConfigError("expected an object { ... }", at: section.location, key: prefix)
        }
        var warnings = UnknownKeys.warnings(in: object, prefix: prefix, ruleKey: ruleKey)

        // Every default is WebhookSettings' own; only what the config names is set here.
        let enabled = try flag(object, .enable) ?? Setting.enable.flagDefault
        if !enabled { return disabled(object, warnings: warnings) }
        if let endpoints = object[Setting.endpoints.key] { return try several(object, endpoints, warnings: warnings) }
        guard let urlNode = object["url"] else {
            throw ConfigError("url is required", at: section.location, key: "\(prefix).url")
        }
        let urlText = try string(urlNode, key: "url")
        let url: EndpointURL
        switch EndpointURL.parse(urlText) {
        case .success(let parsed): url = parsed
        case .failure(let problem):
            throw ConfigError("\(problem.message) (got \(Quoting.quoted(EndpointURL.redactingUserInfo(urlText))))",
                              at: urlNode.location, key: "\(prefix).url")
        }

        var settings = WebhookSettings(url: url)
        settings.enabled = enabled
        settings.headers = try headers(object["headers"])
        if let body = object["body"] {
            guard case .object(let bodyObject) = body.value else {
                throw ConfigError("expected an object with 'encoding'", at: body.location, key: "\(prefix).body")
            }
            settings.encoding = try choice(bodyObject, .bodyEncoding, PayloadEncoding.self) ?? settings.encoding
        }
        settings.poolSize = try integer(object, .poolSize) ?? settings.poolSize
        settings.cancelTimeoutMs = try duration(object, .cancelTimeout) ?? settings.cancelTimeoutMs
        settings.tls = try tls(object, url: url)
        try backup(object, into: &settings)
        settings.rules = try rules(object["events"], endpointNames: nil, warnings: &warnings)
        settings.retry = try retry(object["retry"])
        settings.queue = try queue(object["queue"])
        settings.ordering = try choice(object, .ordering, Ordering.self) ?? settings.ordering
        settings.compression = try choice(object, .compression, Compression.self) ?? settings.compression
        settings.drainTimeoutMs = try duration(object, .drainTimeout) ?? settings.drainTimeoutMs
        settings.deliveryNice = try integer(object, .deliveryNice) ?? settings.deliveryNice
        settings.maxResponseBodyBytes = try size(object, .maxResponseBody).map { Int($0) } ?? settings.maxResponseBodyBytes
        settings.eventIDs = try flag(object, .eventIDs) ?? settings.eventIDs
        settings.signing = try signing(object["signing"])
        settings.batch = try batch(object["batch"])
        settings.spool = try spool(object["spool"])
        settings.pipeline = try pipeline(object, settings)
        if let breaker = try self.object(object["circuit_breaker"], key: "circuit_breaker") {
            settings.circuitBreakerFailures = try integer(breaker, .circuitBreakerFailures) ?? settings.circuitBreakerFailures
        }
        settings.rateLimit = try rateLimit(object["rate_limit"], batch: settings.batch, pipeline: settings.pipeline)
        try checkStandardWebhooksHeaders(object["headers"], settings)
        settings.warnings = warnings
        return settings
    }

    /// The keys that are the section's alone: one rule table, one spool
    /// (each endpoint its own part of it), one shutdown and one priority.
    public static let sectionOnlyKeys = ["enable", "events", "spool", "delivery_nice", "drain_timeout", Setting.endpoints.key]

    /// `endpoints { local { url = ... } cloud { url = ..., batch { ... } } }`:
    /// each endpoint is resolved as a section of its own, from the
    /// section's keys with the endpoint's over them (a block the endpoint
    /// names replaces the section's whole), so its errors name
    /// `webhook.endpoints.cloud.<key>` and the line the value is on.
    private func several(_ section: ConfigObject, _ node: ConfigNode, warnings: [String]) throws(ConfigError) -> WebhookSettings {
        let key = "\(prefix).\(Setting.endpoints.key)"
        guard case .object(let named) = node.value, !named.isEmpty else {
            throw ConfigError("expected an object of named endpoints: endpoints { local { url = \"http://...\" } }", at: node.location, key: key)
        }
        if let url = section[Setting.url.key] {
            throw ConfigError("url and endpoints are both set: give each endpoint its own url (endpoints { name { url = ... } })", at: url.location, key: "\(prefix).url")
        }
        if let again = named.repeated.first {
            throw ConfigError("endpoint \(again.key) is defined twice (names are unique; the first is at \(named[again.key]!.location))",
                              at: again.location, key: "\(key).\(again.key)")
        }
        guard named.keys.count <= WebhookSettings.maxEndpoints else {
            throw ConfigError("\(named.keys.count) endpoints; at most \(WebhookSettings.maxEndpoints)", at: node.location, key: key)
        }
        var warnings = warnings
        var endpoints: [WebhookSettings] = []
        for name in named.keys {
            let entry = named[name]!
            // The name is a metrics label, a log word and a spool directory.
            guard name.utf8.count <= 64, name.utf8.allSatisfy({ Self.isNameByte($0) }) else {
                throw ConfigError("an endpoint's name is 1 to 64 letters, digits, '_' or '-' (got \(Quoting.quoted(name)))", at: entry.location, key: "\(key).\(name)")
            }
            guard case .object(let own) = entry.value else {
                throw ConfigError("expected an object { url = \"...\" }", at: entry.location, key: "\(key).\(name)")
            }
            for ownKey in own.keys where Self.sectionOnlyKeys.contains(ownKey) {
                throw ConfigError("\(ownKey) is the whole section's, not one endpoint's: set it under \(prefix)", at: own[ownKey]!.location, key: "\(key).\(name).\(ownKey)")
            }
            var merged = ConfigObject()
            for inherited in section.keys where own[inherited] == nil && !Self.sectionOnlyKeys.contains(inherited) && UnknownKeys.topLevel.contains(inherited) {
                merged.assign(inherited, section[inherited]!)
            }
            for ownKey in own.keys { merged.assign(ownKey, own[ownKey]!) }
            var endpoint = try SettingsResolver(sectionName: "\(key).\(name)").resolve(ConfigNode(.object(merged), at: entry.location))
            endpoint.endpointName = name
            // A key the section got wrong is warned about once, not per endpoint.
            for warning in endpoint.warnings where !warnings.contains(where: { Self.location(of: $0) == Self.location(of: warning) }) {
                warnings.append(warning)
            }
            endpoint.warnings = []
            endpoints.append(endpoint)
        }
        // The section's own keys; the rest of these settings is the first endpoint's, for messages.
        var settings = endpoints[0]
        settings.endpointName = ""
        settings.rules = try rules(section["events"], endpointNames: named.keys, warnings: &warnings)
        settings.drainTimeoutMs = try duration(section, .drainTimeout) ?? Setting.drainTimeout.integerDefault
        settings.deliveryNice = try integer(section, .deliveryNice) ?? Setting.deliveryNice.integerDefault
        settings.spool = try spool(section["spool"])
        for i in endpoints.indices {
            // Each endpoint's own part of the spool: a directory of its own, under the same limits.
            endpoints[i].spool = settings.spool.map { part in
                var part = part
                part.directory += (part.directory.hasSuffix("/") ? "" : "/") + endpoints[i].endpointName
                return part
            }
            endpoints[i].drainTimeoutMs = settings.drainTimeoutMs
            endpoints[i].deliveryNice = settings.deliveryNice
        }
        settings.endpoints = endpoints
        settings.warnings = warnings
        return settings
    }

    /// "FILE:LINE:COL" of a warning (its text up to the key).
    private static func location(of warning: String) -> Substring {
        warning.split(separator: " ", maxSplits: 1).first ?? ""
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// `backup_url`: the same endpoint elsewhere, used while `url` is down.
    /// An https:// one uses the `tls` block (with its own host as the name
    /// checked); a plain-HTTP primary has none, so one must be written.
    private func backup(_ object: ConfigObject, into settings: inout WebhookSettings) throws(ConfigError) {
        guard let node = object[Setting.backupURL.key] else { return }
        let key = "\(prefix).\(Setting.backupURL.key)"
        let text = try string(node, key: Setting.backupURL.key)
        let backup: EndpointURL
        switch EndpointURL.parse(text) {
        case .success(let parsed): backup = parsed
        case .failure(let problem):
            throw ConfigError("\(problem.message) (got \(Quoting.quoted(EndpointURL.redactingUserInfo(text))))", at: node.location, key: key)
        }
        if backup.description == settings.url.description {
            throw ConfigError("backup_url is the url itself: a backup is another place to send to", at: node.location, key: key)
        }
        if backup.isTLS && !settings.url.isTLS && object["tls"] == nil && object["ssl"] == nil {
            throw ConfigError("backup_url is https:// but the url is http:// and there is no tls { } block for it: add one (cacertfile, or verify_peer = false)",
                              at: node.location, key: key)
        }
        settings.backupURL = backup
        settings.backupTLS = try tls(object, url: backup, checkingEnable: false)
    }

    /// The Standard Webhooks headers are the library's while it sends
    /// them: a configured one would go out beside it (two `webhook-id`s,
    /// two signatures), and a verifier rejects the request or a receiver
    /// takes different events for one.
    private func checkStandardWebhooksHeaders(_ node: ConfigNode?, _ settings: WebhookSettings) throws(ConfigError) {
        guard let node, case .object(let headers) = node.value else { return }
        for name in headers.keys {
            let why: String
            switch name.lowercased() {
            case "webhook-signature" where settings.signing != nil, "webhook-timestamp" where settings.signing != nil:
                why = "while signing is on (remove it: the library signs every request)"
            case "webhook-id" where settings.signing != nil:
                why = "while signing is on (remove it: the signature covers the library's id)"
            case "webhook-id" where settings.eventIDs:
                why = "while event_ids is on (remove it, or set event_ids = false to send your own)"
            case "content-encoding" where settings.compression != .none:
                why = "while compression is on (remove it: the library says how it encoded the body)"
            default:
                continue
            }
            throw ConfigError("this header is set by the library \(why)", at: headers[name]!.location, key: "\(prefix).headers.\(name)")
        }
    }

    /// `enable = false`: NanoMQ starts without its webhook whatever the
    /// rest of the section says, and so does the library. The rest is still
    /// checked, as if enabled, and what would be an error is a warning, so
    /// `webhookctl check` shows it before the section is switched on.
    /// (A section without a url or endpoints is only switched off: nothing to check.)
    private func disabled(_ object: ConfigObject, warnings: [String]) -> WebhookSettings {
        var settings = WebhookSettings(url: EndpointURL(scheme: "http", host: "127.0.0.1", port: 80, target: "/"))
        settings.enabled = false
        settings.warnings = warnings
        guard let enableNode = object["enable"], object["url"] != nil || object[Setting.endpoints.key] != nil else { return settings }
        var switchedOn = object
        switchedOn.assign("enable", ConfigNode(.scalar("true", quoted: false), at: enableNode.location))
        do {
            let checked = try resolve(ConfigNode(.object(switchedOn), at: enableNode.location))
            settings.warnings = checked.warnings
        } catch {
            settings.warnings.append("\(error) (not an error while enable = false)")
        }
        return settings
    }

    // MARK: Sections

    private func headers(_ node: ConfigNode?) throws(ConfigError) -> [HTTPHeader] {
        var headers: [HTTPHeader] = []
        if let node {
            guard case .object(let object) = node.value else {
                throw ConfigError("expected an object of header names and values", at: node.location, key: "\(prefix).headers")
            }
            try flattenHeaders(object, namePrefix: "", into: &headers)
        }
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.insert(HTTPHeader(name: "content-type", value: "application/json"), at: 0)
        }
        return headers
    }

    /// `headers.x.api.key = v` written without quotes nests objects; the
    /// header is still called `x.api.key`.
    private func flattenHeaders(_ object: ConfigObject, namePrefix: String, into headers: inout [HTTPHeader]) throws(ConfigError) {
        for name in object.keys {
            let node = object[name]!
            let fullName = namePrefix + name
            let key = "\(prefix).headers.\(fullName)"
            if case .object(let nested) = node.value {
                try flattenHeaders(nested, namePrefix: fullName + ".", into: &headers)
                continue
            }
            guard !fullName.isEmpty, fullName.utf8.allSatisfy(Self.isTokenByte) else {
                throw ConfigError("invalid header name: use letters, digits and !#$%&'*+-.^_`|~", at: node.location, key: key)
            }
            let lower = fullName.lowercased()
            if ["content-length", "transfer-encoding", "connection"].contains(lower) {
                throw ConfigError("this header is set by the library and cannot be configured", at: node.location, key: key)
            }
            let value = try string(node, key: "headers.\(fullName)")
            // RFC 9110: a field value is visible characters, spaces and tabs.
            if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                throw ConfigError("header value contains CR, LF, NUL or another control character (header injection)", at: node.location, key: key)
            }
            headers.removeAll { $0.name.lowercased() == lower }
            headers.append(HTTPHeader(name: fullName, value: value))
        }
    }

    /// The `tls` block as it applies to `url`; nil when `url` is plain HTTP.
    /// `enable` must agree with the scheme of the url or the backup_url.
    private func tls(_ object: ConfigObject, url: EndpointURL, checkingEnable: Bool = true) throws(ConfigError) -> TLSSettings? {
        if object["tls"] != nil && object["ssl"] != nil {
            throw ConfigError("both 'tls' and 'ssl' are set; they are the same block, keep one", at: object["ssl"]!.location, key: "\(prefix).ssl")
        }
        let blockName = object["ssl"] != nil ? "ssl" : "tls"
        var block = ConfigObject()
        if let node = object[blockName] {
            guard case .object(let value) = node.value else {
                throw ConfigError("expected an object { ... }", at: node.location, key: "\(prefix).\(blockName)")
            }
            block = value
        }
        let section = "\(blockName)."
        let enable = try flag(block, .tlsEnable, in: blockName)
        let backupIsTLS = object[Setting.backupURL.key].flatMap { node -> Bool? in
            guard case .scalar(let text, _) = node.value else { return nil }
            return text.lowercased().hasPrefix("https://")
        } ?? false
        if checkingEnable && enable == true && !url.isTLS && !backupIsTLS {
            throw ConfigError("TLS is enabled but the url is http://; use an https:// url", at: block["enable"]!.location, key: "\(prefix).\(section)enable")
        }
        if checkingEnable && enable == false && url.isTLS {
            throw ConfigError("TLS is disabled but the url is https://", at: block["enable"]!.location, key: "\(prefix).\(section)enable")
        }
        guard url.isTLS else { return nil }

        var tls = TLSSettings(serverName: url.host)
        tls.caFile = try readableFile(block, .tlsCACertFile, in: blockName)
        tls.certFile = try readableFile(block, .tlsCertFile, in: blockName)
        tls.keyFile = try readableFile(block, .tlsKeyFile, in: blockName)
        tls.keyPassword = try text(block, .tlsKeyPassword, in: blockName) ?? tls.keyPassword
        tls.serverName = try text(block, .tlsServerName, in: blockName) ?? tls.serverName
        tls.verifyPeer = try flag(block, .tlsVerifyPeer, in: blockName) ?? tls.verifyPeer
        if (tls.certFile == nil) != (tls.keyFile == nil) {
            let node = block["certfile"] ?? block["keyfile"]!
            throw ConfigError("certfile and keyfile go together: give both for a client certificate, or neither", at: node.location, key: "\(prefix).\(section)certfile")
        }
        if tls.verifyPeer && tls.caFile == nil {
            guard access(Self.systemCABundle, R_OK) == 0 else {
                throw ConfigError("verify_peer is on but no cacertfile is given and the system bundle \(Self.systemCABundle) is missing; set cacertfile, or verify_peer = false",
                                  at: object[blockName]?.location ?? object["url"]?.location, key: "\(prefix).\(section)cacertfile")
            }
            tls.caFile = Self.systemCABundle
        }
        return tls
    }

    /// How a rule is named in messages: `webhook.events[2]`, or
    /// `web.hook.rule` in the legacy format (whose rules have no index).
    private func ruleKey(_ index: Int) -> String {
        legacy ? "\(prefix).rule" : "\(prefix).events[\(index)]"
    }

    /// `endpointNames`: the `endpoints { }` block's names, in order (nil: the single-URL config).
    private func rules(_ node: ConfigNode?, endpointNames: [String]?, warnings: inout [String]) throws(ConfigError) -> RuleTable {
        guard let node else { return RuleTable() }
        let key = "\(prefix).events"
        guard case .array(let elements) = node.value else {
            throw ConfigError("expected an array of { event = \"...\", topic = \"...\" }", at: node.location, key: key)
        }
        var table = RuleTable()
        for (index, element) in elements.enumerated() {
            let elementKey = ruleKey(index)
            guard case .object(let rule) = element.value else {
                throw ConfigError("expected an object { event = \"...\" }", at: element.location, key: elementKey)
            }
            guard let eventNode = rule["event"] else {
                throw ConfigError(legacy ? "rule has no \"action\"" : "rule has no 'event'", at: element.location, key: elementKey)
            }
            let name = try string(eventNode, key: "events[\(index)].event")
            guard let kind = EventKind(configName: name) else {
                let names = EventKind.allCases.map { $0.configName }.joined(separator: ", ")
                throw ConfigError("unknown event \(Quoting.quoted(name)); expected one of \(names)", at: eventNode.location, key: "\(elementKey).event")
            }
            var filter: TopicFilter?
            if let topicNode = rule["topic"] {
                let text = try string(topicNode, key: "events[\(index)].topic")
                switch TopicFilter.parse(text) {
                case .success(let parsed): filter = parsed
                case .failure(let problem): throw ConfigError(problem.message, at: topicNode.location, key: "\(elementKey).topic")
                }
                if !kind.hasTopic {
                    warnings.append("\(topicNode.location): \(elementKey).topic: \(name) has no topic; the filter is ignored")
                }
            }
            let every: EndpointMask = endpointNames.map { $0.count == 64 ? ~0 : (1 << UInt64($0.count)) - 1 } ?? 1
            let endpoints = try ruleEndpoints(rule["endpoints"], names: endpointNames, key: "\(elementKey).endpoints") ?? every
            table.add(Rule(kind: kind, topic: filter, endpoints: endpoints))
        }
        return table
    }

    /// A rule's `endpoints = ["local", "cloud"]` as bits; nil when it names none (all).
    private func ruleEndpoints(_ node: ConfigNode?, names: [String]?, key: String) throws(ConfigError) -> EndpointMask? {
        guard let node else { return nil }
        guard let names else {
            throw ConfigError("this rule names endpoints, but the section has no endpoints { } block (its one endpoint is url)", at: node.location, key: key)
        }
        let elements: [ConfigNode]
        if case .array(let array) = node.value { elements = array } else { elements = [node] }
        guard !elements.isEmpty else {
            throw ConfigError("names no endpoint: leave endpoints out to send to every endpoint", at: node.location, key: key)
        }
        var mask: EndpointMask = 0
        for element in elements {
            let name = try string(element, key: String(key.dropFirst(prefix.utf8.count + 1)))
            guard let index = names.firstIndex(of: name) else {
                throw ConfigError("unknown endpoint \(Quoting.quoted(name)); the endpoints are \(names.joined(separator: ", "))", at: element.location, key: key)
            }
            mask |= 1 << UInt64(index)
        }
        return mask
    }

    private func retry(_ node: ConfigNode?) throws(ConfigError) -> RetryPolicy {
        var policy = RetryPolicy()
        guard let object = try object(node, key: "retry") else { return policy }
        policy.maxAttempts = try integer(object, .retryMaxAttempts) ?? policy.maxAttempts
        policy.maxElapsedMs = try duration(object, .retryMaxElapsed) ?? policy.maxElapsedMs
        policy.initialBackoffMs = try duration(object, .retryInitialBackoff) ?? policy.initialBackoffMs
        policy.maxBackoffMs = try duration(object, .retryMaxBackoff) ?? policy.maxBackoffMs
        policy.maxRetryAfterMs = try duration(object, .retryMaxRetryAfter) ?? policy.maxRetryAfterMs
        if policy.maxBackoffMs < policy.initialBackoffMs {
            throw ConfigError("max_backoff (\(policy.maxBackoffMs) ms) is below initial_backoff (\(policy.initialBackoffMs) ms)",
                              at: object["max_backoff"]?.location ?? node?.location, key: "\(prefix).retry.max_backoff")
        }
        return policy
    }

    private func queue(_ node: ConfigNode?) throws(ConfigError) -> QueueLimits {
        var limits = QueueLimits()
        guard let object = try object(node, key: "queue") else { return limits }
        limits.maxEvents = try integer(object, .queueMaxEvents) ?? limits.maxEvents
        // A 32-bit process cannot hold more in memory anyway.
        limits.maxBytes = try size(object, .queueMaxBytes).map { Int(clamping: $0) } ?? limits.maxBytes
        limits.overflow = try choice(object, .queueOverflow, OverflowPolicy.self) ?? limits.overflow
        return limits
    }

    private func signing(_ node: ConfigNode?) throws(ConfigError) -> SigningSettings? {
        guard let object = try object(node, key: "signing") else { return nil }
        let key = "\(prefix).\(Setting.signingSecret.key)"
        guard let secretNode = object[Setting.signingSecret.name] else {
            throw ConfigError("signing needs a secret = \"whsec_...\" (or an array of them)", at: node?.location, key: key)
        }
        let nodes: [ConfigNode]
        if case .array(let elements) = secretNode.value { nodes = elements } else { nodes = [secretNode] }
        guard !nodes.isEmpty else { throw ConfigError("no secret given", at: secretNode.location, key: key) }
        var keys: [[UInt8]] = []
        for node in nodes {
            // Errors never quote the secret.
            let text = try string(node, key: Setting.signingSecret.key)
            switch SigningSettings.key(fromSecret: text) {
            case .success(let bytes): keys.append(bytes)
            case .failure(let problem): throw ConfigError(problem.message, at: node.location, key: key)
            }
        }
        return SigningSettings(keys: keys)
    }

    private func batch(_ node: ConfigNode?) throws(ConfigError) -> BatchSettings {
        var batch = BatchSettings()
        guard let object = try object(node, key: "batch") else { return batch }
        batch.maxEvents = try integer(object, .batchMaxEvents) ?? batch.maxEvents
        batch.maxBytes = try size(object, .batchMaxBytes).map { Int($0) } ?? batch.maxBytes
        batch.maxDelayMs = try duration(object, .batchMaxDelay) ?? batch.maxDelayMs
        return batch
    }

    /// Pipelining sends a lane's events before the first is answered, so an
    /// endpoint that refuses one (a 503) may already have taken the next:
    /// one client's events would then arrive out of order, which
    /// `per_client` promises never happens. Batches already put many events
    /// in one request.
    private func pipeline(_ object: ConfigObject, _ settings: WebhookSettings) throws(ConfigError) -> Int {
        guard let depth = try integer(object, .pipeline), depth > 1 else { return 1 }
        let location = object[Setting.pipeline.name]?.location
        if settings.ordering != .none {
            throw ConfigError("pipelining needs ordering = none (a refused request may be retried after a later one was taken, out of a client's order)",
                              at: location, key: "\(prefix).pipeline")
        }
        if settings.batch.isOn {
            throw ConfigError("pipelining and batches do not mix: choose one (a batch already sends many events in one request)",
                              at: location, key: "\(prefix).pipeline")
        }
        return depth
    }

    /// A batch larger than the limit could never go: refused here rather
    /// than sent over the limit or held for ever.
    private func rateLimit(_ node: ConfigNode?, batch: BatchSettings, pipeline: Int) throws(ConfigError) -> RateLimitSettings {
        var limit = RateLimitSettings()
        guard let object = try object(node, key: "rate_limit") else { return limit }
        limit.eventsPerSecond = try integer(object, .rateLimitEvents) ?? 0
        limit.bytesPerSecond = try size(object, .rateLimitBytes).map { Int($0) } ?? 0
        let together = max(batch.maxEvents, pipeline)
        if limit.eventsPerSecond > 0, together > limit.eventsPerSecond {
            throw ConfigError("\(together) events go out together (batch.max_events or pipeline) and could never go under this limit: make it at least that",
                              at: object[Setting.rateLimitEvents.name]?.location, key: "\(prefix).rate_limit.events_per_second")
        }
        return limit
    }

    private func spool(_ node: ConfigNode?) throws(ConfigError) -> SpoolSettings? {
        guard let object = try object(node, key: "spool") else { return nil }
        if try flag(object, .spoolEnable) == false { return nil }
        guard let dirNode = object[Setting.spoolDir.name] else {
            throw ConfigError("spool needs a dir = \"/path/to/a/directory\"", at: node?.location, key: "\(prefix).spool.dir")
        }
        let directory = try string(dirNode, key: Setting.spoolDir.key)
        guard directory.hasPrefix("/") || directory.hasPrefix("."), !directory.utf8.contains(0) else {
            throw ConfigError("expected a path (absolute, or starting with ./), got \(Quoting.quoted(directory))", at: dirNode.location, key: "\(prefix).spool.dir")
        }
        var spool = SpoolSettings(directory: directory, origin: "\(dirNode.location): \(prefix).spool.dir")
        spool.maxBytes = try size(object, .spoolMaxBytes) ?? spool.maxBytes
        spool.durability = try choice(object, .spoolDurability, SpoolDurability.self) ?? spool.durability
        spool.syncIntervalMs = try duration(object, .spoolSyncInterval) ?? spool.syncIntervalMs
        spool.deadLetters = try integer(object, .spoolDeadLetters) ?? spool.deadLetters
        spool.deadLetterMaxAgeMs = try duration(object, .spoolDeadLetterMaxAge) ?? spool.deadLetterMaxAgeMs
        return spool
    }

    // MARK: Typed reads

    private func object(_ node: ConfigNode?, key: String) throws(ConfigError) -> ConfigObject? {
        guard let node else { return nil }
        guard case .object(let object) = node.value else {
            throw ConfigError("expected an object { ... }", at: node.location, key: "\(prefix).\(key)")
        }
        return object
    }

    /// Never quotes the value in its errors, so secrets stay out of logs.
    private func string(_ node: ConfigNode, key: String) throws(ConfigError) -> String {
        if let bad = node.invalidUTF8At {
            throw ConfigError("not UTF-8 text: the byte at \(bad.line):\(bad.column) is not part of a UTF-8 character (percent-encode it in a URL, or write \\u escapes in a string)",
                              at: node.location, key: "\(prefix).\(key)")
        }
        switch node.value {
        case .scalar(let text, _): return text
        case .null: throw ConfigError("expected a string, got null", at: node.location, key: "\(prefix).\(key)")
        case .array: throw ConfigError("expected a string, got an array", at: node.location, key: "\(prefix).\(key)")
        case .object: throw ConfigError("expected a string, got an object", at: node.location, key: "\(prefix).\(key)")
        }
    }

    /// How a setting is named in messages: its key, under the block name
    /// the config used (`ssl.verify_peer` for `tls.verify_peer`).
    private func spelled(_ setting: Setting, in block: String?) -> String {
        guard let block, setting.block != nil else { return setting.key }
        return "\(block).\(setting.name)"
    }

    /// The setting's node in `object` (its block's object, or the section's).
    private func node(_ object: ConfigObject, _ setting: Setting) -> ConfigNode? {
        object[setting.name]
    }

    private func text(_ object: ConfigObject, _ setting: Setting, in block: String? = nil) throws(ConfigError) -> String? {
        guard let node = node(object, setting) else { return nil }
        return try string(node, key: spelled(setting, in: block))
    }

    private func flag(_ object: ConfigObject, _ setting: Setting, in block: String? = nil) throws(ConfigError) -> Bool? {
        guard let node = node(object, setting) else { return nil }
        let text = try string(node, key: spelled(setting, in: block))
        guard let value = Units.boolean(text) else {
            throw ConfigError("expected true or false (or on/off, yes/no), got \(Quoting.quoted(text))", at: node.location,
                              key: "\(prefix).\(spelled(setting, in: block))")
        }
        return value
    }

    private func integer(_ object: ConfigObject, _ setting: Setting) throws(ConfigError) -> Int? {
        guard case .integer(let range, _) = setting.kind else { fatalError("\(setting.key) is not an integer") }
        guard let node = node(object, setting) else { return nil }
        let text = try string(node, key: setting.key)
        guard let value = Units.integer(text), range.contains(value) else {
            throw ConfigError("expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(Quoting.quoted(text))",
                              at: node.location, key: "\(prefix).\(setting.key)")
        }
        return value
    }

    /// Milliseconds.
    private func duration(_ object: ConfigObject, _ setting: Setting) throws(ConfigError) -> Int? {
        guard case .duration(let range, _) = setting.kind else { fatalError("\(setting.key) is not a duration") }
        guard let node = node(object, setting) else { return nil }
        let text = try string(node, key: setting.key)
        guard let value = Units.durationMilliseconds(text), range.contains(value) else {
            throw ConfigError("expected a duration such as 5000, 500ms, 5s or 1m (from \(range.lowerBound) to \(range.upperBound) ms), got \(Quoting.quoted(text))",
                              at: node.location, key: "\(prefix).\(setting.key)")
        }
        return value
    }

    /// Bytes.
    private func size(_ object: ConfigObject, _ setting: Setting) throws(ConfigError) -> Int64? {
        guard case .size(let range, let fallback) = setting.kind else { fatalError("\(setting.key) is not a size") }
        guard let node = node(object, setting) else { return nil }
        let text = try string(node, key: setting.key)
        guard let value = Units.sizeBytes(text), range.contains(value) else {
            let bounds = range.lowerBound <= 1 ? "up to \(Units.sizeText(range.upperBound))"
                : "from \(Units.sizeText(range.lowerBound)) to \(Units.sizeText(range.upperBound))"
            throw ConfigError("expected a size \(bounds) such as \(Units.sizeText(fallback)), got \(Quoting.quoted(text))",
                              at: node.location, key: "\(prefix).\(setting.key)")
        }
        return value
    }

    /// One of the setting's words, as `T` (whose raw values the table's
    /// words are: SettingsTableTests holds them together).
    private func choice<T: RawRepresentable>(_ object: ConfigObject, _ setting: Setting, _ type: T.Type) throws(ConfigError) -> T? where T.RawValue == String {
        guard case .choice(let words, _) = setting.kind else { fatalError("\(setting.key) is not a choice") }
        guard let node = node(object, setting) else { return nil }
        let text = try string(node, key: setting.key)
        guard words.contains(text.lowercased()), let value = T(rawValue: text.lowercased()) else {
            throw ConfigError("expected \(Units.alternatives(words)), got \(Quoting.quoted(text))", at: node.location,
                              key: "\(prefix).\(setting.key)")
        }
        return value
    }

    private func readableFile(_ object: ConfigObject, _ setting: Setting, in block: String) throws(ConfigError) -> String? {
        guard let node = node(object, setting) else { return nil }
        let path = try string(node, key: spelled(setting, in: block))
        if path.isEmpty { return nil }
        do throws(Errno) {
            _ = try systemCall { access(path, R_OK) }
        } catch {
            throw ConfigError("cannot read \(path): \(error)", at: node.location, key: "\(prefix).\(spelled(setting, in: block))")
        }
        return path
    }

    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(c)
        }
    }
}
