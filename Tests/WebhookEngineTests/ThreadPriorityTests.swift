import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// `delivery_nice`: the threads that ran the engine's callbacks carry the
/// configured nice value, and the threads of the caller (the broker) keep theirs.
@Suite struct ThreadPriorityTests {
    /// Nice values of this process's threads named `name`, from /proc.
    func niceValues(ofThreadsNamed name: String) throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { tid in
            let comm = try String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)
            guard comm.trimmingCharacters(in: .whitespacesAndNewlines) == name else { return nil }
            let stat = try String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8)
            // After the ")" that ends the command name: field 19 (nice) is index 16.
            let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
            return Int(fields[16])
        }
    }

    @Test func deliveryThreadsRunBelowTheBroker() throws {
        let server = try HookServer()
        // The default; every engine in this test process uses it.
        let settings = try engineSettings(server.url, "pool_size = 8")
        #expect(settings.deliveryNice == 10)
        let engine = try Engine(settings: settings, log: LogCapture().log)
        for i in 0..<400 { _ = engine.submit(publish("c\(i % 40)", "\(i)")) }
        #expect(eventually { engine.stats().delivered == 400 })
        engine.shutdown()
        let tasks = try niceValues(ofThreadsNamed: "nng:task")
        // Every nng task thread has run callbacks by now (400 events over 8 connections).
        #expect(!tasks.isEmpty && tasks.allSatisfy { $0 == 10 }, "\(tasks)")
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == 0, "the calling thread keeps its own priority")
    }
}
