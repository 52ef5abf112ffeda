import ArgumentParser
import WebhookCore

/// `webhookctl reference`: every key of the webhook section, with its type,
/// range, default and a line of doc, as the Markdown table docs/config.md
/// holds (written from the settings table, so it is the library's own).
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Print every config key with its type, range and default (the table in docs/config.md).")

    func run() {
        print(SettingsReference.table(), terminator: "")
    }
}
