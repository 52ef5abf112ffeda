import WebhookCore

/// An event that failed (a 4xx the endpoint meant, or its attempts or
/// `max_elapsed` used up), kept in the spool with why.
public struct DeadLetter: Sendable {
    public let id: Int64
    /// When it failed: Unix milliseconds.
    public let failedAtMs: UInt64
    /// "HTTP 404", "connect failed: Connection refused", ...
    public let reason: String
    /// The last HTTP status; 0 when there was none (no connection, no answer).
    public let status: Int
    public let attempts: Int
    /// Marked by `webhookctl dead replay`: sent again at the broker's next
    /// reload or start.
    public let markedForReplay: Bool
    public let event: Event
}

/// The dead letters of a spool, for `webhookctl dead`: read and changed
/// beside the running broker (see `SpoolStore.init(inspecting:)`), which
/// never waits for this, nor this for more than a second.
public final class DeadLetterFile {
    private let store: SpoolStore

    /// The spool of `settings` (its `dir`).
    public init(_ settings: SpoolSettings) throws(EngineError) {
        do {
            store = try SpoolStore(inspecting: settings.directory)
        } catch {
            throw EngineError("\(settings.origin): \(error.message)")
        }
    }

    public var path: String { store.path }

    /// Up to `limit` dead letters, oldest first.
    public func list(limit: Int = .max) throws(EngineError) -> [DeadLetter] {
        do {
            return try store.deadLetters(limit: limit).map { stored in
                let bytes = stored.record
                let event = bytes.withUnsafeBytes { raw -> Event in
                    EventRecord.isValid(raw) ? EventRecord.read(raw.baseAddress!).event : Event(kind: .messagePublish)
                }
                return DeadLetter(id: stored.id, failedAtMs: stored.failedAtMs, reason: stored.reason, status: stored.status,
                                  attempts: stored.attempts, markedForReplay: stored.replay, event: event)
            }
        } catch {
            throw EngineError(error.message)
        }
    }

    /// Marks dead letters (`ids` nil: all) to be sent again at the broker's
    /// next reload or start; returns how many were marked.
    public func markForReplay(ids: [Int64]?) throws(EngineError) -> Int {
        do { return try store.markForReplay(ids: ids) } catch { throw EngineError(error.message) }
    }

    /// Deletes dead letters (`ids` nil: all); returns how many.
    public func purge(ids: [Int64]?) throws(EngineError) -> Int {
        do { return try store.purgeDeadLetters(ids: ids) } catch { throw EngineError(error.message) }
    }
}
