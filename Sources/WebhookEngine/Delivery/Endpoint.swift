import CNng
import WebhookCore
#if canImport(Glibc)
import Glibc
#endif

/// Why the engine could not start. The message is what `webhook_init` reports.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The nng error code behind it; 0 when nng was not involved.
    public var nngCode: Int32
    public var description: String { message }

    init(_ message: String) {
        self.message = message
        nngCode = 0
    }

    /// `what` failed inside nng with `code`; the message says both.
    init(nng code: Int32, _ what: String) {
        message = "\(what): \(nngError(code))"
        nngCode = code
    }

    /// nng ran out of memory: `webhook_init` answers SWIFTWEBHOOK_ENOMEM, as the header promises.
    public var isOutOfMemory: Bool { nngCode == Int32(NNG_ENOMEM.rawValue) }
}

/// nng's error text for a code.
func nngError(_ code: Int32) -> String {
    String(cString: nng_strerror(code))
}

/// The HTTP endpoint as nng sees it: the parsed URL, the TLS
/// configuration, and the `nng_http_client`s the connections dial through.
///
/// Every connection gets a client of its own, and a client whose connect was
/// cancelled is never dialled again: in nng 1.5.2 cancelling a connect does
/// not end the client's internal dial (to a black-holed address it stays
/// pending until the OS gives up), and the next dial on that client reuses
/// the busy aio and makes nng assert (`http_client.c:73: stream != NULL`,
/// found by the event fuzzer). Retired clients wait in `Graveyard` until
/// their dial must have ended, then are freed.
final class Endpoint: @unchecked Sendable {
    let url: UnsafeMutablePointer<nng_url>
    private let tls: OpaquePointer?
    private let headers: [HTTPHeader]
    private let label: String

    init(settings: WebhookSettings) throws {
        var parsed: UnsafeMutablePointer<nng_url>?
        let rv = nng_url_parse(&parsed, settings.url.description)
        guard rv == 0, let parsed else {
            throw EngineError(nng: rv, "\(settings.url): nng cannot parse this URL")
        }
        var tls: OpaquePointer?
        if let tlsSettings = settings.tls {
            do {
                tls = try Self.makeTLSConfig(tlsSettings)
            } catch {
                nng_url_free(parsed)
                throw error
            }
        }
        self.url = parsed
        self.tls = tls
        self.headers = settings.headers
        self.label = settings.url.description
        // Fail at start, not at the first event, if nng refuses the client.
        // (This class has no deinit: free what init took on the way out.)
        do {
            nng_http_client_free(try makeClient())
        } catch {
            if let tls { nng_tls_config_free(tls) }
            nng_url_free(parsed)
            throw error
        }
    }

    /// A client for one connection, with the TLS configuration if any.
    func makeClient() throws -> OpaquePointer {
        var client: OpaquePointer?
        let rv = nng_http_client_alloc(&client, url)
        guard rv == 0, let client else {
            throw EngineError(nng: rv, "\(label): cannot create the HTTP client")
        }
        if let tls {
            let setRV = nng_http_client_set_tls(client, tls)
            if setRV != 0 {
                nng_http_client_free(client)
                throw EngineError(nng: setRV, "cannot enable TLS")
            }
        }
        return client
    }

    /// A POST request with the configured headers and `body`. nng serialises
    /// a request's header block once and keeps it (Content-Length included),
    /// so `Connection` reuses a request only for a body of the same length.
    func makeRequest(body: [UInt8]) throws -> OpaquePointer {
        var request: OpaquePointer?
        var rv = nng_http_req_alloc(&request, url)
        guard rv == 0, let request else { throw EngineError(nng: rv, "cannot allocate an HTTP request") }
        rv = nng_http_req_set_method(request, "POST")
        for header in headers where rv == 0 {
            rv = nng_http_req_set_header(request, header.name, header.value)
        }
        if rv == 0 {
            rv = body.withUnsafeBytes { nng_http_req_copy_data(request, $0.baseAddress, $0.count) }
        }
        if rv != 0 {
            nng_http_req_free(request)
            throw EngineError(nng: rv, "cannot build the request")
        }
        return request
    }

    /// Frees the connections' clients, then the TLS configuration and the
    /// URL. nng 1.5.2 can block for good in `nng_http_client_free` when a
    /// connect was cancelled at a bad moment (nanomsg/nng#2119), so this runs
    /// on a helper thread and is abandoned (leaked, with a warning) if it has
    /// not returned in `limitMs`.
    func close(clients: [OpaquePointer], limitMs: Int, log: Log) {
        let finished = FreeTask(clients: clients, tls: tls, url: url)
        if !finished.run(limitMs: limitMs) {
            log.log(.warning, "nng_http_client_free did not return within \(limitMs) ms (nng 1.5.2 bug); abandoning the clients")
        }
    }

    private static func makeTLSConfig(_ settings: TLSSettings) throws -> OpaquePointer {
        var config: OpaquePointer?
        var rv = nng_tls_config_alloc(&config, NNG_TLS_MODE_CLIENT)
        guard rv == 0, let config else { throw EngineError(nng: rv, "cannot create a TLS configuration") }
        func check(_ rv: Int32, _ what: String) throws {
            if rv != 0 {
                nng_tls_config_free(config)
                throw EngineError(nng: rv, what)
            }
        }
        rv = nng_tls_config_auth_mode(config, settings.verifyPeer ? NNG_TLS_AUTH_MODE_REQUIRED : NNG_TLS_AUTH_MODE_NONE)
        try check(rv, "cannot set the TLS verification mode")
        try check(nng_tls_config_server_name(config, settings.serverName), "tls.server_name \(settings.serverName)")
        if let ca = settings.caFile {
            try check(nng_tls_config_ca_file(config, ca), "tls.cacertfile \(ca): cannot load the CA certificates")
        }
        if let certFile = settings.certFile, let keyFile = settings.keyFile {
            let cert = try readPEM(certFile, key: "tls.certfile", config: config)
            let key = try readPEM(keyFile, key: "tls.keyfile", config: config)
            try check(nng_tls_config_own_cert(config, cert, key, settings.keyPassword),
                      "tls.certfile/keyfile \(certFile), \(keyFile): cannot load the client certificate and key")
        }
        return config
    }

    private static func readPEM(_ path: String, key: String, config: OpaquePointer) throws -> String {
        switch FileSystem.readFile(path) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure:
            nng_tls_config_free(config)
            throw EngineError("\(key) \(path): cannot read the file")
        }
    }
}

/// Runs the nng frees on their own thread so a hang there cannot hang the broker.
private final class FreeTask: @unchecked Sendable {
    let clients: [OpaquePointer]
    let tls: OpaquePointer?
    let url: UnsafeMutablePointer<nng_url>
    let lock = Lock()
    var done = false

    init(clients: [OpaquePointer], tls: OpaquePointer?, url: UnsafeMutablePointer<nng_url>) {
        self.clients = clients
        self.tls = tls
        self.url = url
    }

    func run(limitMs: Int) -> Bool {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { context in
            let task = Unmanaged<FreeTask>.fromOpaque(context!).takeRetainedValue()
            for client in task.clients { nng_http_client_free(client) }
            if let tls = task.tls { nng_tls_config_free(tls) }
            nng_url_free(task.url)
            task.lock.withLock {
                task.done = true
                task.lock.broadcast()
            }
            return nil
        }, context)
        if created != 0 {
            Unmanaged<FreeTask>.fromOpaque(context).release()
            return false
        }
        let deadline = Clock.monotonicNanoseconds() + UInt64(limitMs) * 1_000_000
        let finished = lock.withLock {
            lock.wait(untilNanoseconds: deadline) { !done }
            return done
        }
        if finished { pthread_join(thread, nil) } else { pthread_detach(thread) }
        return finished
    }
}

/// Clients retired after a cancelled connect. Their dial is still pending
/// inside nng, so freeing them now could block (nanomsg/nng#2119); after
/// `quarantineNs` the OS has long given up on the connect (Linux retries a
/// SYN for about two minutes) and the free returns at once.
final class Graveyard: @unchecked Sendable {
    static let quarantineNs: UInt64 = 300 * 1_000_000_000

    private let lock = Lock()
    private var retired: [(client: OpaquePointer, atNs: UInt64)] = []

    func retire(_ client: OpaquePointer) {
        let now = Clock.monotonicNanoseconds()
        lock.withLock { retired.append((client, now)) }
    }

    /// Clients old enough to free, removed from the graveyard.
    func expired(nowNs: UInt64) -> [OpaquePointer] {
        lock.withLock {
            let old = retired.filter { nowNs &- $0.atNs >= Self.quarantineNs }.map { $0.client }
            retired.removeAll { nowNs &- $0.atNs >= Self.quarantineNs }
            return old
        }
    }

    /// Every retired client, at shutdown.
    func all() -> [OpaquePointer] {
        lock.withLock {
            defer { retired.removeAll() }
            return retired.map { $0.client }
        }
    }
}
