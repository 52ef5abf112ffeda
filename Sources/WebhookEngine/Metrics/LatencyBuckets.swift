/// Emit-to-2xx latencies counted in fixed buckets, for a Prometheus
/// histogram: exact counts per bucket (not derived from percentiles), the
/// sum and the count. Bounds in seconds: 0.5 ms to 60 s, about 2.5x apart,
/// which covers a loopback receiver and a slow cloud one alike.
struct LatencyBuckets: Equatable, Sendable {
    /// Upper bounds, microseconds; a last bucket (+Inf) holds the rest.
    static let boundsUs: [UInt64] = [
        500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
        500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
    ]
    /// Per bucket, not cumulative; index `boundsUs.count` is +Inf.
    private(set) var counts = InlineArray<17, UInt64>(repeating: 0)
    private(set) var sumUs: UInt64 = 0
    private(set) var count: UInt64 = 0

    init() {}

    mutating func record(microseconds: UInt64) {
        var i = 0
        // Latencies cluster low: a short scan from the bottom.
        while i < Self.boundsUs.count, microseconds > Self.boundsUs[i] { i += 1 }
        counts[i] &+= 1
        sumUs &+= microseconds
        count &+= 1
    }

    mutating func add(_ other: LatencyBuckets) {
        for i in 0..<17 { counts[i] &+= other.counts[i] }
        sumUs &+= other.sumUs
        count &+= other.count
    }

    /// Events at or below each bound, then the count (the +Inf bucket).
    var cumulative: [UInt64] {
        var running: UInt64 = 0
        var result: [UInt64] = []
        result.reserveCapacity(17)
        for i in 0..<17 {
            running &+= counts[i]
            result.append(running)
        }
        return result
    }

    static func == (a: LatencyBuckets, b: LatencyBuckets) -> Bool {
        a.cumulative == b.cumulative && a.sumUs == b.sumUs
    }
}
