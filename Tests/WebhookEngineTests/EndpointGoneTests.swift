import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// `410 Gone` (Standard Webhooks: stop sending): the endpoint is disabled
/// until a reload or a restart. Its events fail without a request, counted
/// and kept as dead letters like any failure; one log line says so.
@Suite(.serialized) struct EndpointGoneTests {
    @Test func a410DisablesTheEndpointUntilAReload() throws {
        let server = try HookServer()
        try server.setBehaviour(default: ["status": 200], script: [["status": 410]])
        let settings = try engineSettings(server.url + "/hook", "pool_size = 2")
        let capture = LogCapture()
        let engine = try Engine(settings: settings, log: capture.log)
        _ = engine.submit(publish("c", "0"))
        #expect(eventually { engine.stats().failed == 1 })
        for i in 1...20 { _ = engine.submit(publish("c\(i)", "\(i)")) }
        #expect(eventually { engine.stats().failed == 21 }, "\(engine.stats())")
        #expect(try server.connectionStats().requests == 1, "nothing is sent after the 410")
        let metrics = engine.metrics()[0]
        #expect(metrics.endpointState == .disabled && metrics.disables == 1)
        #expect(engine.stats().endpointsDown == 1 && engine.stats().endpoints == 1)
        let text = PrometheusText.render([metrics], version: "test")
        #expect(text.contains("swiftwebhook_endpoint_state{state=\"disabled\"} 1\n"))
        #expect(text.contains("swiftwebhook_endpoint_disabled_total 1\n"))
        #expect(capture.messages.filter { $0.contains("410 Gone: disabled") }.count == 1, "logged once: \(capture.messages)")

        // A reload (the same file, the operator has fixed the receiver) enables it again.
        _ = try engine.reload(settings)
        for i in 0..<5 { _ = engine.submit(publish("d", "\(i)")) }
        #expect(eventually { engine.stats().delivered == 5 }, "\(engine.stats())")
        engine.shutdown()
        let stats = engine.stats()
        #expect(stats.isBalanced && stats.failed == 21 && stats.delivered == 5 && stats.retried == 0, "\(stats)")
        #expect(engine.metrics()[0].endpointState == .up)
        #expect(capture.messages.contains { $0.contains("enabled again by a reload") })
    }

    @Test func goneIsAStateOnlyAReloadLeaves() {
        var health = EndpointHealth()
        let first = health.gone(), second = health.gone()
        #expect(first && !second, "the second 410 is not news")
        let change = health.attemptAnswered(nowNs: 1)
        #expect(change == nil && health.state == .disabled)
        for _ in 0..<EndpointHealth.downAfter { _ = health.attemptFailed(reason: "x", nowNs: 2) }
        #expect(health.state == .disabled)
    }
}
