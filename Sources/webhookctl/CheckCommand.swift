import ArgumentParser
import WebhookCore

/// `webhookctl check CONFIG`: validates a config and shows what it means.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config (HOCON or web.hook.*) and print the resolved settings, rules and sample bodies.")

    @Argument(help: "The broker config file (nanomq.conf, or any file with a webhook section).")
    var config: String

    func run() throws {
        let loaded: LoadedConfig
        let settings: WebhookSettings
        do {
            loaded = try ConfigLoader().load(path: config)
            settings = try SettingsResolver.settings(from: loaded)
        } catch {
            print("invalid: \(error)")
            throw ExitCode(1)
        }
        print("config: \(config) (\(loaded.syntax == .hocon ? "HOCON" : "legacy web.hook.*") syntax)")
        guard settings.enabled else {
            // Nothing else is used: a disabled section's problems are its warnings.
            print("enabled: no (every event is filtered; the rest of the section is not used)")
            for warning in settings.warnings { print("warning: \(warning)") }
            print("valid")
            return
        }
        print(SettingsReport.describe(settings))
        print("rules:")
        if settings.rules.rules.isEmpty { print("  (none: nothing will be sent)") }
        let builder = BodyBuilder(encoding: settings.encoding)
        for (index, rule) in settings.rules.rules.enumerated() {
            let topic = rule.topic.map { " topic \($0)" } ?? ""
            print("  \(index + 1). \(rule.kind.configName)\(topic)")
            let sample = SampleEvent.make(rule.kind, topic: SampleEvent.topic(matching: rule.topic))
            print("     sample body: \(String(decoding: builder.body(for: sample), as: UTF8.self))")
        }
        for warning in settings.warnings { print("warning: \(warning)") }
        print("valid")
    }
}

/// The resolved settings as text, secrets masked.
enum SettingsReport {
    static func describe(_ s: WebhookSettings) -> String {
        var lines: [String] = []
        lines.append("enabled: \(s.enabled ? "yes" : "no (every event is filtered)")")
        lines.append("url: \(s.url)")
        lines.append("headers:")
        for header in s.headers {
            lines.append("  \(header.name): \(header.isSecret ? "******** (secret)" : header.value)")
        }
        lines.append("body.encoding: \(s.encoding.rawValue)")
        lines.append("pool_size: \(s.poolSize)")
        lines.append("cancel_timeout: \(s.cancelTimeoutMs) ms")
        if let tls = s.tls {
            lines.append("tls: on, verify_peer \(tls.verifyPeer ? "yes" : "no"), server_name \(tls.serverName)")
            lines.append("  cacertfile: \(tls.caFile ?? "(none)")")
            if let cert = tls.certFile { lines.append("  certfile: \(cert), keyfile: \(tls.keyFile ?? "")") }
            if tls.keyPassword != nil { lines.append("  key_password: ******** (secret)") }
        } else {
            lines.append("tls: off")
        }
        lines.append("retry: max_attempts \(s.retry.maxAttempts == 0 ? "unlimited" : String(s.retry.maxAttempts)), max_elapsed \(s.retry.maxElapsedMs == 0 ? "unlimited" : "\(s.retry.maxElapsedMs) ms"), initial_backoff \(s.retry.initialBackoffMs) ms, max_backoff \(s.retry.maxBackoffMs) ms")
        lines.append("queue: max_events \(s.queue.maxEvents), max_bytes \(s.queue.maxBytes), overflow \(s.queue.overflow.rawValue)")
        lines.append("ordering: \(s.ordering.rawValue)")
        lines.append("drain_timeout: \(s.drainTimeoutMs) ms")
        lines.append("delivery_nice: \(s.deliveryNice)")
        lines.append("event_ids: \(s.eventIDs ? "on (webhook-id header)" : "off")")
        if let signing = s.signing {
            let count = signing.keys.count
            lines.append("signing: on, \(count) secret\(count == 1 ? "" : "s") ******** (masked), webhook-signature v1 (HMAC-SHA256)")
        } else {
            lines.append("signing: off")
        }
        if s.batch.isOn {
            lines.append("batch: max_events \(s.batch.maxEvents), max_bytes \(s.batch.maxBytes), max_delay \(s.batch.maxDelayMs) ms (JSON array)")
        } else {
            lines.append("batch: off (one event per request)")
        }
        if let spool = s.spool {
            lines.append("spool: \(spool.directory), max_bytes \(spool.maxBytes), durability \(spool.durability.rawValue), "
                + "sync_interval \(spool.syncIntervalMs) ms, when full \(s.queue.overflow.rawValue)")
        } else {
            lines.append("spool: off (memory only)")
        }
        return lines.joined(separator: "\n")
    }
}
