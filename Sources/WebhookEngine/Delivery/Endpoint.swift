import CNng
import WebhookCore
import CPlatform

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
    private let handles: EndpointHandles
    private let label: String

    /// Everything that can fail happens before the endpoint exists (see Engine.init).
    convenience init(settings: WebhookSettings) throws(EngineError) {
        var parsed: UnsafeMutablePointer<nng_url>?
        let rv = nng_url_parse(&parsed, settings.url.description)
        guard rv == 0, let parsed else {
            throw EngineError(nng: rv, "\(settings.url): nng cannot parse this URL")
        }
        // From here on, whatever goes wrong, `handles` frees what was made.
        let handles = EndpointHandles(url: parsed)
        let label = settings.url.description
        if let tlsSettings = settings.tls {
            var config: OpaquePointer?
            let rv = nng_tls_config_alloc(&config, NNG_TLS_MODE_CLIENT)
            guard rv == 0, let config else { throw EngineError(nng: rv, "cannot create a TLS configuration") }
            handles.tls = config
            try Self.configure(config, tlsSettings)
        }
        // Fail at start, not at the first event, if nng refuses the client.
        nng_http_client_free(try Self.makeClient(handles, label: label))
        self.init(handles: handles, label: label)
    }

    private init(handles: EndpointHandles, label: String) {
        self.handles = handles
        self.label = label
    }

    /// A client for one connection, with the TLS configuration if any.
    func makeClient() throws(EngineError) -> OpaquePointer {
        try Self.makeClient(handles, label: label)
    }

    private static func makeClient(_ handles: EndpointHandles, label: String) throws(EngineError) -> OpaquePointer {
        var client: OpaquePointer?
        let rv = nng_http_client_alloc(&client, handles.url)
        guard rv == 0, let client else {
            throw EngineError(nng: rv, "\(label): cannot create the HTTP client")
        }
        if let tls = handles.tls {
            let setRV = nng_http_client_set_tls(client, tls)
            if setRV != 0 {
                nng_http_client_free(client)
                throw EngineError(nng: setRV, "cannot enable TLS")
            }
        }
        return client
    }

    /// Frees the connections' clients, then (when the last reference to
    /// them goes) the endpoints' TLS configurations and URLs (several after
    /// reloads: a client points into its own). nng 1.5.2 can block for
    /// good in `nng_http_client_free` when a connect was cancelled at a bad
    /// moment (nanomsg/nng#2119), so this runs on a helper thread and is
    /// abandoned (leaked, with a warning) if it has not returned in `limitMs`.
    static func close(_ endpoints: [Endpoint], clients: [OpaquePointer], limitMs: Int, log: Log) {
        let finished = FreeTask(clients: clients, handles: endpoints.map { $0.handles })
        if !finished.run(limitMs: limitMs) {
            log.log(.warning, "nng_http_client_free did not return within \(limitMs) ms (nng 1.5.2 bug); abandoning the clients")
        }
    }

    private static func configure(_ config: OpaquePointer, _ settings: TLSSettings) throws(EngineError) {
        func check(_ rv: Int32, _ what: @autoclosure () -> String) throws(EngineError) {
            if rv != 0 { throw EngineError(nng: rv, what()) }
        }
        try check(nng_tls_config_auth_mode(config, settings.verifyPeer ? NNG_TLS_AUTH_MODE_REQUIRED : NNG_TLS_AUTH_MODE_NONE),
                  "cannot set the TLS verification mode")
        try check(nng_tls_config_server_name(config, settings.serverName), "tls.server_name \(settings.serverName)")
        if let ca = settings.caFile {
            try check(nng_tls_config_ca_file(config, ca), "tls.cacertfile \(ca): cannot load the CA certificates")
        }
        if let certFile = settings.certFile, let keyFile = settings.keyFile {
            let cert = try readPEM(certFile, key: "tls.certfile")
            let key = try readPEM(keyFile, key: "tls.keyfile")
            try check(nng_tls_config_own_cert(config, cert, key, settings.keyPassword),
                      "tls.certfile/keyfile \(certFile), \(keyFile): cannot load the client certificate and key")
        }
    }

    private static func readPEM(_ path: String, key: String) throws(EngineError) -> String {
        switch FileSystem.readFile(path) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure: throw EngineError("\(key) \(path): cannot read the file")
        }
    }
}

/// The URL and TLS configuration every client of the endpoint points to:
/// the one place they are freed, when the last owner lets go (the endpoint
/// when `init` fails, else the `FreeTask` after the clients).
private final class EndpointHandles: @unchecked Sendable {
    let url: UnsafeMutablePointer<nng_url>
    var tls: OpaquePointer?

    init(url: UnsafeMutablePointer<nng_url>) {
        self.url = url
    }

    deinit {
        if let tls { nng_tls_config_free(tls) }
        nng_url_free(url)
    }
}

/// Runs the nng frees on their own thread so a hang there cannot hang the broker.
private final class FreeTask: @unchecked Sendable {
    let clients: [OpaquePointer]
    /// Released after the clients are freed: they point into them.
    var handles: [EndpointHandles]
    let lock = Lock()
    var done = false

    init(clients: [OpaquePointer], handles: [EndpointHandles]) {
        self.clients = clients
        self.handles = handles
    }

    func run(limitMs: Int) -> Bool {
        guard let thread = OSThread(name: "swh:free", { [self] in
            for client in clients { nng_http_client_free(client) }
            handles = []
            lock.withLock {
                done = true
                lock.broadcast()
            }
        }) else { return false }
        let deadline = Clock.monotonicNanoseconds() + UInt64(limitMs) * 1_000_000
        let finished = lock.withLock {
            lock.wait(untilNanoseconds: deadline) { !done }
            return done
        }
        if finished { thread.join() } else { thread.detach() }
        return finished
    }
}

