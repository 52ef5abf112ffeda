import WebhookCore

/// What a connection needs from the settings to deliver an event: the
/// endpoint (URL, TLS), how bodies and requests are written, and the
/// settings themselves (retry, batch, signing). One per config: a reload
/// makes a new one, and each connection moves to it between events, so an
/// event is sent, retried and signed with the setup it was begun with.
final class DeliverySetup: @unchecked Sendable {
    let settings: WebhookSettings
    let endpoint: Endpoint
    let builder: BodyBuilder
    let writer: RequestWriter
    /// Whether requests carry `webhook-id`: on with `event_ids`, and always
    /// when signing (the signature covers the id).
    let sendsIDs: Bool
    /// 1 for the config the engine started with, then one more per reload.
    let generation: UInt64

    /// Everything that can fail (the URL, the TLS files) fails here, before
    /// the setup exists (Embedded Swift never frees an object whose
    /// designated initializer throws half-way: see Engine.init).
    convenience init(settings: WebhookSettings, generation: UInt64) throws(EngineError) {
        if settings.compression == .gzip { try Gzip.load() }
        self.init(settings: settings, endpoint: try Endpoint(settings: settings), generation: generation)
    }

    private init(settings: WebhookSettings, endpoint: Endpoint, generation: UInt64) {
        self.settings = settings
        self.endpoint = endpoint
        self.builder = BodyBuilder(encoding: settings.encoding)
        self.writer = RequestWriter(settings: settings)
        self.sendsIDs = settings.eventIDs || settings.signing != nil
        self.generation = generation
    }
}
