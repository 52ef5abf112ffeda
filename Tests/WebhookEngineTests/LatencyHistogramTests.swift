import Testing
@testable import WebhookEngine

/// The emit-to-2xx histogram on its own: exact below 16 µs, within its
/// bucket width (about 6%) above, merged across lanes, never out of range.
@Suite struct LatencyHistogramTests {
    @Test func anEmptyHistogramSaysZero() {
        let histogram = LatencyHistogram()
        #expect(histogram.total == 0)
        #expect(histogram.percentile(0.5) == 0 && histogram.percentile(0.99) == 0)
    }

    @Test func smallValuesAreExact() {
        var histogram = LatencyHistogram()
        for value: UInt64 in [3, 5, 5, 7, 15] { histogram.record(microseconds: value) }
        #expect(histogram.total == 5)
        #expect(histogram.percentile(0.5) == 5)
        #expect(histogram.percentile(1.0) == 15)
        #expect(histogram.percentile(0.0) == 3, "the lowest value: rank 0 counts as the first")
    }

    @Test(arguments: [0.5, 0.9, 0.99, 0.999])
    func percentilesAreWithinABucketOfTheTruth(_ q: Double) {
        var histogram = LatencyHistogram()
        let values = (1...100_000).map { UInt64($0) }
        for value in values { histogram.record(microseconds: value) }
        let truth = Double(values[Int((Double(values.count) * q).rounded(.up)) - 1])
        let measured = Double(histogram.percentile(q))
        #expect(abs(measured - truth) / truth <= 1.0 / 16, "p\(q): \(measured) against \(truth)")
    }

    @Test func addingMergesCountsAndRange() {
        var fast = LatencyHistogram(), slow = LatencyHistogram(), merged = LatencyHistogram()
        for _ in 0..<90 { fast.record(microseconds: 10) }
        for _ in 0..<10 { slow.record(microseconds: 10_000) }
        merged.add(fast)
        merged.add(slow)
        merged.add(LatencyHistogram())          // an idle lane adds nothing
        #expect(merged.total == 100)
        #expect(merged.percentile(0.5) == 10)
        #expect(abs(Double(merged.percentile(0.95)) - 10_000) / 10_000 <= 1.0 / 16)
    }

    @Test func aHugeValueLandsInTheLastBucket() {
        var histogram = LatencyHistogram()
        histogram.record(microseconds: .max)
        histogram.record(microseconds: 1 << 50)
        #expect(histogram.total == 2)
        #expect(histogram.percentile(1.0) > 1 << 39, "clamped to the top bucket (2^40 µs), not wrapped")
    }
}
