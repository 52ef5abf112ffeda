/// The twelve broker events. Raw values are the C ABI's `webhook_event_type`
/// numbers: never reorder, only append.
public enum EventKind: UInt8, CaseIterable, Sendable {
    case clientConnect = 0
    case clientConnack = 1
    case clientConnected = 2
    case clientDisconnected = 3
    case clientSubscribe = 4
    case clientUnsubscribe = 5
    case sessionSubscribed = 6
    case sessionUnsubscribed = 7
    case sessionTerminated = 8
    case messagePublish = 9
    case messageDelivered = 10
    case messageAcked = 11

    /// The name used in configs: `on_message_publish`.
    public var configName: String { "on_" + action }

    /// The body's `action`: the config name without `on_`.
    public var action: String {
        switch self {
        case .clientConnect: return "client_connect"
        case .clientConnack: return "client_connack"
        case .clientConnected: return "client_connected"
        case .clientDisconnected: return "client_disconnected"
        case .clientSubscribe: return "client_subscribe"
        case .clientUnsubscribe: return "client_unsubscribe"
        case .sessionSubscribed: return "session_subscribed"
        case .sessionUnsubscribed: return "session_unsubscribed"
        case .sessionTerminated: return "session_terminated"
        case .messagePublish: return "message_publish"
        case .messageDelivered: return "message_delivered"
        case .messageAcked: return "message_acked"
        }
    }

    public init?(configName: String) {
        guard let kind = EventKind.allCases.first(where: { $0.configName == configName }) else { return nil }
        self = kind
    }

    /// Whether a rule's `topic` applies: the message topic for message
    /// events, the subscribed filter for (un)subscribe events.
    public var hasTopic: Bool {
        switch self {
        case .clientConnect, .clientConnack, .clientConnected, .clientDisconnected, .sessionTerminated:
            return false
        default:
            return true
        }
    }

    /// Whether the topic is a subscription filter (subscribe-family events),
    /// which may name a shared subscription, rather than a message's topic name.
    public var topicIsFilter: Bool {
        hasTopic && !hasPayload
    }

    /// Whether the body carries the (encoded) payload.
    public var hasPayload: Bool {
        self == .messagePublish || self == .messageDelivered || self == .messageAcked
    }
}
