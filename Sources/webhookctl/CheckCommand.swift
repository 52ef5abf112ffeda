import ArgumentParser
import WebhookCore

/// `webhookctl check CONFIG`: validates a config and shows what it means.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config (HOCON or web.hook.*) and print the resolved settings, rules and sample bodies.")

    @Argument(help: "The broker config file (nanomq.conf, or any file with a webhook section).")
    var config: String

    @Flag(help: "Treat warnings (unknown keys, ignored topic filters) as errors: exit 1 if there are any.")
    var strict = false

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
            return try finish(settings.warnings)
        }
        let endpoints = settings.deliveryEndpoints
        if settings.hasNamedEndpoints {
            print(SettingsReport.describe(settings, keys: SettingsReport.sectionKeys))
            for (index, endpoint) in endpoints.enumerated() {
                let reaching = settings.rules.rules.indices.filter { settings.rules.rules[$0].endpoints & (1 << UInt64(index)) != 0 }
                print("endpoint \(endpoint.endpointName): reached by \(reaching.isEmpty ? "no rule" : "rule\(reaching.count == 1 ? "" : "s") \(reaching.map { "\($0 + 1)" }.joined(separator: ", "))")")
                if let spool = endpoint.spool { print("  its part of the spool: \(spool.directory)") }
                print(SettingsReport.describe(endpoint, keys: SettingsReport.endpointKeys).split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
            }
        } else {
            print(SettingsReport.describe(settings))
        }
        print("rules:")
        if settings.rules.rules.isEmpty { print("  (none: nothing will be sent)") }
        let builder = BodyBuilder(encoding: settings.encoding)
        for (index, rule) in settings.rules.rules.enumerated() {
            let topic = rule.topic.map { " topic \($0)" } ?? ""
            let names = endpoints.indices.filter { rule.endpoints & (1 << UInt64($0)) != 0 }.map { endpoints[$0].endpointName }
            print("  \(index + 1). \(rule.kind.configName)\(topic)\(settings.hasNamedEndpoints ? " -> \(names.joined(separator: ", "))" : "")")
            let sample = SampleEvent.make(rule.kind, topic: SampleEvent.topic(matching: rule.topic))
            print("     sample body: \(String(decoding: builder.body(for: sample), as: UTF8.self))")
        }
        try finish(settings.warnings)
    }

    /// The warnings, then the verdict: valid, or (with --strict and
    /// warnings) invalid with exit status 1.
    private func finish(_ warnings: [String]) throws {
        for warning in warnings { print("warning: \(warning)") }
        if strict && !warnings.isEmpty {
            print("invalid: \(warnings.count) warning\(warnings.count == 1 ? "" : "s") (--strict)")
            throw ExitCode(1)
        }
        print("valid")
    }
}

/// The resolved settings as text, secrets masked: every key of the
/// settings table, in its order.
enum SettingsReport {
    static func describe(_ s: WebhookSettings, keys: [Setting] = Setting.all) -> String {
        keys.map { "\($0.key): \($0.show(s))" }.joined(separator: "\n")
    }

    /// With `endpoints { }`: the section's own keys, and each endpoint's.
    static let sectionKeys = Setting.all.filter { SettingsResolver.sectionOnlyKeys.contains($0.block ?? $0.key) }
    static let endpointKeys = Setting.all.filter { !SettingsResolver.sectionOnlyKeys.contains($0.block ?? $0.key) }
}
