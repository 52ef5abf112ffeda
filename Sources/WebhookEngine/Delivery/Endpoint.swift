import CNng
import WebhookCore
import CPlatform

/// The HTTP endpoint as nng sees it: the parsed URL, the TLS
/// configuration, and the stream dialers (`tcp://` or `tls+tcp://` to the
/// URL's host and port) the connections dial through. The connections
/// speak HTTP over the streams themselves (see `ResponseHead`).
///
/// Every connection gets a dialer of its own, and a dialer whose connect
/// was cancelled is never dialled again: in nng 1.5.2 cancelling a connect
/// does not end the dialer's own resolve-and-connect at once (to a
/// black-holed address it stays pending until the OS gives up), and nng's
/// HTTP client, which dialled through the same dialers, reused its busy aio
/// and asserted (`http_client.c:73: stream != NULL`, found by the event
/// fuzzer). Retired dialers wait in `Graveyard` until their dial must have
/// ended, then are freed.
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
        // Fail at start, not at the first event, if nng refuses the dialer.
        nng_stream_dialer_free(try Self.makeDialer(handles, label: label))
        self.init(handles: handles, label: label)
    }

    private init(handles: EndpointHandles, label: String) {
        self.handles = handles
        self.label = label
    }

    /// A dialer for one connection, with the TLS configuration if any.
    func makeDialer() throws(EngineError) -> OpaquePointer {
        try Self.makeDialer(handles, label: label)
    }

    /// What nng's HTTP client does inside: the URL with its scheme swapped
    /// for the stream's (nng_url_parse filled in the default port).
    private static func makeDialer(_ handles: EndpointHandles, label: String) throws(EngineError) -> OpaquePointer {
        var streamURL = handles.url.pointee
        let scheme: StaticString = handles.tls == nil ? "tcp" : "tls+tcp"
        streamURL.u_scheme = UnsafeMutablePointer(mutating: UnsafeRawPointer(scheme.utf8Start).assumingMemoryBound(to: CChar.self))
        var dialer: OpaquePointer?
        let rv = nng_stream_dialer_alloc_url(&dialer, &streamURL)
        guard rv == 0, let dialer else {
            throw EngineError(nng: rv, "\(label): cannot create the connection's dialer")
        }
        if let tls = handles.tls {
            let setRV = nng_stream_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, UnsafeMutableRawPointer(tls))
            if setRV != 0 {
                nng_stream_dialer_free(dialer)
                throw EngineError(nng: setRV, "cannot enable TLS")
            }
        }
        return dialer
    }

    /// Frees the connections' dialers, then (when the last reference to
    /// them goes) the endpoints' TLS configurations and URLs (several after
    /// reloads). Freeing a dialer waits for its dial to end, which after a
    /// cancelled connect to a black-holed address can take as long as the
    /// OS keeps trying, so this runs on a helper thread and is abandoned
    /// (leaked, with a warning) if it has not returned in `limitMs`.
    static func close(_ endpoints: [Endpoint], dialers: [OpaquePointer], limitMs: Int, log: Log) {
        let finished = FreeTask(dialers: dialers, handles: endpoints.map { $0.handles })
        if !finished.run(limitMs: limitMs) {
            log.log(.warning, "nng_stream_dialer_free did not return within \(limitMs) ms; abandoning the dialers")
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

/// The URL and TLS configuration every dialer of the endpoint was made
/// from (a TLS dialer holds the configuration): the one place they are
/// freed, when the last owner lets go (the endpoint when `init` fails, else
/// the `FreeTask` after the dialers).
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
    let dialers: [OpaquePointer]
    /// Released after the dialers are freed: they hold the TLS configurations.
    var handles: [EndpointHandles]
    let lock = Lock()
    var done = false

    init(dialers: [OpaquePointer], handles: [EndpointHandles]) {
        self.dialers = dialers
        self.handles = handles
    }

    func run(limitMs: Int) -> Bool {
        guard let thread = OSThread(name: "swh:free", { [self] in
            for dialer in dialers { nng_stream_dialer_free(dialer) }
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

