/// Emit-to-2xx latencies in log-linear buckets: 16 sub-buckets per power of
/// two, so a percentile is within about 6% of the truth, in fixed memory.
struct LatencyHistogram {
    private static let subBucketBits = 4
    private static let subBuckets = 1 << subBucketBits
    /// Microseconds up to 2^40 (12 days): more than any deadline allows.
    private static let bucketCount = (40 - subBucketBits + 1) * subBuckets

    /// Empty until the first latency: one histogram per lane, and most
    /// lanes of an idle or lightly used broker never record one (4.7 KB each).
    private var counts: [UInt64] = []
    private(set) var total: UInt64 = 0
    /// The buckets that have counts lie in lowest...highest: latencies
    /// cluster, and a stats snapshot adds up every lane's histogram under
    /// the lanes' locks, so it adds only this range (a few dozen buckets
    /// rather than 592 per lane).
    private var lowest = Int.max
    private var highest = -1
    /// The same latencies in the metrics histogram's fixed buckets (inline).
    private(set) var buckets = LatencyBuckets()

    mutating func record(microseconds: UInt64) {
        let i = Self.index(microseconds)
        if counts.isEmpty { counts = [UInt64](repeating: 0, count: Self.bucketCount) }
        counts[i] += 1
        total += 1
        lowest = min(lowest, i)
        highest = max(highest, i)
        buckets.record(microseconds: microseconds)
    }

    /// Adds another histogram's counts (the lanes' into the engine's).
    mutating func add(_ other: LatencyHistogram) {
        guard other.total > 0 else { return }
        buckets.add(other.buckets)
        if counts.isEmpty { counts = [UInt64](repeating: 0, count: Self.bucketCount) }
        counts.withUnsafeMutableBufferPointer { mine in
            other.counts.withUnsafeBufferPointer { theirs in
                for i in other.lowest...other.highest { mine[i] += theirs[i] }
            }
        }
        total += other.total
        lowest = min(lowest, other.lowest)
        highest = max(highest, other.highest)
    }

    /// The value at quantile `q` (0...1), in microseconds; 0 when empty.
    func percentile(_ q: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        // ceil(total * q), without libm's ceil (one dependency fewer).
        let exact = Double(total) * q
        let rank = UInt64(exact) + (Double(UInt64(exact)) < exact ? 1 : 0)
        var seen: UInt64 = 0
        for (i, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= max(rank, 1) { return Self.midpoint(i) }
        }
        return Self.midpoint(counts.count - 1)
    }

    private static func index(_ value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let magnitude = 63 - value.leadingZeroBitCount          // floor(log2)
        let shift = magnitude - subBucketBits
        let sub = Int(value >> UInt64(shift)) - subBuckets       // 0..<subBuckets
        let i = (shift + 1) * subBuckets + sub
        return min(i, bucketCount - 1)
    }

    private static func midpoint(_ i: Int) -> UInt64 {
        if i < subBuckets { return UInt64(i) }
        let shift = i / subBuckets - 1
        let sub = i % subBuckets
        let low = UInt64(subBuckets + sub) << UInt64(shift)
        return low + (UInt64(1) << UInt64(shift)) / 2
    }
}
