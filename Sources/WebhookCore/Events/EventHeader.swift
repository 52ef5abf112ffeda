/// The fixed-size part of an event: its kind and every field that is not
/// bytes. Plain values only (no references), so it is copied for free.
public struct EventHeader: Equatable, Sendable {
    public var kind: EventKind
    public var protocolVersion: UInt8 = 4
    public var keepalive: UInt16 = 0
    public var reasonCode: UInt8 = 0
    public var qos: UInt8 = 0
    public var retain: Bool = false
    /// Subscription options: no local, retain as published, retain handling.
    public var noLocal: Bool = false
    public var retainAsPublished: Bool = false
    public var retainHandling: UInt8 = 0
    /// Milliseconds since the epoch.
    public var timestampMs: UInt64 = 0

    public init(kind: EventKind) {
        self.kind = kind
    }
}
