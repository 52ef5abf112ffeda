import Foundation

/// Tests/Support, where hookserver.py lives.
public let supportDirectory: String = {
    let file = #filePath
    let tests = file[..<file.lastIndex(of: "/")!]
    return String(tests[..<tests.lastIndex(of: "/")!]) + "/Support"
}()

/// A real HTTP server (Tests/Support/hookserver.py) on a loopback port,
/// started and stopped by the test.
public final class HookServer: @unchecked Sendable {
    public struct Request {
        public var method: String
        public var path: String
        public var headers: [(String, String)]
        public var body: Data
        public var status: Int
        public var time: Double
        /// Webhook requests being answered when this one came, itself included.
        public var active: Int

        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        public func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
    }

    public let port: Int
    private let process: Process
    /// Control requests made so far: each is a connection the server counts.
    private var controlConnections = 0
    public let tls: Bool

    public init(port: Int = 0, tlsArguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", supportDirectory + "/hookserver.py", "--port", String(port)] + tlsArguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableLine(), as: UTF8.self)
        guard line.hasPrefix("PORT "), let bound = Int(line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestFailure("hookserver did not start: \(line)")
        }
        self.port = bound
        self.process = process
        self.tls = !tlsArguments.isEmpty
    }

    deinit { stop() }

    /// SIGKILL, then a bounded wait: the test runner's signal mask can
    /// leave SIGTERM blocked in children, and a stuck stop would hang the suite.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(5_000) }
    }

    public var url: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }

    public func setBehaviour(default defaultBehaviour: [String: Any] = [:], script: [[String: Any]] = []) throws {
        let body = try JSONSerialization.data(withJSONObject: ["default": defaultBehaviour, "script": script])
        _ = try control("POST", "/_control/behaviour", body: body)
    }

    public func requests() throws -> [Request] {
        let data = try control("GET", "/_control/requests")
        let list = try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return list.map { item in
            Request(method: item["method"] as! String, path: item["path"] as! String,
                    headers: (item["headers"] as! [[String]]).map { ($0[0], $0[1]) },
                    body: Data(base64Encoded: item["body"] as! String)!, status: item["status"] as! Int,
                    time: item["time"] as! Double, active: item["active"] as? Int ?? 1)
        }
    }

    /// Connections accepted since start (or the last clear), and open now.
    public func connectionStats() throws -> (accepted: Int, open: Int, requests: Int) {
        let object = try JSONSerialization.jsonObject(with: try control("GET", "/_control/stats")) as! [String: Int]
        // Control requests are connections too; this one is still open.
        return (object["connections"]! - controlConnections, object["open"]! - 1, object["requests"]!)
    }

    /// Requests that arrived before the one ahead of them was answered: a
    /// sender that pipelines makes them, one that waits for answers never.
    public func pipelinedRequests() throws -> Int {
        let object = try JSONSerialization.jsonObject(with: try control("GET", "/_control/stats")) as! [String: Int]
        return object["pipelined"]!
    }

    /// One request on its own connection (plain HTTP control only).
    private func control(_ method: String, _ path: String, body: Data = Data()) throws -> Data {
        precondition(!tls, "control a TLS server through a plain twin")
        controlConnections += 1
        return try rawHTTP(port: port, method: method, path: path, body: body)
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension FileHandle {
    /// Reads up to a newline.
    public func availableLine() -> Data {
        var line = Data()
        while true {
            let byte = readData(ofLength: 1)
            if byte.isEmpty || byte == Data([0x0A]) { return line }
            line.append(byte)
        }
    }
}

/// A blocking HTTP/1.0 request over a plain socket: enough to drive the
/// test server's control endpoints without pulling in FoundationNetworking.
public func rawHTTP(port: Int, method: String, path: String, body: Data = Data()) throws -> Data {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestFailure("connect to \(port) failed") }
    var request = Data("\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
    request.append(body)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response.append(contentsOf: buffer[0..<n])
    }
    guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw TestFailure("bad control response") }
    return response[split.upperBound...]
}
