import Foundation
import Testing

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
}
