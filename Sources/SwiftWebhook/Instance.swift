import WebhookCore
import WebhookEngine

/// What a handle stands for: the settings and, when enabled, the engine.
final class Instance {
    let settings: WebhookSettings
    let engine: Engine?
    /// The config file it was started from (nil: from text), which
    /// `webhook_reload` reads again when given no path.
    let path: String?
    /// One reload at a time, so the rules and the registry's mask of
    /// wanted types always come from the same config.
    private let reloadLock = Lock()

    /// The engine is made before the instance (see Engine.init).
    convenience init(settings: WebhookSettings, path: String?) throws(EngineError) {
        let engine = settings.enabled ? try Engine(settings: settings, log: Log(sink: LogRouting.sink)) : nil
        self.init(settings: settings, engine: engine, path: path)
    }

    private init(settings: WebhookSettings, engine: Engine?, path: String?) {
        self.settings = settings
        self.engine = engine
        self.path = path
    }

    /// Puts `next` in force (Engine.reload) and then tells the handle table
    /// which event types it wants now. Returns what changed.
    func reload(_ next: WebhookSettings, publishWanted: (RuleTable.KindMask) -> Void) throws(EngineError) -> String {
        try reloadLock.withLock { () throws(EngineError) -> String in
            guard let engine else {
                if next.enabled { throw EngineError("enable takes a restart; the running config stays") }
                return "nothing changed (disabled)"
            }
            let changes = try engine.reload(next)
            publishWanted(next.enabled ? next.rules.wanted : 0)
            return changes
        }
    }

    /// Bit n set: some rule names event type n. A disabled instance wants nothing.
    var wantedMask: RuleTable.KindMask {
        settings.enabled ? settings.rules.wanted : 0
    }
}
