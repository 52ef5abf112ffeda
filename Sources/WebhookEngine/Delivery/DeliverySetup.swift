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
    /// `backup_url`'s endpoint and request writer (its Host, its path).
    let backup: (endpoint: Endpoint, writer: RequestWriter)?
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
        let endpoint = try Endpoint(settings: settings)
        var backup: (Endpoint, RequestWriter)?
        if let backupSettings = settings.backupSettings {
            backup = (try Endpoint(settings: backupSettings), RequestWriter(settings: backupSettings))
        }
        self.init(settings: settings, endpoint: endpoint, backup: backup, generation: generation)
    }

    private init(settings: WebhookSettings, endpoint: Endpoint, backup: (endpoint: Endpoint, writer: RequestWriter)?, generation: UInt64) {
        self.settings = settings
        self.endpoint = endpoint
        self.backup = backup
        self.builder = BodyBuilder(encoding: settings.encoding)
        self.writer = RequestWriter(settings: settings)
        self.sendsIDs = settings.eventIDs || settings.signing != nil
        self.generation = generation
    }
}

extension DeliverySetup {
    /// The endpoint an attempt to `target` dials (the primary's when there is no backup).
    func endpoint(for target: Failover.Target) -> Endpoint {
        target == .backup ? backup?.endpoint ?? endpoint : endpoint
    }

    func writer(for target: Failover.Target) -> RequestWriter {
        target == .backup ? backup?.writer ?? writer : writer
    }

    /// The URL, for messages.
    func url(for target: Failover.Target) -> EndpointURL {
        target == .backup ? settings.backupURL ?? settings.url : settings.url
    }

    /// Every endpoint this setup made (freed at shutdown).
    var allEndpoints: [Endpoint] {
        backup.map { [endpoint, $0.endpoint] } ?? [endpoint]
    }
}

extension WebhookSettings {
    /// These settings as they apply to `backup_url`: its URL and its TLS.
    var backupSettings: WebhookSettings? {
        guard let backupURL else { return nil }
        var settings = self
        settings.url = backupURL
        settings.tls = backupTLS
        settings.backupURL = nil
        settings.backupTLS = nil
        return settings
    }
}
