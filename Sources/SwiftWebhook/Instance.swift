import WebhookCore
import WebhookEngine

/// What a handle stands for: the settings and, when enabled, the engine.
final class Instance {
    let settings: WebhookSettings
    let engine: Engine?

    /// The engine is made before the instance (see Engine.init).
    convenience init(settings: WebhookSettings) throws(EngineError) {
        let engine = settings.enabled ? try Engine(settings: settings, log: Log(sink: LogRouting.sink)) : nil
        self.init(settings: settings, engine: engine)
    }

    private init(settings: WebhookSettings, engine: Engine?) {
        self.settings = settings
        self.engine = engine
    }

    /// Bit n set: some rule names event type n. A disabled instance wants nothing.
    var wantedMask: RuleTable.KindMask {
        settings.enabled ? settings.rules.wanted : 0
    }
}
