import CNng
import CThreadPriority
import WebhookCore

/// The delivery engine: accepts events on the broker's threads and POSTs
/// them to the endpoint on nng's threads, over `pool_size` persistent
/// connections, with retries, bounded memory and a bounded drain.
public final class Engine: @unchecked Sendable {
    public enum SubmitResult: Equatable, Sendable {
        /// Copied and queued for delivery.
        case queued
        /// No rule wants it.
        case filtered
        /// The queue is full and `queue.overflow = drop_new`.
        case dropped
        /// `shutdown` has begun.
        case shuttingDown
    }

    /// The settings in force: the start's, then each reload's.
    public var settings: WebhookSettings { reloadLock.withLock { current } }
    private var current: WebhookSettings
    private let reloadLock = Lock()
    private let rules: CurrentRules
    private let log: Log
    /// One per endpoint, in the config's order (bit n of a rule's
    /// `EndpointMask` is `deliveries[n]`).
    private let deliveries: [EndpointDelivery]
    /// Backoffs, batch waits and the watchdog, of every endpoint.
    private let timers: TimerThread
    /// The watchdog's slot of the timers: attempt deadlines, the wall
    /// clock's offset, retired dialers.
    private var watchdogSlot = 0
    private let watchdogPeriodNs: UInt64
    private let wallClock = WallClock()
    private let shutdownLock = Lock()
    private var isShutDown = false

    /// Starts the engine. No connection is opened until the first event.
    /// `observer`, when given, hears the outcome of every event.
    ///
    /// Everything that can fail is done before the engine is allocated
    /// (`assemble`), or once it is whole. Every class of the library
    /// follows this rule: when a designated initializer throws half-way,
    /// Embedded Swift (6.3) destroys the properties it set but never frees
    /// the object (its swift_deallocPartialClassInstance, inlined into the
    /// initializer, has no free): every failed webhook_init leaked about
    /// 1 KB until the fuzzer found it. A convenience initializer that throws
    /// before `self.init` has allocated nothing; one that throws after it
    /// releases a whole object, as any release does.
    public convenience init(settings: WebhookSettings, log: Log, observer: DeliveryObserver? = nil) throws(EngineError) {
        try NngLibrary.load()
        // A host's own nng threads (shared with the host's nng work) are never reniced.
        cthread_set_delivery_nice(cnng_shared_with_host() == 1 ? 0 : Int32(settings.deliveryNice))
        let timers = try TimerThread()
        var deliveries: [EndpointDelivery] = []
        do {
            for endpoint in settings.deliveryEndpoints {
                // Each endpoint's repeated messages are counted apart (one's failures never hide another's).
                let endpointLog = settings.hasNamedEndpoints ? log.separatelyLimited() : log
                deliveries.append(try EndpointDelivery(settings: endpoint, timers: timers, log: endpointLog, observer: observer))
            }
        } catch {
            timers.stop()
            for delivery in deliveries { _ = delivery.stop() }
            throw error
        }
        self.init(settings: settings, log: log, deliveries: deliveries, timers: timers)
        // Unretained: the timers stop (shutdown) before the engine goes.
        watchdogSlot = timers.addSlot({ argument in
            Unmanaged<Engine>.fromOpaque(argument!).takeUnretainedValue().watchdogFired()
        }, argument: Unmanaged.passUnretained(self).toOpaque())
        for delivery in deliveries { delivery.start() }
        timers.arm(watchdogSlot, afterNs: watchdogPeriodNs)
    }

    private init(settings: WebhookSettings, log: Log, deliveries: [EndpointDelivery], timers: TimerThread) {
        self.current = settings
        self.rules = CurrentRules(settings.rules)
        self.log = log
        self.deliveries = deliveries
        self.timers = timers
        // A tenth of the shortest attempt time, 10 to 100 ms: how late a deadline may be enforced.
        let shortest = settings.deliveryEndpoints.map { $0.cancelTimeoutMs }.min() ?? settings.cancelTimeoutMs
        watchdogPeriodNs = UInt64(min(100, max(10, shortest / 10))) * 1_000_000
    }

    /// Filters, copies and queues an event. Never blocks on the network.
    public func submit(_ event: Event) -> SubmitResult {
        let endpoints = rules.withTable { $0.endpoints(event) }
        guard endpoints != 0 else { return deliveries[0].queue.closed ? .shuttingDown : .filtered }
        return enqueue(event, endpoints: endpoints)
    }

    /// Queues an event for `endpoints` (every endpoint by default) without
    /// asking the rules (`webhookctl send --ignore-rules`).
    public func enqueue(_ event: Event, endpoints: EndpointMask = ~0) -> SubmitResult {
        event.withRawEvent { enqueue($0, endpoints: endpoints) }
    }

    /// The endpoints a rule sends an event of `kind` with this topic to; 0:
    /// none. (A method, so the rule table is read in place, not copied, on
    /// the broker's thread.)
    @inline(__always)
    public func route(_ kind: EventKind, topic: UnsafeRawBufferPointer) -> EndpointMask {
        rules.withTable { $0.endpoints(kind, topic: topic) }
    }

    /// Copies and queues an event the caller has already routed (`route`),
    /// straight from the caller's memory (the broker's thread), once for
    /// each endpoint in `endpoints`: each counts it, keeps it within its
    /// own bounds and delivers it on its own.
    public func enqueue(_ event: borrowing RawEvent, endpoints: EndpointMask) -> SubmitResult {
        let now = Clock.monotonicNanoseconds()
        let timestampMs = event.header.timestampMs != 0 ? event.header.timestampMs : wallClock.milliseconds(monotonicNs: now)
        if deliveries.count == 1 { return deliveries[0].enqueue(event, timestampMs: timestampMs, nowNs: now) }
        // Queued anywhere is queued; the broker hears of a drop only when no endpoint took it.
        var result = SubmitResult.shuttingDown
        var rest = endpoints
        while rest != 0 {
            let index = rest.trailingZeroBitCount
            rest &= rest - 1
            guard index < deliveries.count else { break }
            switch deliveries[index].enqueue(event, timestampMs: timestampMs, nowNs: now) {
            case .queued: result = .queued
            case .dropped where result != .queued: result = .dropped
            default: break
            }
        }
        return result
    }

    /// The endpoints' counters added up (an event sent to two endpoints
    /// counts twice: it is two deliveries).
    public func stats() -> EngineStats {
        var total = EngineStats()
        for delivery in deliveries { total.addEndpoint(delivery.stats()) }
        return total
    }

    /// One endpoint's name and counters (config order); nil past the last.
    public func stats(endpoint index: Int) -> (name: String, stats: EngineStats)? {
        guard deliveries.indices.contains(index) else { return nil }
        let delivery = deliveries[index]
        var stats = EngineStats()
        stats.addEndpoint(delivery.stats())
        return (delivery.name, stats)
    }

    /// Each endpoint's counters, health and waiting ages, in config order
    /// (`PrometheusText` renders them).
    public func metrics() -> [EngineMetrics] {
        let now = Clock.monotonicNanoseconds()
        return deliveries.map { $0.metrics(nowNs: now) }
    }

    /// Puts a new config in force without a restart: rules at once; the
    /// queue and batch limits for what comes next; the endpoint (URL, TLS,
    /// headers), signing secrets and retry rules for each event a
    /// connection begins from now on (one in flight finishes, retries and
    /// is signed as it began). Nothing queued or spooled moves, so nothing
    /// is lost or sent twice. What only a restart can change (the pool, the
    /// ordering, the spool, `enable`, `delivery_nice`) is refused, and so
    /// is a config whose endpoint cannot be made (a TLS file that does not
    /// load): then nothing changes. Returns what changed, for the log.
    public func reload(_ next: WebhookSettings) throws(EngineError) -> String {
        try reloadLock.withLock { () throws(EngineError) -> String in
            let old = current.deliveryEndpoints, new = next.deliveryEndpoints
            if old.map({ $0.endpointName }) != new.map({ $0.endpointName }) {
                throw EngineError("endpoints (\(Self.names(old)) -> \(Self.names(new))) take a restart; the running config stays")
            }
            for (before, after) in zip(old, new) {
                if let reason = Self.needsRestart(from: before, to: after) {
                    let which = next.hasNamedEndpoints ? "endpoints.\(after.endpointName).\(reason)" : reason
                    throw EngineError("\(which) takes a restart; the running config stays")
                }
            }
            if current.enabled != next.enabled { throw EngineError("enable takes a restart; the running config stays") }
            if deliveries[0].queue.closed { throw EngineError("shutting down") }
            // Every endpoint's setup is made before any is installed: all change, or none.
            var setups: [DeliverySetup] = []
            for (delivery, settings) in zip(deliveries, new) { setups.append(try delivery.prepare(settings)) }
            var changes: [String] = []
            if current.rules.rules != next.rules.rules { changes.append("rules") }
            for (before, after) in zip(old, new) {
                let changed = Self.changes(from: before, to: after)
                guard changed != Self.nothingChanged else { continue }
                changes.append(next.hasNamedEndpoints ? "\(after.endpointName): \(changed)" : changed)
            }
            rules.replace(with: next.rules)
            for (delivery, setup) in zip(deliveries, setups) { delivery.install(setup) }
            current = next
            return changes.isEmpty ? Self.nothingChanged : changes.joined(separator: next.hasNamedEndpoints ? "; " : ", ")
        }
    }

    private static let nothingChanged = "nothing changed"

    private static func names(_ endpoints: [WebhookSettings]) -> String {
        endpoints.map { $0.endpointName }.joined(separator: ", ")
    }

    /// What a reload cannot change, said as the key that changed.
    static func needsRestart(from old: WebhookSettings, to new: WebhookSettings) -> String? {
        if old.enabled != new.enabled { return "enable" }
        if old.poolSize != new.poolSize { return "pool_size (\(old.poolSize) -> \(new.poolSize))" }
        if old.ordering != new.ordering { return "ordering" }
        if !Self.sameSpool(old.spool, new.spool) { return "spool { }" }
        if old.deliveryNice != new.deliveryNice { return "delivery_nice" }
        if old.cancelTimeoutMs != new.cancelTimeoutMs { return "cancel_timeout" }
        return nil
    }

    /// The same spool, wherever in which file it is written (`origin` is
    /// only where its errors point).
    private static func sameSpool(_ old: SpoolSettings?, _ new: SpoolSettings?) -> Bool {
        guard let old, var new else { return old == nil && new == nil }
        new.origin = old.origin
        return old == new
    }

    /// "url, headers, rules": the parts of the config a reload changed.
    static func changes(from old: WebhookSettings, to new: WebhookSettings) -> String {
        var changed: [String] = []
        if old.url.description != new.url.description { changed.append("url") }
        if old.backupURL?.description != new.backupURL?.description || old.backupTLS != new.backupTLS { changed.append("backup_url") }
        if old.headers != new.headers { changed.append("headers") }
        if old.tls != new.tls { changed.append("tls") }
        if old.signing != new.signing { changed.append("signing") }
        if old.retry != new.retry { changed.append("retry") }
        if old.queue != new.queue { changed.append("queue") }
        if old.batch != new.batch { changed.append("batch") }
        if old.pipeline != new.pipeline { changed.append("pipeline") }
        if old.compression != new.compression { changed.append("compression") }
        if old.rateLimit != new.rateLimit { changed.append("rate_limit") }
        if old.circuitBreakerFailures != new.circuitBreakerFailures { changed.append("circuit_breaker") }
        if old.encoding != new.encoding || old.eventIDs != new.eventIDs || old.maxResponseBodyBytes != new.maxResponseBodyBytes
            || old.drainTimeoutMs != new.drainTimeoutMs {
            changed.append("other settings")
        }
        return changed.isEmpty ? nothingChanged : changed.joined(separator: ", ")
    }

    /// Stops accepting events, delivers what is queued until
    /// `drain_timeout`, counts the rest as dropped, closes connections and
    /// frees everything. Safe to call more than once.
    public func shutdown() {
        let first = shutdownLock.withLock {
            defer { isShutDown = true }
            return !isShutDown
        }
        guard first else { return }
        // Nothing waits once shutdown began: batches gathering company go
        // now, and the spool hands what it holds to the drain.
        for delivery in deliveries { delivery.shutdownBegan() }
        let settings = self.settings
        // One drain time for all: the endpoints drain side by side.
        let deadline = Clock.monotonicNanoseconds() + UInt64(settings.drainTimeoutMs) * 1_000_000
        var drained = true
        for delivery in deliveries where !delivery.queue.waitUntilDrained(deadlineNs: deadline) { drained = false }
        timers.stop()  // no backoff, batch wait or watchdog runs from here on
        var abandoned = 0, saved = 0
        for delivery in deliveries {
            // With a spool, what is left (a connection's and the queue's) is
            // saved for the next start rather than dropped.
            let left = delivery.stop()
            abandoned += left.abandoned
            saved += left.saved
        }
        let final = stats()
        if !drained {
            log.log(.warning, "shutdown: drain_timeout (\(settings.drainTimeoutMs) ms) passed; \(final.droppedShutdown) event(s) dropped (\(abandoned) still queued)")
        }
        if let spool = settings.spool, final.spooled > 0 {
            log.log(.info, "shutdown: \(final.spooled) event(s) kept in the spool (\(spool.directory)) for the next start (\(saved) saved from memory)")
        }
        // The books at the end, for the broker's log (a host cannot ask once the handle is gone).
        for delivery in deliveries {
            let books = delivery.stats()
            let who = settings.hasNamedEndpoints ? "stopped \(delivery.name)" : "stopped"
            log.log(.info, "\(who): matched \(books.matched), delivered \(books.delivered), failed \(books.failed), "
                + "dropped \(books.dropped) (queue full \(books.droppedQueueFull), shutdown \(books.droppedShutdown), spool \(books.droppedSpool)), "
                + "retried \(books.retried), connections opened \(books.connectionsOpened)")
        }
    }

    deinit {
        shutdown()
    }

    // MARK: Internals

    private func watchdogFired() {
        guard !deliveries[0].queue.isStopping else { return }
        let now = Clock.monotonicNanoseconds()
        wallClock.refresh()
        for delivery in deliveries { delivery.checkDeadlines(nowNs: now) }
        timers.arm(watchdogSlot, afterNs: watchdogPeriodNs)
    }

    /// One client always lands on the same lane (the spool keeps the hash,
    /// so a restart with another lane count still does).
    static func lane(for clientID: UnsafeRawBufferPointer?, count: Int) -> Int {
        Int(ClientHash.of(clientID) % UInt64(count))
    }
}
