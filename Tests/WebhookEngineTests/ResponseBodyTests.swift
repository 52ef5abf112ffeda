import Testing
@testable import WebhookEngine

/// The response-body framing, without a socket: every way a body can end.
@Suite struct ResponseBodyTests {
    func feed(_ body: inout ResponseBody, _ text: String) -> ResponseBody.Progress {
        Array(text.utf8).withUnsafeBytes { body.consume($0) }
    }

    @Test func framingFromTheHead() {
        func framing(_ status: Int, _ length: String?, _ encoding: String?) -> ResponseBody.Framing {
            ResponseBody(status: status, contentLength: length, transferEncoding: encoding, limit: 100).framing
        }
        #expect(framing(204, "5", nil) == .none)
        #expect(framing(304, nil, nil) == .none)
        #expect(framing(200, "0", nil) == .none)
        #expect(framing(200, " 12 ", nil) == .length(12))
        #expect(framing(200, "12", "chunked") == .chunked)
        #expect(framing(200, nil, "gzip, Chunked") == .chunked)
        #expect(framing(200, nil, nil) == .untilClose)
        #expect(framing(200, "-1", nil) == .untilClose)
        #expect(framing(200, "1e9", nil) == .untilClose)
        #expect(framing(200, "99999999999999999999999", nil) == .untilClose)
    }

    @Test func lengthDelimited() {
        var body = ResponseBody(status: 200, contentLength: "5", transferEncoding: nil, limit: 100)
        #expect(body.initialProgress == .needMore)
        #expect(body.nextReadSize(buffer: 4096) == 5)
        #expect(feed(&body, "ab") == .needMore)
        #expect(body.nextReadSize(buffer: 4096) == 3)
        #expect(feed(&body, "cde") == .complete)
    }

    @Test func tooLongOrCloseDelimitedIsNotRead() {
        #expect(ResponseBody(status: 200, contentLength: "101", transferEncoding: nil, limit: 100).initialProgress == .abandon)
        #expect(ResponseBody(status: 200, contentLength: nil, transferEncoding: nil, limit: 100).initialProgress == .abandon)
        #expect(ResponseBody(status: 200, contentLength: "100", transferEncoding: nil, limit: 100).initialProgress == .needMore)
    }

    @Test func chunkedWithExtensionsAndTrailers() {
        var body = ResponseBody(status: 200, contentLength: nil, transferEncoding: "chunked", limit: 100)
        #expect(feed(&body, "4;name=value\r\nWiki\r\n") == .needMore)
        #expect(feed(&body, "5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n") == .needMore)
        #expect(feed(&body, "0\r\nX-Trailer: 1\r\n") == .needMore)
        #expect(feed(&body, "\r\n") == .complete)
    }

    @Test func chunkedByteByByte() {
        var body = ResponseBody(status: 200, contentLength: nil, transferEncoding: "chunked", limit: 100)
        let text = "a\r\n0123456789\r\n0\r\n\r\n"
        var last = ResponseBody.Progress.needMore
        for byte in text.utf8 { last = [byte].withUnsafeBytes { body.consume($0) } }
        #expect(last == .complete)
    }

    @Test func chunkedPastTheLimitOrBrokenIsAbandoned() {
        var endless = ResponseBody(status: 200, contentLength: nil, transferEncoding: "chunked", limit: 100)
        #expect(feed(&endless, "40\r\n" + String(repeating: "y", count: 64) + "\r\n") == .needMore)
        #expect(feed(&endless, "40\r\n" + String(repeating: "y", count: 64) + "\r\n") == .abandon)
        for broken in ["zz\r\n", "\r\n", "4\r\nabcdX", "4\nabcd", "1234567890abcdef0\r\n"] {
            var body = ResponseBody(status: 200, contentLength: nil, transferEncoding: "chunked", limit: 1 << 20)
            #expect(feed(&body, broken) == .abandon, "\(broken.debugDescription)")
        }
        var trailing = ResponseBody(status: 200, contentLength: nil, transferEncoding: "chunked", limit: 100)
        #expect(feed(&trailing, "0\r\n\r\nHTTP/1.1 200 OK") == .abandon, "bytes past the end are not this response's")
    }
}
