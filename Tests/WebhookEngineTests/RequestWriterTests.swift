import Testing
import WebhookCore
@testable import WebhookEngine

/// The request bytes on their own, without a socket: what goes on the wire
/// for each combination of Host, headers, id and signature.
@Suite struct RequestWriterTests {
    func settings(_ url: String, headers: [HTTPHeader] = []) throws -> WebhookSettings {
        var settings = WebhookSettings(url: try EndpointURL.parse(url).get())
        settings.headers = [HTTPHeader(name: "content-type", value: "application/json")] + headers
        return settings
    }

    func written(_ writer: RequestWriter, body: String, id: String?) -> String {
        var out: [UInt8] = []
        writer.write(body: Array(body.utf8), id: id, timestamp: 1_700_000_000, signer: nil, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func aPlainRequestIsTheHeadThenTheBody() throws {
        let writer = RequestWriter(settings: try settings("http://127.0.0.1:8080/hook?a=1"))
        #expect(written(writer, body: "{}", id: "abc-0-1") ==
            "POST /hook?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\ncontent-type: application/json\r\n"
            + "Content-Length: 2\r\nwebhook-id: abc-0-1\r\n\r\n{}")
        #expect(!written(writer, body: "{}", id: nil).contains("webhook-id"), "no id when ids are off")
    }

    @Test(arguments: [
        ("http://example.com/", "Host: example.com\r\n"),
        ("https://example.com/", "Host: example.com\r\n"),
        ("https://example.com:8443/", "Host: example.com:8443\r\n"),
        ("http://[::1]:9000/", "Host: [::1]:9000\r\n"),
    ])
    func theHostHeaderIsNngs(_ url: String, _ host: String) throws {
        #expect(written(RequestWriter(settings: try settings(url)), body: "", id: nil).contains(host))
    }

    @Test func aConfiguredHostIsTheOnlyOne() throws {
        let writer = RequestWriter(settings: try settings("http://10.0.0.1/", headers: [HTTPHeader(name: "Host", value: "hooks.internal")]))
        let text = written(writer, body: "x", id: nil)
        #expect(text.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("host:") } == ["Host: hooks.internal"])
    }

    @Test func theBufferIsReusedAndEmptiedFirst() throws {
        let writer = RequestWriter(settings: try settings("http://h/"))
        var out = Array(repeating: UInt8(ascii: "z"), count: 4096)
        writer.write(body: Array("ab".utf8), id: nil, timestamp: 0, signer: nil, into: &out)
        #expect(String(decoding: out, as: UTF8.self).hasPrefix("POST / HTTP/1.1\r\n"))
        #expect(String(decoding: out, as: UTF8.self).hasSuffix("\r\n\r\nab"))
        #expect(out.capacity >= 4096, "capacity kept for the next attempt")
    }

    @Test func aSignedRequestCarriesItsTimestampAndOneSignaturePerSecret() throws {
        let writer = RequestWriter(settings: try settings("http://h/"))
        let signer: Signer? = try Signer(keys: [Array("first secret".utf8), Array("second secret".utf8)])
        var out: [UInt8] = []
        writer.write(body: Array("{}".utf8), id: "id-1", timestamp: 1_700_000_000, signer: signer, into: &out)
        let lines = String(decoding: out, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.contains("webhook-id: id-1") && lines.contains("webhook-timestamp: 1700000000"))
        let signature = try #require(lines.first { $0.hasPrefix("webhook-signature: ") })
        let entries = signature.dropFirst("webhook-signature: ".count).split(separator: " ")
        #expect(entries.count == 2 && entries.allSatisfy { $0.hasPrefix("v1,") && $0.count == 3 + 44 })
        #expect(lines.last == "{}")
    }

    @Test func pipelinedRequestsFollowEachOtherAndAGzipBodySaysSo() throws {
        let writer = RequestWriter(settings: try settings("http://h/"))
        var out: [UInt8] = []
        writer.write(body: Array("{}".utf8), id: nil, timestamp: 0, signer: nil, into: &out)
        writer.append(body: [0x1f, 0x8b], id: nil, timestamp: 0, signer: nil, gzipped: true, to: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.components(separatedBy: "POST / HTTP/1.1\r\n").count == 3, "two requests, one after the other")
        let second = try #require(text.range(of: "{}POST")).upperBound
        #expect(text[second...].contains("Content-Length: 2\r\nContent-Encoding: gzip\r\n"))
        #expect(!text[..<second].contains("Content-Encoding"))
    }
}
