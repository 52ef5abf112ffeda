/// A parsed config value with the place it came from.
///
/// Both syntaxes (HOCON and the legacy `web.hook.*` lines) parse into this tree,
/// so one resolver turns either into `WebhookSettings`.
public struct ConfigNode: Sendable {
    public var value: ConfigValue
    public var location: SourceLocation
    /// A scalar written with bytes that are not UTF-8: where the first one
    /// is. (Its text holds U+FFFD there, so it is refused where it is read,
    /// rather than sent on changed; a section the library does not read may
    /// hold any bytes, as NanoMQ allows.)
    public var invalidUTF8At: SourceLocation?

    public init(_ value: ConfigValue, at location: SourceLocation, invalidUTF8At: SourceLocation? = nil) {
        self.value = value
        self.location = location
        self.invalidUTF8At = invalidUTF8At
    }
}

public enum ConfigValue: Sendable {
    /// A scalar as written. `quoted` tells `"true"` (a string) from `true`;
    /// typed reads (bool, size, duration) interpret the text.
    case scalar(String, quoted: Bool)
    case null
    case array([ConfigNode])
    case object(ConfigObject)
}

/// An object whose keys keep the order they were first written in.
public struct ConfigObject: Sendable {
    public private(set) var keys: [String] = []
    private var entries: [String: ConfigNode] = [:]
    /// Keys written again after their first value, with where: HOCON merges
    /// them, but a name that must be unique (an endpoint's) is an error.
    public private(set) var repeated: [(key: String, location: SourceLocation)] = []

    public init() {}

    public subscript(key: String) -> ConfigNode? { entries[key] }

    public var isEmpty: Bool { keys.isEmpty }

    /// HOCON assignment: an object merges into an existing object,
    /// anything else replaces what was there (the later value wins).
    public mutating func assign(_ key: String, _ node: ConfigNode) {
        if let existing = entries[key] {
            repeated.append((key, node.location))
            if case .object(var old) = existing.value, case .object(let new) = node.value {
                old.merge(new)
                entries[key] = ConfigNode(.object(old), at: existing.location)
            } else {
                entries[key] = node
            }
        } else {
            keys.append(key)
            entries[key] = node
        }
    }

    /// Assigns `node` at a dotted path, creating intermediate objects.
    public mutating func assign(path: ArraySlice<String>, _ node: ConfigNode) {
        guard let first = path.first else { return }
        if path.count == 1 {
            assign(first, node)
            return
        }
        var child = ConfigObject()
        child.assign(path: path.dropFirst(), node)
        assign(first, ConfigNode(.object(child), at: node.location))
    }

    public mutating func merge(_ other: ConfigObject) {
        for key in other.keys {
            assign(key, other.entries[key]!)
        }
    }
}
