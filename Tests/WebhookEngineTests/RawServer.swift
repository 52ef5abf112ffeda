import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on loopback that answers every request with scripted raw
/// bytes, for responses no HTTP library would send: a garbage status line,
/// half a response, a 1 MB header, an answer dripped a byte at a time.
final class RawServer: @unchecked Sendable {
    enum Ending {
        /// Keep the connection for the next request.
        case keep
        /// Close after the answer.
        case close
        /// Reset (RST) instead of closing.
        case reset
        /// Never answer, never close.
        case hold
    }

    let port: Int
    private let listener: Int32
    private let answer: [UInt8]
    private let ending: Ending
    private let dripMs: Int
    private let lock = NSLock()
    private var stopped = false
    private var clients: [Int32] = []

    /// `answer` is written for every request (after its head and
    /// Content-Length body are read); with `dripMs` one byte at a time.
    init(answer: String, ending: Ending, dripMs: Int = 0) throws {
        self.answer = Array(answer.utf8)
        self.ending = ending
        self.dripMs = dripMs
        (listener, port) = loopbackListener(backlog: 64)
        Thread { [self] in acceptLoop() }.start()
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    func stop() {
        let open = lock.withLock { () -> [Int32] in
            defer { stopped = true; clients.removeAll() }
            return stopped ? [] : clients
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            let keep = lock.withLock { () -> Bool in
                if !stopped { clients.append(fd) }
                return !stopped
            }
            guard keep else { close(fd); return }
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            // One request: its head, then Content-Length bytes of body.
            while true {
                if let end = headEnd(pending) {
                    let head = String(decoding: pending[..<end], as: UTF8.self).lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if pending.count >= end + 4 + length {
                        pending.removeFirst(end + 4 + length)
                        break
                    }
                }
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { close(fd); return }
                pending += buffer[0..<n]
            }
            if ending == .hold { continue }
            if dripMs > 0 {
                for byte in answer {
                    if send(fd, [byte], 1, Int32(MSG_NOSIGNAL)) != 1 { close(fd); return }
                    usleep(useconds_t(dripMs * 1000))
                }
            } else {
                var sent = 0
                while sent < answer.count {
                    let n = answer[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { close(fd); return }
                    sent += n
                }
            }
            switch ending {
            case .keep, .hold: continue
            case .close:
                close(fd)
                return
            case .reset:
                var linger = linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                close(fd)
                return
            }
        }
    }

    private func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// A listening TCP socket on 127.0.0.1 and its port.
func loopbackListener(backlog: Int32) -> (Int32, Int) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    listen(listener, backlog)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
    return (listener, Int(UInt16(bigEndian: address.sin_port)))
}
