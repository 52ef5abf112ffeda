import Foundation
import Testing
@testable import WebhookCore

/// Folder of the config fixtures next to this file.
let fixtures: String = {
    let file = #filePath
    return String(file[..<file.lastIndex(of: "/")!]) + "/Fixtures"
}()

/// Resolves config text the way `webhook_init` does.
func settings(_ text: String, env: [String: String] = [:], name: String = "nanomq.conf") throws(ConfigError) -> WebhookSettings {
    try ConfigLoader(environment: Environment(env)).settings(text: text, name: name)
}

/// Parses HOCON text into its whole tree.
func tree(_ text: String, env: [String: String] = [:]) throws(ConfigError) -> ConfigObject {
    try ConfigLoader(environment: Environment(env)).load(text: text, name: "t.conf").root
}

/// The message `webhook_init` would return for this config.
func configError(_ text: String, env: [String: String] = [:]) -> String? {
    do {
        _ = try settings(text, env: env)
        return nil
    } catch {
        return error.description
    }
}

func scalar(_ object: ConfigObject, _ path: String) -> String? {
    var node: ConfigNode?
    var current = object
    for segment in path.split(separator: ".") {
        node = current[String(segment)]
        guard let found = node else { return nil }
        if case .object(let next) = found.value { current = next }
    }
    if case .scalar(let text, _)? = node?.value { return text }
    return nil
}

/// A value handed from another thread, waited for with a limit (so that a
/// call that hangs fails its test instead of stopping the suite).
final class OneShot<T: Sendable>: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var value: T?

    func set(_ newValue: T) {
        lock.withLock { value = newValue }
        ready.signal()
    }

    func wait(seconds: Double) -> T? {
        guard ready.wait(timeout: .now() + seconds) == .success else { return nil }
        return lock.withLock { value }
    }
}
