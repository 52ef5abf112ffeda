import ArgumentParser
import WebhookCore
import WebhookEngine
#if canImport(Glibc)
import Glibc
#endif

/// `webhookctl verify --secret whsec_... REQUEST`: checks a captured request
/// (the raw bytes a receiver got, e.g. from `nc -l 8080 > request.txt`) the
/// way a Standard Webhooks receiver does.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a captured HTTP request's Standard Webhooks signature and timestamp.",
        discussion: "Exit status: 0 valid, 1 invalid (or unreadable), 64 bad command line.")

    @Argument(help: "The captured request: its head and body as received (- for stdin).")
    var request: String

    @Option(help: "A secret (whsec_...); repeat for several. Or take them from --config.")
    var secret: [String] = []

    @Option(help: "A broker config whose signing block has the secrets.")
    var config: String?

    @Option(help: "Seconds the timestamp may be from now, either way.")
    var tolerance: Int = 300

    func run() throws {
        var keys: [[UInt8]] = []
        for text in secret {
            switch SigningSettings.key(fromSecret: text) {
            case .success(let key): keys.append(key)
            case .failure(let problem):
                print("invalid --secret: \(problem.message)")
                throw ExitCode(64)
            }
        }
        if let config {
            do {
                keys += try ConfigLoader().settings(path: config).signing?.keys ?? []
            } catch {
                print("invalid: \(error)")
                throw ExitCode(1)
            }
        }
        guard !keys.isEmpty else {
            print("no secret: give --secret whsec_... or a --config with a signing block")
            throw ExitCode(64)
        }
        guard let bytes = readAll(request) else {
            print("cannot read \(request)")
            throw ExitCode(1)
        }
        guard let captured = CapturedRequest(bytes) else {
            print("not an HTTP request: no blank line after the head")
            throw ExitCode(1)
        }
        let now = Int(Clock.wallMilliseconds() / 1000)
        let verdict = try SignatureCheck(keys: keys, toleranceSeconds: tolerance).verify(body: captured.body, nowSeconds: now) { captured.header($0) }
        switch verdict {
        case .valid(let index, let age):
            print("valid: signed with secret \(index + 1) of \(keys.count), webhook-id \(captured.header("webhook-id") ?? ""), \(age) s old, \(captured.body.count) body bytes")
            return
        case .missingHeader(let name): print("invalid: no \(name) header")
        case .badTimestamp: print("invalid: webhook-timestamp is not a number of seconds")
        case .tooOld(let age): print("invalid: the timestamp is \(age) s old (tolerance \(tolerance) s): a replay?")
        case .tooNew(let age): print("invalid: the timestamp is \(-age) s in the future (tolerance \(tolerance) s)")
        case .noMatch: print("invalid: no v1 signature matches any of the \(keys.count) secret\(keys.count == 1 ? "" : "s") (body or headers changed, or another key)")
        }
        throw ExitCode(1)
    }

    private func readAll(_ path: String) -> [UInt8]? {
        guard let file = path == "-" ? stdin : fopen(path, "rb") else { return nil }
        defer { if path != "-" { fclose(file) } }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return ferror(file) == 0 ? bytes : nil
    }
}

/// A raw HTTP request: headers by lower-case name, and the body (up to
/// Content-Length when given).
struct CapturedRequest {
    var headers: [(name: String, value: String)] = []
    var body: [UInt8]

    init?(_ bytes: [UInt8]) {
        let crlf = Array("\r\n\r\n".utf8), lf = Array("\n\n".utf8)
        guard let (headEnd, bodyStart) = Self.find(crlf, in: bytes).map({ ($0, $0 + 4) }) ?? Self.find(lf, in: bytes).map({ ($0, $0 + 2) })
        else { return nil }
        let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
        for line in head.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingSpaces()))
        }
        body = Array(bytes[bodyStart...])
        if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }), length <= body.count {
            body = Array(body[..<length])
        }
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return (0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
