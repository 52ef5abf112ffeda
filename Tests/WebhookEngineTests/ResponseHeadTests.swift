import Testing
@testable import WebhookEngine

/// The response-head parser, without a socket: where a head ends, what it
/// says, and every way it can fail to be HTTP.
@Suite struct ResponseHeadTests {
    func end(_ text: String, from: Int = 0) -> Int? {
        Array(text.utf8).withUnsafeBytes { ResponseHead.end(in: $0, from: from) }
    }

    func parse(_ text: String) -> ResponseHead? {
        Array(text.utf8).withUnsafeBytes { ResponseHead(parsing: $0) }
    }

    @Test func theHeadEndsAtItsEmptyLine() {
        #expect(end("HTTP/1.1 204 No Content\r\n\r\n") == 27)
        #expect(end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == 38)
        #expect(end("HTTP/1.1 200 OK\n\nok") == 17)  // bare LFs, as nng accepted
        #expect(end("HTTP/1.1 200 OK\r\nContent-Le") == nil)
        #expect(end("HTTP/1.1 200 OK\r\n") == nil)
        #expect(end("HTTP/1.1 200 OK\r\n\r") == nil)
    }

    @Test func anEndingSplitAcrossReadsIsFound() {
        // The connection resumes 3 bytes before what it had: every split of
        // the ending is found, and nothing before the resumption is rescanned.
        let text = "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"
        for had in 0...text.utf8.count {
            let first = String(text.utf8.prefix(had))!
            if end(first) != nil { continue }
            #expect(end(text, from: had - 3) == text.utf8.count, "split after \(had) bytes")
        }
    }

    @Test func statusLineAndTheHeadersTheEngineReads() throws {
        let head = try #require(parse("""
            HTTP/1.1 429 Too Many Requests\r
            content-length:  12 \r
            X-Other: ignored\r
            TRANSFER-ENCODING: gzip\r
            Transfer-Encoding: chunked\r
            Connection: keep-alive\r
            Retry-After: 30\r
            \r

            """))
        #expect(head.status == 429)
        #expect(!head.isHTTP10)
        #expect(head.contentLength == "12")
        #expect(head.transferEncoding == "gzip, chunked")
        #expect(head.retryAfterSeconds == 30)
        #expect(head.keepsConnection)
        #expect(parse("HTTP/1.1 200\r\n\r\n")?.status == 200)  // no reason phrase
        #expect(parse("HTTP/1.1 999 Whatever\r\n\r\n")?.status == 999)
        #expect(parse("HTTP/1.1 200 OK\r\nRetry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n\r\n")?.retryAfterSeconds == nil)
        #expect(parse("HTTP/1.1 200 OK\r\nRetry-After: -5\r\n\r\n")?.retryAfterSeconds == nil)
    }

    @Test func whetherTheConnectionStaysOpen() {
        #expect(parse("HTTP/1.1 200 OK\r\n\r\n")?.keepsConnection == true)
        #expect(parse("HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n")?.keepsConnection == false)
        #expect(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")?.keepsConnection == false)
        #expect(parse("HTTP/1.0 200 OK\r\n\r\n")?.keepsConnection == false)
        #expect(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n")?.keepsConnection == true)
    }

    @Test func conflictingLengthsAreNoLength() {
        #expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")?.contentLength == "5")
        let head = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")
        #expect(head?.contentLength == "")
        // ...which the body's framing reads as "until closed": not read, the connection closed.
        let body = ResponseBody(status: 200, contentLength: head?.contentLength, transferEncoding: nil, limit: 100)
        #expect(body.framing == .untilClose)
    }

    @Test func notHTTP() {
        #expect(parse("SPAM SPAM SPAM\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 20 OK\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 2000 OK\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 099 Low\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 2x0 OK\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1\r\n\r\n") == nil)
        #expect(parse("\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 200 OK\r\n: no name\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n") == nil)
        #expect(parse("HTTP/1.1 200 OK\r\nX: a\u{1}b\r\n\r\n") == nil)  // a control character
        #expect(parse("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n") == nil)  // a CR inside a line
        // A tab in a value and a folded line are HTTP.
        #expect(parse("HTTP/1.1 200 OK\r\nX: a\tb\r\n folded\r\n\r\n")?.status == 200)
    }
}
