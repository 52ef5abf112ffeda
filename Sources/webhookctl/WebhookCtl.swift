import ArgumentParser
import CSwiftWebhookABI

/// `webhookctl`: the operator's tool for libswiftwebhook configs.
///
///     webhookctl check /etc/nanomq.conf
///     webhookctl send /etc/nanomq.conf --event on_message_publish --topic a/b --payload hi
///     webhookctl verify --secret whsec_... captured-request.txt
@main
struct WebhookCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhookctl",
        abstract: "Check NanoMQ webhook configs and send test events through libswiftwebhook.",
        discussion: """
            Exit status: 0 success, 1 invalid config or failed delivery, 64 bad command line.
            """,
        version: String(cString: swh_library_version()),  // the header's SWIFTWEBHOOK_VERSION
        subcommands: [CheckCommand.self, SendCommand.self, VerifyCommand.self, ReferenceCommand.self, DeadCommand.self]
    )
}
