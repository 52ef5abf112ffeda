/// The key-value format of NanoMQ 0.13 and earlier (EMQX 4.x style):
///
///     web.hook.url = http://127.0.0.1:80
///     web.hook.rule.message.publish.1 = {"action": "on_message_publish", "topic": "a/b/c"}
///
/// Lines outside `web.hook.*` belong to the rest of the broker and are skipped.
/// The `web.hook.*` keys become the same tree a HOCON `webhook {}` section
/// gives, so one resolver serves both syntaxes.
struct LegacyParser {
    private let bytes: [UInt8]
    private let file: String
    private let environment: Environment

    init(bytes: [UInt8], file: String, environment: Environment) {
        self.bytes = bytes
        self.file = file
        self.environment = environment
    }

    /// Old spellings, mapped onto the names the resolver reads.
    private static let renames: [String: [String]] = [
        "api.url": ["url"],
        "body.encoding_of_payload_field": ["body", "encoding"],
        "encode_payload": ["body", "encoding"],
        "ssl.verify": ["ssl", "verify_peer"],
        "ssl.server_name_indication": ["ssl", "server_name"],
    ]

    /// The `webhook` section, or nil when the file has no `web.hook.*` key.
    func parse() throws(ConfigError) -> ConfigNode? {
        var section = ConfigObject()
        var sectionLocation: SourceLocation?
        var rules: [ConfigNode] = []
        var rulesLocation: SourceLocation?

        var lineNumber = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            defer { start = end + 1 }

            let line = bytes[start..<end]
            guard let first = line.firstIndex(where: { !isSpace($0) }) else { continue }
            if line[first] == UInt8(ascii: "#") { continue }
            let at = SourceLocation(file: file, line: lineNumber, column: first - start + 1)
            guard let equals = line[first...].firstIndex(of: UInt8(ascii: "=")) else {
                throw ConfigError("expected 'key = value'", at: at)
            }
            let key = Quoting.escaping(bytes: line[first..<equals]).trimmingSpaces()
            guard key.hasPrefix("web.hook.") else { continue }
            let name = String(key.dropFirst("web.hook.".count))
            if name.isEmpty { throw ConfigError("empty key after 'web.hook.'", at: at, key: key) }

            var valueStart = equals + 1
            while valueStart < end, isSpace(bytes[valueStart]) { valueStart += 1 }
            let valueAt = SourceLocation(file: file, line: lineNumber, column: valueStart - start + 1)
            let rawValue = String(decoding: bytes[valueStart..<end], as: UTF8.self).trimmingSpaces()
            if sectionLocation == nil { sectionLocation = at }

            if name.hasPrefix("rule.") {
                rules.append(try parseRule(Array(bytes[valueStart..<end]), key: key, at: valueAt))
                if rulesLocation == nil { rulesLocation = valueAt }
                continue
            }
            let value = try expand(rawValue, key: key, at: valueAt)
            let invalid = Quoting.firstInvalidUTF8(bytes[valueStart..<end]).map {
                SourceLocation(file: file, line: lineNumber, column: valueAt.column + $0)
            }
            let parts = path(for: name)
            // Each part is an object level (see HOCONParser.maxDepth).
            if parts.count >= HOCONParser.maxDepth {
                throw ConfigError("a dotted key nests deeper than \(HOCONParser.maxDepth) levels", at: at, key: "web.hook")
            }
            section.assign(path: parts[...], ConfigNode(value, at: valueAt, invalidUTF8At: invalid))
        }
        guard let sectionLocation else { return nil }
        if let rulesLocation {
            section.assign("events", ConfigNode(.array(rules), at: rulesLocation))
        }
        return ConfigNode(.object(section), at: sectionLocation)
    }

    private func path(for name: String) -> [String] {
        if let renamed = Self.renames[name] { return renamed }
        // A header name may hold dots of its own: keep it whole.
        if name.hasPrefix("headers.") { return ["headers", String(name.dropFirst("headers.".count))] }
        return name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// `{"action": "on_message_publish", "topic": "a/b"}` becomes `{ event, topic }`.
    private func parseRule(_ text: [UInt8], key: String, at: SourceLocation) throws(ConfigError) -> ConfigNode {
        var parser = HOCONParser(bytes: text, file: file, environment: environment) { (_, at, _) throws(ConfigError) in
            throw ConfigError("include is not allowed in a rule", at: at, key: key)
        }
        let parsed: ConfigNode?
        do {
            parsed = try parser.parseStandaloneValue()
        } catch {
            // The rule's parser counts from column 1 of the value: move it onto the real line.
            var location = at
            if let inner = error.location { location.column += inner.column - 1 }
            throw ConfigError(error.message, at: location, key: key)
        }
        guard let parsed, case .object(let object) = parsed.value else {
            throw ConfigError("expected a JSON object like {\"action\": \"on_client_connack\"}", at: at, key: key)
        }
        var rule = ConfigObject()
        for field in object.keys {
            let node = object[field]!
            let located = ConfigNode(node.value, at: at)
            switch field {
            case "action": rule.assign("event", located)
            case "topic": rule.assign("topic", located)
            default: rule.assign(field, located)
            }
        }
        return ConfigNode(.object(rule), at: at)
    }

    /// Values are plain text; surrounding quotes are dropped, `${VAR}` expanded.
    private func expand(_ raw: String, key: String, at: SourceLocation) throws(ConfigError) -> ConfigValue {
        var text = raw
        var quoted = false
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
            text = String(text.dropFirst().dropLast())
            quoted = true
        }
        guard text.containsText("${") else { return .scalar(text, quoted: quoted) }
        var parser = HOCONParser(bytes: Array(("\"" + text + "\"").utf8), file: file, environment: environment) { (_, at, _) throws(ConfigError) in
            throw ConfigError("include is not allowed here", at: at, key: key)
        }
        do {
            if let node = try parser.parseStandaloneValue() { return node.value }
        } catch {
            throw ConfigError(error.message, at: at, key: key)
        }
        return .scalar("", quoted: true)
    }

    private func isSpace(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == 0x0D
    }
}
