import ArgumentParser
import Foundation
import WebhookCore
import WebhookEngine

/// `webhookctl dead list|export|replay|purge --config FILE`: the spool's
/// dead letters (events that failed, kept with why), read and changed beside
/// the running broker: SQLite's own locking keeps the two apart, and a
/// change waits at most a second for the broker's writes.
struct DeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "List, export, replay or purge the spool's dead letters (failed events kept with their reason).",
        discussion: """
            Needs spool { dir = ... } in the config, and the spool's owner (the broker's user): the files are 0600.
            A replay marks dead letters; the running broker sends them again at its next reload
            (NanoMQ and Mosquitto: SIGHUP; NanoMQ: also POST /api/v4/reload), or at its next start.
            """,
        subcommands: [List.self, Export.self, Replay.self, Purge.self])

    struct Options: ParsableArguments {
        @Option(help: "The broker config file whose spool { dir } holds the dead letters.")
        var config: String

        @Option(help: "With endpoints { }: the endpoint whose part of the spool to read.")
        var endpoint: String?

        func open() throws -> DeadLetterFile {
            var settings = try ConfigFile.settings(config)
            if settings.hasNamedEndpoints {
                let names = settings.endpoints.map { $0.endpointName }
                guard let endpoint, let chosen = settings.endpoints.first(where: { $0.endpointName == endpoint }) else {
                    print("\(config) has several endpoints, each with its own dead letters: name one with --endpoint (\(names.joined(separator: ", ")))")
                    throw ExitCode(64)
                }
                settings = chosen
            }
            guard let spool = settings.spool else {
                print("\(config): no spool { } configured: without one, failed events are counted only (failed_events_total)")
                throw ExitCode(1)
            }
            do {
                return try DeadLetterFile(spool)
            } catch {
                print("cannot open the dead letters: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// "2026-12-07T00:12:03Z".
    static func time(_ ms: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Which dead letters a command changes: `--id` (repeated) or `--all`.
    struct Selection: ParsableArguments {
        @Option(name: .customLong("id"), help: "A dead letter's id (repeat for more).") var ids: [Int64] = []
        @Flag(help: "Every dead letter.") var all = false

        /// The ids, or nil for all.
        func chosen() throws -> [Int64]? {
            if all == !ids.isEmpty {
                print("name dead letters with --id (one or more), or --all")
                throw ExitCode(64)
            }
            return all ? nil : ids
        }
    }

    static func run<T>(_ body: () throws(EngineError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            print("failed: \(error)")
            throw ExitCode(1)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per dead letter, oldest first.")
        @OptionGroup var options: Options
        @Option(help: "At most this many.") var limit = 1000

        func run() throws {
            let file = try options.open()
            let letters = try DeadCommand.run { () throws(EngineError) in try file.list(limit: limit) }
            print("\(letters.count) dead letter(s) in \(file.path)")
            for letter in letters {
                let event = letter.event
                let topic = event.string(.topic).map { " topic \($0)" } ?? ""
                print("\(letter.id)  \(DeadCommand.time(letter.failedAtMs))  \(event.kind.configName)  client \(event.string(.clientID) ?? "")"
                    + "\(topic)  \(letter.reason)  attempts \(letter.attempts)\(letter.markedForReplay ? "  (marked for replay)" : "")")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One JSON object per line: the dead letter's id, time, reason, status, attempts and the body that was sent.")
        @OptionGroup var options: Options

        func run() throws {
            let file = try options.open()
            let settings = try ConfigFile.settings(options.config)
            let builder = BodyBuilder(encoding: settings.encoding)
            for letter in try DeadCommand.run({ () throws(EngineError) in try file.list() }) {
                let body = try JSONSerialization.jsonObject(with: Data(builder.body(for: letter.event)))
                let line: [String: Any] = ["id": letter.id, "failed_at": DeadCommand.time(letter.failedAtMs), "reason": letter.reason,
                                           "status": letter.status, "attempts": letter.attempts, "body": body]
                let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark dead letters to be sent again at the broker's next reload (SIGHUP) or start.")
        @OptionGroup var options: Options
        @OptionGroup var selection: Selection

        func run() throws {
            let chosen = try selection.chosen()
            let file = try options.open()
            let marked = try DeadCommand.run { () throws(EngineError) in try file.markForReplay(ids: chosen) }
            print("\(marked) dead letter(s) marked for replay: reload the broker (SIGHUP) to send them now, or they go at its next start")
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead letters.")
        @OptionGroup var options: Options
        @OptionGroup var selection: Selection

        func run() throws {
            let chosen = try selection.chosen()
            let file = try options.open()
            let purged = try DeadCommand.run { () throws(EngineError) in try file.purge(ids: chosen) }
            print("\(purged) dead letter(s) deleted")
        }
    }
}
