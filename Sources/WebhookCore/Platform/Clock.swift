import CPlatform

/// Wall and monotonic clocks, read through vDSO `clock_gettime` (tens of ns).
public enum Clock {
    /// Milliseconds since the Unix epoch: the `ts` of a body.
    @inline(__always)
    public static func wallMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1000 &+ UInt64(ts.tv_nsec) / 1_000_000
    }

    /// Monotonic nanoseconds: latencies and deadlines.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
