import WebhookCore
import WebhookEngine

/// What a handle stands for: the settings and, when enabled, the engine.
final class Instance {
    let settings: WebhookSettings
    let engine: Engine?

    init(settings: WebhookSettings) throws(EngineError) {
        self.settings = settings
        self.engine = settings.enabled ? try Engine(settings: settings, log: Log(sink: LogRouting.sink)) : nil
    }

    /// Bit n set: some rule names event type n. A disabled instance wants nothing.
    var wantedMask: RuleTable.KindMask {
        settings.enabled ? settings.rules.wanted : 0
    }
}
