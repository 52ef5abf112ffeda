import WebhookCore

/// What every connection shares: the queue, the endpoint, the settings.
final class DeliveryContext: @unchecked Sendable {
    let queue: DeliveryQueue<Connection>
    let endpoint: Endpoint
    let settings: WebhookSettings
    let builder: BodyBuilder
    let writer: RequestWriter
    /// The first part of the ids of events this engine accepted: random per
    /// engine, so ids stay unique across restarts (the lane and sequence
    /// restart at 0). Events replayed from the spool keep their own.
    let idTag: UInt64
    private let idTagText: String
    /// Whether requests carry `webhook-id`: on with `event_ids`, and always
    /// when signing (the signature covers the id).
    let sendsIDs: Bool
    let log: Log
    let observer: DeliveryObserver?
    let graveyard = Graveyard()
    /// Whether the endpoint answers: logged when it goes down and comes back.
    let monitor: EndpointMonitor
    let closer = ConnectionCloser()

    init(queue: DeliveryQueue<Connection>, endpoint: Endpoint, settings: WebhookSettings, log: Log, observer: DeliveryObserver?) {
        self.idTag = queue.idTag
        self.idTagText = String(queue.idTag, radix: 16)
        self.queue = queue
        self.endpoint = endpoint
        self.settings = settings
        self.builder = BodyBuilder(encoding: settings.encoding)
        self.writer = RequestWriter(settings: settings)
        self.sendsIDs = settings.eventIDs || settings.signing != nil
        self.log = log
        self.observer = observer
        self.monitor = EndpointMonitor(url: "\(settings.url)", log: log)
    }

    /// An event's id: `<engine tag>-<lane>-<sequence>`, the same on every
    /// retry and replay; a batch's is its first event's and `+<count>`.
    func id(_ id: EventID) -> String {
        "\(id.tag == idTag ? idTagText : String(id.tag, radix: 16))-\(id.lane)-\(id.sequence)"
    }
}
