import Testing
import WebhookCore
@testable import WebhookEngine

/// The metrics' plain parts: the endpoint's health as a state machine, the
/// fixed latency buckets, and the text's number formatting. (The whole
/// text, parsed by Prometheus' own parser against the counters, is
/// Tests/C/metrics_test.py's.)
@Suite struct MetricsTests {
    @Test func theEndpointIsDownAfterThreeFailuresInARowAndUpAtTheNextAnswer() {
        var health = EndpointHealth()
        #expect(health.state == .up)
        #expect(health.attemptFailed(reason: "connect failed", nowNs: 100) == nil)
        #expect(health.state == .retrying)
        #expect(health.attemptAnswered(nowNs: 150) == nil, "a blip, not an outage")
        #expect(health.state == .up)

        #expect(health.attemptFailed(reason: "first", nowNs: 1_000) == nil)
        #expect(health.attemptFailed(reason: "second", nowNs: 2_000) == nil)
        #expect(health.attemptFailed(reason: "third", nowNs: 3_000) == .wentDown(sinceNs: 1_000, firstFailure: "first"))
        #expect(health.state == .down)
        #expect(health.attemptFailed(reason: "fourth", nowNs: 4_000) == nil, "down is said once")
        #expect(health.attemptAnswered(nowNs: 10_000) == .cameBack(downForNs: 9_000))
        #expect(health.state == .up && health.failuresInARow == 0)
        #expect(health.attemptAnswered(nowNs: 11_000) == nil)
    }

    @Test func latencyBucketsCountEachLatencyOnceAtItsBound() {
        var buckets = LatencyBuckets()
        for us: UInt64 in [0, 500, 501, 1_000, 59_999_999, 60_000_000, 60_000_001, 1 << 40] { buckets.record(microseconds: us) }
        let cumulative = buckets.cumulative
        #expect(cumulative.count == LatencyBuckets.boundsUs.count + 1)
        #expect(cumulative[0] == 2, "0 and 500 us are <= 0.0005 s")
        #expect(cumulative[1] == 4, "501 and 1000 us are <= 0.001 s")
        #expect(cumulative[LatencyBuckets.boundsUs.count - 1] == 6, "up to 60 s")
        #expect(cumulative.last == 8 && buckets.count == 8)
        var merged = LatencyBuckets()
        merged.add(buckets)
        merged.add(buckets)
        #expect(merged.count == 16 && merged.sumUs == 2 * buckets.sumUs)
    }

    @Test func secondsAreWrittenExactlyWithoutFloatingPoint() {
        #expect(PrometheusText.seconds(microseconds: 0) == "0")
        #expect(PrometheusText.seconds(microseconds: 500) == "0.0005")
        #expect(PrometheusText.seconds(microseconds: 1) == "0.000001")
        #expect(PrometheusText.seconds(microseconds: 2_500_000) == "2.5")
        #expect(PrometheusText.seconds(microseconds: 60_000_000) == "60")
        #expect(PrometheusText.seconds(microseconds: 1_234_567) == "1.234567")
        #expect(PrometheusText.escaped("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
    }

    @Test func aDisabledInstanceShowsOnlyItsInfo() {
        let text = PrometheusText.render(nil, version: "9.9.9")
        #expect(text == """
            # HELP swiftwebhook_info The library delivering the webhook, by version.
            # TYPE swiftwebhook_info gauge
            swiftwebhook_info{version="9.9.9"} 1
            # HELP swiftwebhook_enabled 1 when the webhook is enabled (enable = true), else 0.
            # TYPE swiftwebhook_enabled gauge
            swiftwebhook_enabled 0

            """)
    }

    @Test func everyLineIsAFamilyHeaderOrASampleOfOne() {
        var metrics = EngineMetrics()
        metrics.stats.matched = 3
        metrics.stats.matchedByKind[.messagePublish] = 3
        let text = PrometheusText.render([metrics], version: "1.0.0")
        var families = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                families.insert(String(line.split(separator: " ")[2]))
                continue
            }
            if line.hasPrefix("# HELP ") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            #expect(name.hasPrefix(PrometheusText.prefix), "\(line)")
            #expect(families.contains { name == $0 || name.hasPrefix($0 + "_") }, "a sample after its family: \(line)")
        }
        #expect(text.contains("swiftwebhook_matched_events_total{event=\"on_message_publish\"} 3\n"))
        #expect(text.contains("swiftwebhook_last_delivery_age_seconds NaN\n"))
        #expect(text.contains("swiftwebhook_endpoint_state{state=\"up\"} 1\n"))
    }
}
