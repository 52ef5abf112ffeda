import WebhookCore

/// Writes a request's bytes: the request line, `Host`, the configured
/// headers, `Content-Length`, the Standard Webhooks headers, the body.
///
/// Written here rather than by nng's `nng_http_req`, which serialises its
/// header block once and keeps it: every attempt carries its own
/// `webhook-timestamp` and `webhook-signature`, so the head changes per
/// request. Everything that never changes (up to the last configured
/// header) is rendered once, at start.
struct RequestWriter {
    /// `POST <target> HTTP/1.1`, `Host`, the configured headers, each line
    /// ending in CRLF.
    private let fixedHead: [UInt8]

    init(settings: WebhookSettings) {
        var head = Array("POST \(settings.url.target) HTTP/1.1\r\n".utf8)
        // A configured Host (a virtual host behind an address) replaces the URL's: never two.
        if !settings.headers.contains(where: { $0.name.lowercased() == "host" }) {
            head += Array("Host: \(Self.hostHeader(settings.url))\r\n".utf8)
        }
        for header in settings.headers {
            head += Array("\(header.name): \(header.value)\r\n".utf8)
        }

        fixedHead = head
    }

    /// What `Host` says, as nng wrote it: the port only when not the
    /// scheme's default; brackets around an IPv6 address.
    static func hostHeader(_ url: EndpointURL) -> String {
        let host = url.host.contains(":") ? "[\(url.host)]" : url.host
        return url.port == (url.isTLS ? 443 : 80) ? host : "\(host):\(url.port)"
    }

    /// One request into `out` (emptied first, its capacity kept). `id` is
    /// nil when ids are off; `signer` signs with `timestamp` (Unix seconds).
    func write(body: [UInt8], id: String?, timestamp: Int, signer: borrowing Signer?, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        append(body: body, id: id, timestamp: timestamp, signer: signer, to: &out)
    }

    /// One request after those already in `out` (pipelining). `gzipped`:
    /// the body is gzip (`compression = gzip`), and says so; the signature
    /// covers the bytes sent, as Standard Webhooks verifiers check them.
    func append(body: [UInt8], id: String?, timestamp: Int, signer: borrowing Signer?, gzipped: Bool = false, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + fixedHead.count + 200 + body.count)
        out += fixedHead
        header("Content-Length", String(body.count), &out)
        if gzipped {
            header("Content-Encoding", "gzip", &out)
        }
        if let id {
            header("webhook-id", id, &out)
        }
        switch signer {
        case .some(let signer):
            header("webhook-timestamp", String(timestamp), &out)
            out += "webhook-signature: ".utf8
            body.withUnsafeBytes { signer.appendSignature(id: id ?? "", timestamp: timestamp, body: $0, to: &out) }
            out += "\r\n".utf8
        case .none:
            break
        }
        out += "\r\n".utf8
        out += body
    }

    private func header(_ name: StaticString, _ value: String, _ out: inout [UInt8]) {
        out += UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        out += ": ".utf8
        out += value.utf8
        out += "\r\n".utf8
    }
}
