/// Names for MQTT reason codes, as the bodies report them.
enum ReasonNames {
    /// `conn_ack`: `"success"` for 0 (what NanoMQ sends and receivers test
    /// for), otherwise the CONNACK reason-code name of the client's protocol.
    static func connack(code: UInt8, protocolVersion: UInt8) -> String {
        if code == 0 { return "success" }
        if protocolVersion < 5 {
            switch code {
            case 1: return "unsupported_protocol_version"
            case 2: return "client_identifier_not_valid"
            case 3: return "server_unavailable"
            case 4: return "bad_username_or_password"
            case 5: return "not_authorized"
            default: break
            }
        }
        return mqtt5(code) ?? "reason_code_\(code)"
    }

    /// `reason` of client_disconnected and session_terminated: the broker's
    /// reason string when it gives one, else a name for the code.
    static func disconnect(code: UInt8, reasonString: String?) -> String {
        if let reasonString, !reasonString.isEmpty { return reasonString }
        switch code {
        case 0x00: return "normal"
        case 0x04: return "disconnect_with_will_message"
        // The names EMQX uses, which receivers already match on.
        case 0x8D: return "keepalive_timeout"
        case 0x8E: return "takeovered"
        case 0x98: return "kicked"
        default: return mqtt5(code) ?? "reason_code_\(code)"
        }
    }

    /// MQTT 5.0 reason codes (section 2.4) that CONNACK and DISCONNECT use.
    private static func mqtt5(_ code: UInt8) -> String? {
        switch code {
        case 0x80: return "unspecified_error"
        case 0x81: return "malformed_packet"
        case 0x82: return "protocol_error"
        case 0x83: return "implementation_specific_error"
        case 0x84: return "unsupported_protocol_version"
        case 0x85: return "client_identifier_not_valid"
        case 0x86: return "bad_username_or_password"
        case 0x87: return "not_authorized"
        case 0x88: return "server_unavailable"
        case 0x89: return "server_busy"
        case 0x8A: return "banned"
        case 0x8B: return "server_shutting_down"
        case 0x8C: return "bad_authentication_method"
        case 0x8D: return "keep_alive_timeout"
        case 0x8E: return "session_taken_over"
        case 0x8F: return "topic_filter_invalid"
        case 0x90: return "topic_name_invalid"
        case 0x93: return "receive_maximum_exceeded"
        case 0x94: return "topic_alias_invalid"
        case 0x95: return "packet_too_large"
        case 0x96: return "message_rate_too_high"
        case 0x97: return "quota_exceeded"
        case 0x98: return "administrative_action"
        case 0x99: return "payload_format_invalid"
        case 0x9A: return "retain_not_supported"
        case 0x9B: return "qos_not_supported"
        case 0x9C: return "use_another_server"
        case 0x9D: return "server_moved"
        case 0x9E: return "shared_subscriptions_not_supported"
        case 0x9F: return "connection_rate_exceeded"
        case 0xA0: return "maximum_connect_time"
        case 0xA1: return "subscription_identifiers_not_supported"
        case 0xA2: return "wildcard_subscriptions_not_supported"
        default: return nil
        }
    }
}
