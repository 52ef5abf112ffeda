import ArgumentParser
import WebhookCore
import WebhookEngine
#if canImport(Glibc)
import Glibc
#endif

/// `webhookctl send CONFIG --event ...`: one real event through the engine.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one event to the config's endpoint through the delivery engine and report the outcome.")

    @Argument(help: "The broker config file.")
    var config: String

    @Option(help: "The event, e.g. on_message_publish.")
    var event: String = "on_message_publish"

    @Option(help: "Topic (message and subscribe events).")
    var topic: String = "webhookctl/test"

    @Option(help: "Payload text (message events).")
    var payload: String = "hello from webhookctl"

    @Option(help: "Client id.")
    var clientid: String = "webhookctl"

    @Option(help: "Username.")
    var username: String?

    @Flag(help: "Send even if no rule of the config wants this event.")
    var ignoreRules = false

    @Option(help: "Seconds to wait for the outcome.")
    var timeout: Double = 30

    func validate() throws {
        guard EventKind(configName: event) != nil else {
            throw ValidationError("unknown event \"\(event)\"; expected one of \(EventKind.allCases.map(\.configName).joined(separator: ", "))")
        }
    }

    func run() throws {
        let settings: WebhookSettings
        do {
            settings = try ConfigLoader().settings(path: config)
        } catch {
            print("invalid: \(error)")
            throw ExitCode(1)
        }
        guard settings.enabled else {
            print("the webhook is disabled in \(config) (enable = false)")
            throw ExitCode(1)
        }
        let kind = EventKind(configName: event)!
        let sample = SampleEvent.make(kind, topic: topic, payload: Array(payload.utf8), clientID: clientid, username: username)
        let outcome = ReportBox()
        let log = Log(sink: LogSink { level, message in
            if level <= .warning { fputs("webhookctl: \(level.name): \(message)\n", stderr) }
        })
        let engine = try Engine(settings: settings, log: log) { outcome.set($0) }
        defer { engine.shutdown() }

        let result = ignoreRules ? engine.enqueue(sample) : engine.submit(sample)
        guard result == .queued else {
            print(result == .filtered ? "filtered out: no rule in \(config) wants \(event) with topic \(topic) (use --ignore-rules)" : "not queued: \(result)")
            throw ExitCode(1)
        }
        print("POST \(settings.url)")
        print("body: \(String(decoding: BodyBuilder(encoding: settings.encoding).body(for: sample), as: UTF8.self))")
        guard let report = outcome.wait(seconds: timeout) else {
            print("no outcome within \(timeout) s (still retrying)")
            throw ExitCode(1)
        }
        let status = report.httpStatus.map { "HTTP \($0)" } ?? (report.error ?? "no response")
        let ms = Double(report.latencyNs) / 1e6
        let attempts = "\(report.attempts) attempt\(report.attempts == 1 ? "" : "s")"
        switch report.outcome {
        case .delivered:
            print("delivered: \(status) in \(String(format2: ms)) ms (\(attempts))")
        case .failed, .droppedAtShutdown:
            print("failed: \(status) after \(String(format2: ms)) ms (\(attempts))")
            throw ExitCode(1)
        }
    }
}

/// Hands the observer's report (from an nng thread) to the main thread.
final class ReportBox: @unchecked Sendable {
    private let lock = Lock()
    private var report: DeliveryReport?

    func set(_ value: DeliveryReport) {
        lock.withLock {
            report = value
            lock.broadcast()
        }
    }

    func wait(seconds: Double) -> DeliveryReport? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        return lock.withLock {
            lock.wait(untilNanoseconds: deadline) { report == nil }
            return report
        }
    }
}

extension String {
    /// Two decimals without Foundation.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
