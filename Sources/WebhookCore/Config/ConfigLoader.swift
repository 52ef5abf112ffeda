/// The two config syntaxes the library reads.
public enum ConfigSyntax: String, Sendable {
    /// NanoMQ 0.14 and later: `webhook { ... }` in a HOCON nanomq.conf.
    case hocon
    /// NanoMQ 0.13 and earlier, EMQX 4.x: `web.hook.url = ...` lines.
    case legacy
}

/// A config file read and parsed, with its `webhook` section picked out.
public struct LoadedConfig: Sendable {
    public var syntax: ConfigSyntax
    /// The whole document (HOCON only; the legacy format keeps just its section).
    public var root: ConfigObject
    /// The `webhook` section; nil when the file has none.
    public var section: ConfigNode?
    /// How the section's keys are named in messages: `webhook` or `web.hook`.
    public var sectionName: String
    /// Line 1 of the file, for errors about the file as a whole.
    public var documentStart: SourceLocation
}

/// Reads a broker config file (or text), detects its syntax, follows includes.
public struct ConfigLoader {
    /// Deeper include chains than this are taken for a mistake.
    public static let maxIncludeDepth = 16

    public var environment: Environment

    public init(environment: Environment = .process) {
        self.environment = environment
    }

    public func load(path: String) throws(ConfigError) -> LoadedConfig {
        let bytes = try read(path, includedAt: nil)
        return try load(bytes: bytes, name: path)
    }

    /// `name` is what messages call the text (`<text>` by default); includes
    /// in it are resolved against the current directory.
    public func load(text: String, name: String = "<text>") throws(ConfigError) -> LoadedConfig {
        try load(bytes: Array(text.utf8), name: name)
    }

    private func load(bytes: [UInt8], name: String) throws(ConfigError) -> LoadedConfig {
        switch Self.detectSyntax(bytes) {
        case .legacy:
            let section = try LegacyParser(bytes: bytes, file: name, environment: environment).parse()
            return LoadedConfig(syntax: .legacy, root: ConfigObject(), section: section, sectionName: "web.hook",
                                documentStart: SourceLocation(file: name, line: 1, column: 1))
        case .hocon:
            var stack: [String] = []
            if let real = FileSystem.realPath(name) { stack.append(real) }
            let root = try parseHOCON(bytes: bytes, file: name, depth: 0, stack: &stack)
            return LoadedConfig(syntax: .hocon, root: root, section: root["webhook"], sectionName: "webhook",
                                documentStart: SourceLocation(file: name, line: 1, column: 1))
        }
    }

    /// Legacy when some line starts with `web.hook.` and no line opens or
    /// closes a block: every HOCON nanomq.conf has `mqtt {` or `webhook {`.
    public static func detectSyntax(_ bytes: [UInt8]) -> ConfigSyntax {
        var sawLegacyKey = false
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let line = String(decoding: rawLine, as: UTF8.self).trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("//") { continue }
            if line.hasPrefix("web.hook.") { sawLegacyKey = true; continue }
            if line.hasSuffix("{") || line.hasSuffix("[") || line.hasPrefix("}") || line.hasPrefix("]") {
                return .hocon
            }
        }
        return sawLegacyKey ? .legacy : .hocon
    }

    /// `depth`: the nesting of the include that names the file (0 for the
    /// top): an included file nests inside it, not from 0 again.
    private func parseHOCON(bytes: [UInt8], file: String, depth: Int, stack: inout [String]) throws(ConfigError) -> ConfigObject {
        var chain = stack
        var parser = HOCONParser(bytes: bytes, file: file, environment: environment, depth: depth) { (path, at, depth) throws(ConfigError) in
            guard chain.count < Self.maxIncludeDepth else {
                throw ConfigError("includes nest deeper than \(Self.maxIncludeDepth) files", at: at, key: "include")
            }
            let included = try read(path, includedAt: at)
            let real = FileSystem.realPath(path) ?? path
            if chain.contains(real) {
                throw ConfigError("include cycle: \(path) is already being read", at: at, key: "include")
            }
            chain.append(real)
            defer { chain.removeLast() }
            return try parseHOCON(bytes: included, file: path, depth: depth, stack: &chain)
        }
        return try parser.parseDocument()
    }

    private func read(_ path: String, includedAt: SourceLocation?) throws(ConfigError) -> [UInt8] {
        switch FileSystem.readFile(path) {
        case .success(let bytes):
            return bytes
        case .failure(let failure):
            let why: String
            switch failure {
            case .cannotOpen(let reason): why = reason
            case .tooLarge: why = "larger than \(FileSystem.maxConfigSize >> 20) MiB"
            case .notRegularFile: why = "not a regular file"
            }
            if let includedAt {
                throw ConfigError("cannot read included file \(path): \(why)", at: includedAt, key: "include")
            }
            throw ConfigError("cannot read config file \(path): \(why)", at: nil)
        }
    }
}

extension ConfigLoader {
    /// Reads, parses and validates a config file: what `webhook_init` does.
    public func settings(path: String) throws(ConfigError) -> WebhookSettings {
        try SettingsResolver.settings(from: load(path: path))
    }

    /// The same for config text held in memory.
    public func settings(text: String, name: String = "<text>") throws(ConfigError) -> WebhookSettings {
        try SettingsResolver.settings(from: load(text: text, name: name))
    }
}
