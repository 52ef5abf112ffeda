import WebhookCore

/// Dialers retired after a cancelled connect. Their dial may still be
/// pending inside nng, so freeing them now could block; after
/// `quarantineNs` the OS has long given up on the connect (Linux retries a
/// SYN for about two minutes) and the free returns at once.
final class Graveyard: @unchecked Sendable {
    static let quarantineNs: UInt64 = 300 * 1_000_000_000

    private let lock = Lock()
    private var retired: [(dialer: OpaquePointer, atNs: UInt64)] = []

    func retire(_ dialer: OpaquePointer) {
        let now = Clock.monotonicNanoseconds()
        lock.withLock { retired.append((dialer, now)) }
    }

    /// Dialers old enough to free, removed from the graveyard.
    func expired(nowNs: UInt64) -> [OpaquePointer] {
        lock.withLock {
            let old = retired.filter { nowNs &- $0.atNs >= Self.quarantineNs }.map { $0.dialer }
            retired.removeAll { nowNs &- $0.atNs >= Self.quarantineNs }
            return old
        }
    }

    /// Every retired dialer, at shutdown.
    func all() -> [OpaquePointer] {
        lock.withLock {
            defer { retired.removeAll() }
            return retired.map { $0.dialer }
        }
    }
}
