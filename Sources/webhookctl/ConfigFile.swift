import ArgumentParser
import WebhookCore

/// A config file as the commands read it: its settings, or the reason on
/// stdout and exit status 1.
enum ConfigFile {
    static func settings(_ path: String) throws -> WebhookSettings {
        do {
            return try ConfigLoader().settings(path: path)
        } catch {
            print("invalid: \(error)")
            throw ExitCode(1)
        }
    }
}
