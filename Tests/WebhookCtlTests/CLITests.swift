import Foundation
import Testing
import TestKit
import WebhookCore
@testable import WebhookEngine

/// The `webhookctl` binary, run as an operator would.
@Suite(.serialized) struct CLITests {
    /// Built next to the test bundle by `swift test`.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("webhookctl").path

    func run(_ arguments: String...) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["WEBHOOK_TOKEN"] = "t0p-s3cret"
        environment["WEBHOOK_TOKEN_SIGNING"] = "whsec_b2xkIHNlY3JldA=="
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func config(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "webhookctl-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func checkPrintsSettingsRulesAndSampleBodiesWithSecretsMasked() throws {
        let fixture = String(supportDirectory.dropLast("/Support".count)) + "/WebhookCoreTests/Fixtures/nanomq.conf"
        let (status, output) = try run("check", fixture)
        #expect(status == 0)
        #expect(output.contains("(HOCON syntax)"))
        #expect(output.contains("authorization: ******** (secret)"))
        #expect(!output.contains("t0p-s3cret"))
        #expect(output.contains("1. on_message_publish topic a/+/c"))
        #expect(output.contains(#"sample body: {"action":"client_subscribe","clientid":"sample-client","username":"sample-user","topic":"cmd/sample""#))
        #expect(output.hasSuffix("valid\n"))
    }

    @Test func checkReportsALocatedError() throws {
        let path = try config("webhook {\n  url = \"http://h/\"\n  pool_size = lots\n}\n")
        let (status, output) = try run("check", path)
        #expect(status == 1)
        #expect(output == "invalid: \(path):3:15: webhook.pool_size: expected a whole number from 1 to 1024, got \"lots\"\n")
    }

    /// The typos a new user made pass as valid with a warning each, and
    /// fail with --strict; every setting is shown, the retry cap and the
    /// response-body limit included.
    @Test func checkWarnsOfTyposAndStrictFailsOnThem() throws {
        let path = try config("""
            webhook {
              url = "http://127.0.0.1:9/hook"
              retry { max_atempts = 50 }
              queue { max_evnts = 10 }
              body { encodin = "base64" }
              tls { verfy = false }
            }
            """)
        let (status, output) = try run("check", path)
        #expect(status == 0)
        #expect(output.contains("warning: \(path):3:25: webhook.retry.max_atempts: unknown key, ignored (did you mean max_attempts?)"))
        #expect(output.contains("webhook.queue.max_evnts: unknown key, ignored (did you mean max_events?)"))
        #expect(output.contains("webhook.body.encodin: unknown key, ignored (did you mean encoding?)"))
        #expect(output.contains("webhook.tls.verfy: unknown key, ignored"))
        // Every key of the settings table is shown, once.
        for setting in Setting.all {
            #expect(output.components(separatedBy: "\n").filter { $0.hasPrefix("\(setting.key): ") }.count == 1, "\(setting.key)")
        }
        #expect(output.contains("retry.max_retry_after: 1m") && output.contains("max_response_body: 64KB"))
        #expect(output.hasSuffix("valid\n"))
        let strict = try run("check", "--strict", path)
        #expect(strict.status == 1)
        #expect(strict.output.contains("invalid: 4 warnings (--strict)"))
        let clean = try run("check", "--strict", try config("webhook { url = \"http://127.0.0.1:9/hook\" }"))
        #expect(clean.status == 0 && clean.output.hasSuffix("valid\n"))
    }

    /// docs/config.md's key reference is `webhookctl reference`, word for word.
    @Test func theDocsKeyReferenceIsTheSettingsTable() throws {
        let (status, output) = try run("reference")
        #expect(status == 0)
        let docs = try String(contentsOfFile: String(supportDirectory.dropLast("/Tests/Support".count)) + "/docs/config.md", encoding: .utf8)
        let begin = "<!-- webhookctl reference: begin -->\n", end = "<!-- webhookctl reference: end -->"
        guard let from = docs.range(of: begin), let to = docs.range(of: end) else {
            Issue.record("docs/config.md has no generated table between \(begin) and \(end)")
            return
        }
        #expect(String(docs[from.upperBound..<to.lowerBound]) == output,
                "docs/config.md differs from the settings table: paste `swift run webhookctl reference` between the markers")
        #expect(output.components(separatedBy: "\n").filter { $0.hasPrefix("| `") }.count == Setting.all.count)
    }

    @Test func sendDeliversAndReportsTheStatus() throws {
        let server = try HookServer()
        let path = try config("webhook {\n url = \"\(server.url)/in\"\n events = [ { event = on_message_publish, topic = \"a/#\" } ]\n}\n")
        let (status, output) = try run("send", path, "--topic", "a/b", "--payload", "hi there")
        #expect(status == 0, "\(output)")
        #expect(output.contains("delivered: HTTP 200 in "))
        let requests = try server.requests()
        #expect(requests.count == 1 && requests[0].json?["payload"] as? String == "hi there")

        let (filtered, filteredOutput) = try run("send", path, "--topic", "other")
        #expect(filtered == 1 && filteredOutput.contains("filtered out"))
        let (forced, _) = try run("send", path, "--topic", "other", "--ignore-rules")
        #expect(forced == 0)
    }

    @Test func sendReportsAFailure() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 403])
        let path = try config("webhook {\n url = \"\(server.url)/\"\n events = [ { event = on_client_connack } ]\n}\n")
        let (status, output) = try run("send", path, "--event", "on_client_connack")
        #expect(status == 1)
        #expect(output.contains("failed: HTTP 403 after"))
    }

    @Test func badCommandLineIsExitStatus64() throws {
        let (status, output) = try run("send", "/nonexistent.conf", "--event", "on_nothing")
        #expect(status == 64)
        #expect(output.contains("unknown event \"on_nothing\""))
    }

    // MARK: Signing and batches (issue 14)

    static let secret = "whsec_" + Data("webhookctl's test secret, 32 b!!".utf8).base64EncodedString()

    /// The bytes a receiver got for `request`, as `nc -l` would capture them.
    func captured(_ request: HookServer.Request, body: Data? = nil) throws -> String {
        var text = "\(request.method) \(request.path) HTTP/1.1\r\n"
        for (name, value) in request.headers where name != "content-length" { text += "\(name): \(value)\r\n" }
        let path = NSTemporaryDirectory() + "captured-\(UUID().uuidString).http"
        try (Data(text.utf8) + Data("\r\n".utf8) + (body ?? request.body)).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func sendSignsAndBatchesAndVerifyChecksWhatWasCaptured() throws {
        let server = try HookServer()
        let path = try config("""
            webhook {
              url = "\(server.url)/in"
              signing { secret = "\(Self.secret)" }
              batch { max_events = 10, max_delay = 500ms }
              events = [ { event = on_message_publish } ]
            }
            """)
        let (status, output) = try run("send", path, "--count", "5", "--payload", "p")
        #expect(status == 0, "\(output)")
        #expect(output.contains("signed: webhook-timestamp and webhook-signature v1 with 1 secret"))
        #expect(output.contains("batches: up to 10 events per request") && output.contains("delivered: 5 of 5;"))
        let requests = try server.requests()
        let elements = requests.flatMap { (try? JSONSerialization.jsonObject(with: $0.body) as? [[String: Any]]) ?? [] }
        #expect(elements.map { $0["payload"] as? String } == (1...5).map { "p #\($0)" }, "in order, in batches")
        #expect(requests.count < 5)
        let request = try #require(requests.first)
        #expect(request.header("webhook-signature")?.hasPrefix("v1,") == true && request.header("webhook-id") != nil)

        let file = try captured(request)
        let (valid, validOutput) = try run("verify", "--secret", Self.secret, file)
        #expect(valid == 0 && validOutput.hasPrefix("valid: signed with secret 1 of 1"), "\(validOutput)")
        let (fromConfig, _) = try run("verify", "--config", path, file)
        #expect(fromConfig == 0)
        // Rotation: the right secret second of two still verifies.
        let other = "whsec_" + Data(repeating: 9, count: 24).base64EncodedString()
        let (rotated, rotatedOutput) = try run("verify", "--secret", other, "--secret", Self.secret, file)
        #expect(rotated == 0 && rotatedOutput.hasPrefix("valid: signed with secret 2 of 2"))

        let tampered = try captured(request, body: Data(request.body.map { $0 == UInt8(ascii: "p") ? UInt8(ascii: "q") : $0 }))
        let (bad, badOutput) = try run("verify", "--secret", Self.secret, tampered)
        #expect(bad == 1 && badOutput.hasPrefix("invalid: no v1 signature matches"), "\(badOutput)")
        let (wrongKey, _) = try run("verify", "--secret", other, file)
        #expect(wrongKey == 1)
        let (noSecret, _) = try run("verify", file)
        #expect(noSecret == 64)
    }

    @Test func checkMasksSigningSecretsAndShowsIdsAndBatches() throws {
        // The old secret comes from the environment, as an operator keeps it out of the file.
        let path = try config("""
            webhook {
              url = "http://127.0.0.1:9/"
              signing { secret = ["\(Self.secret)", "${WEBHOOK_TOKEN_SIGNING}"] }
              batch { max_events = 100 }
              spool { dir = "/var/lib/nanomq/spool", durability = crash }
            }
            """)
        let (status, output) = try run("check", path)
        #expect(status == 0, "\(output)")
        #expect(output.contains("signing.secret: 2 secrets ******** (masked)") && output.contains("batch.max_events: 100 (JSON arrays)"))
        #expect(output.contains("spool.dir: /var/lib/nanomq/spool\nspool.max_bytes: 1GB\nspool.durability: crash\nspool.sync_interval: 10ms"))
        #expect(output.contains("event_ids: true (webhook-id header)"))
        #expect(!output.contains(String(Self.secret.dropFirst(6))) && !output.contains("b2xkIHNlY3JldA"))
    }

    @Test func verifyRefusesAStaleRequestEvenWhenItsSignatureIsRight() throws {
        let key = try #require(Base64.decode(Array(Self.secret.utf8).dropFirst(6)))
        let body = Array(#"{"action":"message_publish"}"#.utf8)
        let old = Int(Date().timeIntervalSince1970) - 3600
        let signature = try Signer(keys: [key]).signature(id: "x-0-1", timestamp: old, body: body)
        let path = NSTemporaryDirectory() + "stale-\(UUID().uuidString).http"
        let text = "POST / HTTP/1.1\r\nwebhook-id: x-0-1\r\nwebhook-timestamp: \(old)\r\nwebhook-signature: \(signature)\r\ncontent-length: \(body.count)\r\n\r\n"
        try (Data(text.utf8) + Data(body)).write(to: URL(fileURLWithPath: path))
        let (status, output) = try run("verify", "--secret", Self.secret, path)
        #expect(status == 1 && output.contains("s old (tolerance 300 s): a replay?"), "\(output)")
        let (lenient, _) = try run("verify", "--secret", Self.secret, "--tolerance", "7200", path)
        #expect(lenient == 0)
    }

    /// Several endpoints: `check` shows the section's keys, then each
    /// endpoint's (its own over the section's) and the rules that reach it;
    /// `dead` reads one endpoint's part of the spool, named with --endpoint.
    @Test func checkShowsEachEndpointAndDeadReadsOnesPartOfTheSpool() throws {
        let refusing = try HookServer(), taking = try HookServer()
        try refusing.setBehaviour(default: ["status": 422])
        let dir = NSTemporaryDirectory() + "dead-endpoints-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try config("""
            webhook {
              pool_size = 3
              endpoints {
                local { url = "\(taking.url)/hook" }
                cloud { url = "\(refusing.url)/hook", pool_size = 1, backup_url = "\(taking.url)/backup" }
              }
              spool { dir = "\(dir)" }
              events = [ { event = on_message_publish, topic = "plant/#", endpoints = [local, cloud] },
                         { event = on_client_connected, endpoints = cloud } ]
            }
            """)
        let (status, output) = try run("check", path)
        #expect(status == 0, "\(output)")
        #expect(output.contains("endpoints: local, cloud\n"))
        #expect(output.contains("endpoint local: reached by rule 1\n  its part of the spool: \(dir)/local\n  url: \(taking.url)/hook\n"), "\(output)")
        #expect(output.contains("endpoint cloud: reached by rules 1, 2\n"), "\(output)")
        #expect(output.contains("  pool_size: 3\n") && output.contains("  pool_size: 1\n") && output.contains("  backup_url: \(taking.url)/backup\n"))
        #expect(output.contains("1. on_message_publish topic plant/# -> local, cloud\n") && output.contains("2. on_client_connected -> cloud\n"))

        let engine = try Engine(settings: try ConfigLoader().settings(path: path), log: Log(sink: LogSink { _, _ in }))
        var event = Event(kind: .messagePublish)
        event.set(.clientID, "dev-1")
        event.set(.topic, "plant/a")
        event.set(.payload, "refused by cloud")
        #expect(engine.submit(event) == .queued)
        let deadline = Date().addingTimeInterval(10)
        while engine.stats().deadLetters < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        engine.shutdown()
        #expect(engine.metrics().map(\.stats.deadLetters) == [0, 1] && engine.metrics()[0].stats.delivered == 1)

        let (unnamed, why) = try run("dead", "list", "--config", path)
        #expect(unnamed == 64 && why.contains("name one with --endpoint (local, cloud)"), "\(why)")
        let (listed, list) = try run("dead", "list", "--config", path, "--endpoint", "cloud")
        #expect(listed == 0 && list.contains("1 dead letter(s) in \(dir)/cloud/swiftwebhook-spool.db") && list.contains("HTTP 422"), "\(list)")
        let (none, empty) = try run("dead", "list", "--config", path, "--endpoint", "local")
        #expect(none == 0 && !empty.contains("HTTP 422"), "\(empty)")
    }

    /// `webhookctl dead` beside a running engine that holds the spool: it
    /// lists, exports, marks and purges without waiting for the engine, and
    /// the engine sends what was marked at its reload.
    @Test func deadListsExportsReplaysAndPurgesBesideTheRunningEngine() throws {
        let server = try HookServer()
        try server.setBehaviour(script: [["status": 422], ["status": 410]])
        let dir = NSTemporaryDirectory() + "dead-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try config("""
            webhook {
              url = "\(server.url)/hook"
              spool { dir = "\(dir)" }
              events = [ { event = on_message_publish } ]
            }
            """)
        let engine = try Engine(settings: try ConfigLoader().settings(path: path), log: Log(sink: LogSink { _, _ in }))
        defer { engine.shutdown() }
        var event = Event(kind: .messagePublish)
        event.set(.clientID, "dev-1")
        event.set(.topic, "plant/a")
        for payload in ["first", "second"] {
            event.set(.payload, payload)
            #expect(engine.submit(event) == .queued)
        }
        let deadline = Date().addingTimeInterval(10)
        while engine.stats().deadLetters < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }

        let (listed, list) = try run("dead", "list", "--config", path)
        #expect(listed == 0, "\(list)")
        #expect(list.contains("2 dead letter(s) in \(dir)/swiftwebhook-spool.db"), "\(list)")
        #expect(list.contains("on_message_publish  client dev-1 topic plant/a  HTTP 422  attempts 1"), "\(list)")
        #expect(list.contains("HTTP 410  attempts 1"), "\(list)")

        let (exported, export) = try run("dead", "export", "--config", path)
        #expect(exported == 0)
        let lines = export.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 2 && lines.allSatisfy { $0 != nil })
        let body = lines.first??["body"] as? [String: Any]
        #expect(body?["payload"] as? String == "first" && body?["action"] as? String == "message_publish" && lines.first??["status"] as? Int == 422)

        #expect(try run("dead", "replay", "--config", path).status == 64, "neither --id nor --all")
        let firstID = String(list.split(separator: "\n")[1].split(separator: " ")[0])
        let (replayed, replay) = try run("dead", "replay", "--config", path, "--id", firstID)
        #expect(replayed == 0 && replay.hasPrefix("1 dead letter(s) marked for replay"), "\(replay)")
        _ = try engine.reload(try ConfigLoader().settings(path: path))
        let sent = Date().addingTimeInterval(10)
        while engine.stats().delivered < 1 && Date() < sent { Thread.sleep(forTimeInterval: 0.02) }
        #expect(engine.stats().delivered == 1 && engine.stats().deadLetters == 1, "\(engine.stats())")

        let (purged, purge) = try run("dead", "purge", "--config", path, "--all")
        #expect(purged == 0 && purge.hasPrefix("1 dead letter(s) deleted"), "\(purge)")
        #expect(try run("dead", "list", "--config", path).output.hasPrefix("0 dead letter(s)"))

        let noSpool = try config("webhook { url = \"http://127.0.0.1:1/\"\n events = [ { event = on_message_publish } ] }")
        let (refused, why) = try run("dead", "list", "--config", noSpool)
        #expect(refused == 1 && why.contains("no spool { } configured"), "\(why)")
    }
}
