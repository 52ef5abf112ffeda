import CSwiftWebhookABI
import WebhookEngine
import CPlatform

/// The process-wide log destination set by `webhook_set_log`: the only
/// global state the library has besides the handle table.
enum LogRouting {
    struct Destination {
        var function: swiftwebhook_log_fn?
        var userdata: UnsafeMutableRawPointer?
        var maxLevel: Int32
    }

    nonisolated(unsafe) private static var destination = Destination(function: nil, userdata: nil, maxLevel: LogLevel.warning.rawValue)
    /// Held while a message is handed over, so `webhook_set_log(NULL)`
    /// returns only once no thread can still call the old function.
    private static let lock = Lock()

    static func set(_ function: swiftwebhook_log_fn?, _ userdata: UnsafeMutableRawPointer?, maxLevel: Int32) {
        lock.withLock {
            destination = function == nil
                ? Destination(function: nil, userdata: nil, maxLevel: LogLevel.warning.rawValue)
                : Destination(function: function, userdata: userdata, maxLevel: maxLevel)
        }
    }

    static func write(_ level: LogLevel, _ message: String) {
        lock.withLock { deliver(level, message) }
    }

    private static func deliver(_ level: LogLevel, _ message: String) {
        guard level.rawValue <= destination.maxLevel else { return }
        if let function = destination.function {
            message.withCString { function(destination.userdata, level.rawValue, $0) }
        } else {
            let line = "swiftwebhook: \(level.name): \(message)\n"
            line.withCString { _ = fputs($0, stderr) }
        }
    }

    static let sink = LogSink { level, message in LogRouting.write(level, message) }
}
