import ArgumentParser
import WebhookCore
import WebhookEngine
#if canImport(Glibc)
import Glibc
#endif

/// `webhookctl send CONFIG --event ...`: real events through the engine, so
/// with the config's ids, signing and batches.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send events to the config's endpoint through the delivery engine (signed and batched as the config says) and report the outcome.")

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

    @Option(help: "How many events (with a batch block, they travel in batches).")
    var count: Int = 1

    @Flag(help: "Send even if no rule of the config wants this event.")
    var ignoreRules = false

    @Option(help: "Seconds to wait for the outcome.")
    var timeout: Double = 30

    func validate() throws {
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be from 1 to 1000000") }
        guard EventKind(configName: event) != nil else {
            throw ValidationError("unknown event \"\(event)\"; expected one of \(EventKind.allCases.map(\.configName).joined(separator: ", "))")
        }
    }

    func run() throws {
        let settings = try ConfigFile.settings(config)
        guard settings.enabled else {
            print("the webhook is disabled in \(config) (enable = false)")
            throw ExitCode(1)
        }
        let kind = EventKind(configName: event)!
        // With --count, each payload is numbered so the receiver can tell them apart.
        let samples = (0..<count).map { index in
            SampleEvent.make(kind, topic: topic, payload: Array((count == 1 ? payload : "\(payload) #\(index + 1)").utf8),
                             clientID: clientid, username: username)
        }
        let sample = samples[0]
        let outcome = ReportBox(expecting: count)
        let log = Log(sink: LogSink { level, message in
            if level <= .warning { fputs("webhookctl: \(level.name): \(message)\n", stderr) }
        })
        let engine = try Engine(settings: settings, log: log) { outcome.set($0) }
        defer { engine.shutdown() }

        for event in samples {
            let result = ignoreRules ? engine.enqueue(event) : engine.submit(event)
            guard result == .queued else {
                print(result == .filtered ? "filtered out: no rule in \(config) wants \(self.event) with topic \(topic) (use --ignore-rules)" : "not queued: \(result)")
                throw ExitCode(1)
            }
        }
        print("POST \(settings.url)")
        print("body: \(String(decoding: BodyBuilder(encoding: settings.encoding).body(for: sample), as: UTF8.self))\(count > 1 ? " (and \(count - 1) more)" : "")")
        if settings.eventIDs || settings.signing != nil { print("webhook-id: on (the same on every retry)") }
        if let signing = settings.signing {
            print("signed: webhook-timestamp and webhook-signature v1 with \(signing.keys.count) secret\(signing.keys.count == 1 ? "" : "s")")
        }
        if settings.batch.isOn { print("batches: up to \(settings.batch.maxEvents) events per request, as a JSON array") }
        let reports = outcome.wait(seconds: timeout)
        guard reports.count == count else {
            print("no outcome for \(count - reports.count) of \(count) event\(count == 1 ? "" : "s") within \(timeout) s (still retrying)")
            throw ExitCode(1)
        }
        let failed = reports.filter { $0.outcome != .delivered }
        // One line: the event's outcome, or for several the count and the
        // first failure (else the last delivery).
        let shown = failed.first ?? reports.last!
        let status = shown.httpStatus.map { "HTTP \($0)" } ?? (shown.error ?? "no response")
        let ms = String(format2: Double(shown.latencyNs) / 1e6)
        let attempts = "\(shown.attempts) attempt\(shown.attempts == 1 ? "" : "s")"
        let tally = count == 1 ? "" : " \(count - failed.count) of \(count);"
        print(failed.isEmpty ? "delivered:\(tally) \(status) in \(ms) ms (\(attempts))"
                             : "failed:\(tally) \(status) after \(ms) ms (\(attempts))")
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

/// Hands the observer's reports (from nng threads) to the main thread.
final class ReportBox: @unchecked Sendable {
    private let lock = Lock()
    private let expected: Int
    private var reports: [DeliveryReport] = []

    init(expecting expected: Int) {
        self.expected = expected
    }

    func set(_ value: DeliveryReport) {
        lock.withLock {
            reports.append(value)
            lock.broadcast()
        }
    }

    /// The reports so far, once all came or the time is up.
    func wait(seconds: Double) -> [DeliveryReport] {
        let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        return lock.withLock {
            lock.wait(untilNanoseconds: deadline) { reports.count < expected }
            return reports
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
