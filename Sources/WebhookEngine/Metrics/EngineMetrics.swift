import WebhookCore

/// Everything the metrics text shows, taken at one moment: the counters,
/// and what they alone cannot say (the endpoint's health, how old the
/// oldest waiting event is).
public struct EngineMetrics: Sendable {
    /// The endpoint's name (a label when there are several).
    public var endpoint = WebhookSettings.defaultEndpointName
    public var stats = EngineStats()
    var endpointState = EndpointHealth.State.up
    /// Times the endpoint went down since start.
    var outages: UInt64 = 0
    /// Times a `410 Gone` disabled the endpoint.
    var disables: UInt64 = 0
    var circuitState = CircuitBreaker.State.closed
    /// Times the circuit opened.
    var circuitOpened: UInt64 = 0
    /// Sending to `backup_url` now (failed over).
    var onBackup = false
    /// Times it failed over to `backup_url` or back.
    var failovers: UInt64 = 0
    /// Since the last 2xx; nil: none yet.
    var sinceLastDeliveredNs: UInt64?
    /// How long the oldest event in memory has waited; nil: none waits.
    var oldestQueuedAgeNs: UInt64?
    /// How old the oldest event on disk (and not in memory) is; nil: none.
    var spoolOldestAgeMs: UInt64?

    public init() {}
}
