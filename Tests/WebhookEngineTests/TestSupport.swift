import Foundation
import Testing
import TestKit
import WebhookCore
import WebhookEngine

// What the engine tests share, besides the servers (HookServer, RawServer):
// polling, log capture, settings and events, ports, memory.

/// Polls `condition` until it holds or `seconds` pass.
@discardableResult
func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

/// Collects the engine's log lines.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(LogLevel, String)] = []

    var log: Log {
        Log(sink: LogSink { [self] level, message in
            lock.lock()
            lines.append((level, message))
            lock.unlock()
        })
    }

    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines.map(\.1)
    }
}

/// Settings for a test: the URL plus HOCON lines inside `webhook {}`.
func engineSettings(_ url: String, _ extra: String = "", rules: String = "{ event = on_message_publish }") throws -> WebhookSettings {
    try ConfigLoader(environment: Environment([:])).settings(text: """
        webhook {
          url = "\(url)"
          events = [ \(rules) ]
          \(extra)
        }
        """)
}

func publish(_ client: String, _ payload: String, topic: String = "t/1") -> Event {
    var event = Event(kind: .messagePublish)
    event.set(.clientID, client)
    event.set(.topic, topic)
    event.set(.payload, payload)
    event.qos = 1
    return event
}

/// A loopback port nothing listens on (bound, then released).
func unusedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// This process's resident memory, KiB (for memory bounds, never timings).
func residentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
