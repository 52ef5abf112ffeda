import WebhookCore

/// Message levels, numbered as the C ABI's `swiftwebhook_log_level`.
public enum LogLevel: Int32, Sendable, Comparable {
    case error = 1
    case warning = 2
    case info = 3
    case debug = 4

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "info"
        case .debug: return "debug"
        }
    }
}

/// Where the library's messages go: the broker's logger, through the C
/// ABI's callback, or stderr by default.
public struct LogSink: Sendable {
    public var write: @Sendable (LogLevel, String) -> Void

    public init(_ write: @escaping @Sendable (LogLevel, String) -> Void) {
        self.write = write
    }
}

/// The engine's logger. Repeated messages of one kind (an endpoint that is
/// down fails every attempt) are let through once per `interval` with a
/// count of what was held back, so a dead endpoint cannot flood the
/// broker's log.
public final class Log: @unchecked Sendable {
    public let sink: LogSink
    private let intervalNs: UInt64
    private let lock = Lock()
    private var lastPrinted: [String: UInt64] = [:]
    private var suppressed: [String: Int] = [:]

    public init(sink: LogSink, interval seconds: Double = 10) {
        self.sink = sink
        self.intervalNs = UInt64(seconds * 1e9)
    }

    private init(sink: LogSink, intervalNs: UInt64) {
        self.sink = sink
        self.intervalNs = intervalNs
    }

    /// A logger to the same place whose repeats are counted apart: each
    /// endpoint's, so one endpoint's failures never hide another's.
    func separatelyLimited() -> Log {
        Log(sink: sink, intervalNs: intervalNs)
    }

    /// Always printed (init, shutdown, config warnings).
    public func log(_ level: LogLevel, _ message: String) {
        sink.write(level, message)
    }

    /// Printed at most once per interval for `key`.
    public func limited(_ level: LogLevel, key: String, _ message: @autoclosure () -> String) {
        let now = Clock.monotonicNanoseconds()
        let held: Int? = lock.withLock {
            if let last = lastPrinted[key], now &- last < intervalNs {
                suppressed[key, default: 0] += 1
                return nil
            }
            lastPrinted[key] = now
            return suppressed.removeValue(forKey: key) ?? 0
        }
        guard let held else { return }
        let text = message()
        sink.write(level, held > 0 ? "\(text) (\(held) similar messages suppressed)" : text)
    }
}

