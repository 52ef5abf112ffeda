import Foundation
import Testing
@testable import WebhookCore

/// The config rows of the third hostile round: a dotted key with thousands
/// of parts, nesting carried across includes, Standard Webhooks headers the
/// library owns, NUL and other control bytes, bytes that are not UTF-8, and
/// a disabled section. Each failed on 1.2.0.
@Suite struct HostileConfigTests {
    // MARK: Row 2: a dotted key nests like braces do

    @Test(arguments: [65, 5_000, 50_000])
    func aDottedKeyWithManyPartsIsAnErrorNotACrash(parts: Int) {
        let key = Array(repeating: "a", count: parts).joined(separator: ".")
        let message = configError("webhook {\n  url = \"http://h/\"\n  \(key) = 1\n}")
        #expect(message == "nanomq.conf:3:\(3 + 63 * 2): a dotted key nests deeper than 64 levels")
        let legacy = configError("web.hook.url = http://h/\nweb.hook.\(key) = 1")
        #expect(legacy == "nanomq.conf:2:1: web.hook: a dotted key nests deeper than 64 levels")
    }

    @Test func aDottedKeyWithinTheLimitStillWorks() throws {
        let key = Array(repeating: "a", count: 60).joined(separator: ".")
        let root = try tree("x {\n  \(key) = 1\n}")
        #expect(scalar(root, "x." + key) == "1")
    }

    /// 16 files that include each other, each 8 levels deep: 128 in all.
    /// Each file's nesting used to start from 0 again.
    @Test func nestingCountsAcrossIncludedFiles() throws {
        let dir = NSTemporaryDirectory() + "swh-nest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let open = String(repeating: "n { ", count: 8), close = String(repeating: "} ", count: 8)
        for i in 0..<15 {
            try "\(open)\ninclude \"f\(i + 1).conf\"\n\(close)\n".write(toFile: "\(dir)/f\(i).conf", atomically: true, encoding: .utf8)
        }
        try "\(open) deepest = 1 \(close)\n".write(toFile: "\(dir)/f15.conf", atomically: true, encoding: .utf8)
        try "include \"f0.conf\"\nwebhook { url = \"http://h/\" }\n".write(toFile: "\(dir)/main.conf", atomically: true, encoding: .utf8)
        do {
            _ = try ConfigLoader(environment: Environment([:])).settings(path: "\(dir)/main.conf")
            Issue.record("128 levels across 16 files must be an error")
        } catch {
            #expect(error.message == "objects and arrays nest deeper than 64 levels", "\(error)")
            #expect(error.location?.file == "\(dir)/f7.conf", "\(error)")
        }
    }

    /// The parser recurses a few frames a level: 64 levels must fit a
    /// small thread stack, as a broker may call init on any thread. This
    /// debug build's frames are larger than the shipped library's, which
    /// Tests/C/hostile_config_test.c runs on 256 KB and 128 KB stacks.
    @Test func theDeepestAllowedConfigParsesOnA1MBStack() {
        let deep = "webhook {\n  url = \"http://h/\"\n  " + String(repeating: "a { ", count: 62) + "b = 1 " + String(repeating: "} ", count: 62) + "\n}"
        let hostile = "webhook {\n  url = \"http://h/\"\n  " + Array(repeating: "a", count: 50_000).joined(separator: ".") + " = 1\n}"
        let outcome = OneShot<[String]>()
        let thread = Thread {
            outcome.set([deep, hostile].map { configError($0) ?? "ok" })
        }
        thread.stackSize = 1024 << 10
        thread.start()
        let results = outcome.wait(seconds: 120)
        #expect(results?[0] == "ok")
        #expect(results?[1].hasSuffix("a dotted key nests deeper than 64 levels") == true, "\(results ?? [])")
    }

    // MARK: Row 3: the Standard Webhooks headers are the library's

    @Test(arguments: ["webhook-signature", "webhook-timestamp", "webhook-id", "Webhook-Id"])
    func aStandardWebhooksHeaderIsAnErrorWhileSigning(header: String) {
        let message = configError("""
            webhook {
              url = "http://h/"
              signing { secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
              headers { \(header) = "x" }
            }
            """)
        #expect(message?.hasPrefix("nanomq.conf:4:\(16 + header.count): webhook.headers.\(header): this header is set by the library while signing is on") == true,
                "\(message ?? "accepted")")
    }

    @Test func aWebhookIdHeaderNeedsEventIdsOff() throws {
        let message = configError("webhook {\n  url = \"http://h/\"\n  headers { webhook-id = \"x\" }\n}")
        #expect(message == "nanomq.conf:3:26: webhook.headers.webhook-id: this header is set by the library while event_ids is on (remove it, or set event_ids = false to send your own)")
        let own = try settings("webhook {\n  url = \"http://h/\"\n  event_ids = false\n  headers { webhook-id = \"x\", webhook-signature = \"y\" }\n}")
        #expect(own.headers.map(\.name) == ["content-type", "webhook-id", "webhook-signature"])
    }

    // MARK: Row 4: a NUL byte, a key that is not UTF-8

    @Test func aNULByteIsQuotedEscapedSoTheReasonSurvivesACString() {
        let message = configError("webhook {\n  url = \"http://h/\"\n  body {\n    encoding = pl\u{0}ain\n  }\n}")
        #expect(message == #"nanomq.conf:4:16: webhook.body.encoding: expected plain, base64 or base62, got "pl\x00ain""#)
        #expect(message?.utf8.contains(0) == false)
    }

    @Test func aKeyThatIsNotUTF8IsWarnedAboutWithItsBytesEscaped() throws {
        var bytes = Array("webhook {\n  url = \"http://h/\"\n  ".utf8)
        bytes += [0xFF, 0xFE] + Array("key\u{1}x = 1\n}\n".utf8)
        let file = NSTemporaryDirectory() + "swh-key-\(UUID().uuidString).conf"
        _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let s = try ConfigLoader(environment: Environment([:])).settings(path: file)
        #expect(s.warnings == [#"\#(file):3:13: webhook.\xff\xfekey\x01x: unknown key, ignored"#])
    }

    // MARK: Row 7: control characters and bytes that are not UTF-8 in values

    @Test func aCRLFInTheURLStaysOnTheMessagesLine() {
        let message = configError("webhook {\n  url = \"http://h:9/ho\\r\\nInjected: x\"\n}")
        #expect(message == #"nanomq.conf:2:9: webhook.url: URL contains whitespace or control characters (got "http://h:9/ho\x0d\x0aInjected: x")"#)
    }

    @Test func aValueThatIsNotUTF8IsAnErrorNamingTheByte() throws {
        var bytes = Array("webhook {\n  url = \"http://h:9/h\u{e9}".utf8)
        bytes += [0xFF] + Array("\"\n}\n".utf8)
        let file = NSTemporaryDirectory() + "swh-url-\(UUID().uuidString).conf"
        _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            _ = try ConfigLoader(environment: Environment([:])).settings(path: file)
            Issue.record("accepted")
        } catch {
            #expect(error.description == "\(file):2:9: webhook.url: not UTF-8 text: the byte at 2:24 is not part of a UTF-8 character (percent-encode it in a URL, or write \\u escapes in a string)")
        }
        // The same in the legacy format.
        var legacy = Array("web.hook.url = http://h:9/h".utf8)
        legacy += [0xC3] + Array("\n".utf8)
        _ = FileManager.default.createFile(atPath: file, contents: Data(legacy))
        #expect(throws: ConfigError.self) { try ConfigLoader(environment: Environment([:])).settings(path: file) }
    }

    @Test func theRequestTargetIsPercentEncoded() throws {
        let s = try settings("webhook {\n  url = \"http://h:9/h\u{e9}/\\\"x\\\"?q=\u{fc}|1%20\"\n}")
        #expect(s.url.target == "/h%C3%A9/%22x%22?q=%C3%BC%7C1%20")
        #expect(s.url.description == "http://h:9/h%C3%A9/%22x%22?q=%C3%BC%7C1%20")
    }

    @Test func aHeaderValueWithAnyControlCharacterIsRefused() {
        let message = configError("webhook {\n  url = \"http://h/\"\n  headers { x-a = \"1\\u0001\" }\n}")
        #expect(message?.hasSuffix("header value contains CR, LF, NUL or another control character (header injection)") == true)
    }

    @Test func quotingEscapesExactlyWhatIsNotPrintableUTF8() {
        #expect(Quoting.escaping(bytes: Array("a\u{e9}".utf8) + [0xFF, 0x00, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0xF0, 0x9F, 0x98, 0x80]) ==
            "a\u{e9}\\xff\\x00\\xc3(\\xed\\xa0\\x80\u{1F600}")
        #expect(Quoting.quoted("a\"b\\c\u{7f}\u{85}") == #""a\"b\\c\x7f\xc2\x85""#)
        #expect(Quoting.firstInvalidUTF8(Array("ok".utf8) + [0xC0, 0x80]) == 2)
        #expect(Quoting.firstInvalidUTF8(Array("ok\u{10FFFF}".utf8)) == nil)
    }

    // MARK: Row 7: a disabled section starts, whatever the rest says

    @Test func aDisabledSectionWithAnInvalidURLStartsAndWarns() throws {
        let s = try settings("webhook {\n  enable = false\n  url = \"not a url\"\n}")
        #expect(!s.enabled)
        #expect(s.warnings == [#"nanomq.conf:3:9: webhook.url: expected http://host[:port][/path] or https://... (got "not a url") (not an error while enable = false)"#])
        #expect(try settings("webhook { enable = false }").warnings.isEmpty)
        #expect(configError("webhook {\n  enable = true\n  url = \"not a url\"\n}") != nil)
    }
}
