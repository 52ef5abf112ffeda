import WebhookCore

/// `rate_limit { events_per_second, bytes_per_second }` as a plain value:
/// what was sent in the last second, in 10 ms buckets, and whether a
/// request may go now or how long it must wait. No clock, no lock, no I/O
/// (`RateGate` holds it for the connections; `RateWindowTests`).
///
/// A sliding window, not a token bucket: a bucket that holds a second's
/// worth lets twice the limit through in some second (a full bucket, then
/// its refill), and the limit is a promise about every second a receiver
/// can count. The window is 1.05 s, so the answers' arrival jitter on the
/// way (up to 50 ms) cannot put more than the limit into a receiver's second.
struct RateWindow {
    static let bucketNs: UInt64 = 10_000_000
    static let bucketCount = 105  // 1.05 s

    /// 0: no limit. A reload changes them and keeps what was counted.
    var eventsPerSecond: Int
    var bytesPerSecond: Int
    private var events = [Int](repeating: 0, count: bucketCount)
    private var bytes = [Int](repeating: 0, count: bucketCount)
    /// The bucket `now` falls in, as a count of buckets since the clock's zero.
    private var newest: UInt64 = 0

    init(_ settings: RateLimitSettings) {
        eventsPerSecond = settings.eventsPerSecond
        bytesPerSecond = settings.bytesPerSecond
    }

    /// A request of `eventCount` events and `byteCount` body bytes: nil when
    /// it may go now (and it is counted), or how long to wait before asking
    /// again. One that alone exceeds the byte limit goes when the window is
    /// empty (it could never go otherwise; the config keeps batches within
    /// the event limit).
    mutating func acquire(events eventCount: Int, bytes byteCount: Int, nowNs: UInt64) -> UInt64? {
        advance(to: nowNs / Self.bucketNs)
        var usedEvents = 0, usedBytes = 0
        for i in 0..<Self.bucketCount {
            usedEvents += events[i]
            usedBytes += bytes[i]
        }
        let empty = usedEvents == 0 && usedBytes == 0
        if empty || fits(usedEvents + eventCount, usedBytes + byteCount) {
            let slot = Int(newest % UInt64(Self.bucketCount))
            events[slot] += eventCount
            bytes[slot] += byteCount
            return nil
        }
        // Oldest first: when enough of the window has slid out, it fits.
        for age in stride(from: Self.bucketCount - 1, through: 0, by: -1) {
            let slot = Int((newest + UInt64(Self.bucketCount) - UInt64(age)) % UInt64(Self.bucketCount))
            usedEvents -= events[slot]
            usedBytes -= bytes[slot]
            let nothingLeft = usedEvents == 0 && usedBytes == 0
            if nothingLeft || fits(usedEvents + eventCount, usedBytes + byteCount) {
                // That bucket leaves the window when `newest` is `age + 1` buckets on.
                let leavesAt = (newest + UInt64(Self.bucketCount - age)) * Self.bucketNs
                return max(leavesAt > nowNs ? leavesAt - nowNs : 0, 1_000_000)
            }
        }
        return Self.bucketNs
    }

    private func fits(_ eventCount: Int, _ byteCount: Int) -> Bool {
        (eventsPerSecond == 0 || eventCount <= eventsPerSecond) && (bytesPerSecond == 0 || byteCount <= bytesPerSecond)
    }

    /// Empties the buckets that left the window since the last call.
    private mutating func advance(to bucket: UInt64) {
        guard bucket > newest else { return }
        let steps = min(bucket - newest, UInt64(Self.bucketCount))
        for step in 1...steps {
            let slot = Int((newest + step) % UInt64(Self.bucketCount))
            events[slot] = 0
            bytes[slot] = 0
        }
        newest = bucket
    }
}
