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
    private let queue: DeliveryQueue<Connection>
    private let context: DeliveryContext
    private let connections: [Connection]
    /// Nil unless `spool { ... }` is configured.
    private let spool: Spool<DeliveryQueue<Connection>>?
    /// The watchdog's slot of the context's timers: attempt deadlines,
    /// the wall clock's offset, retired dialers.
    private var watchdogSlot = 0
    private let watchdogPeriodNs: UInt64
    private let wallClock = WallClock()
    private let shutdownLock = Lock()
    private var isShutDown = false

    /// What the engine is made of, assembled before the engine exists.
    private struct Parts {
        var queue: DeliveryQueue<Connection>
        var spool: Spool<DeliveryQueue<Connection>>?
        var context: DeliveryContext
        var connections: [Connection]
    }

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
        let parts = try Self.assemble(settings: settings, log: log, observer: observer)
        self.init(settings: settings, log: log, parts: parts)
        // Unretained: the timers stop (shutdown) before the engine goes.
        watchdogSlot = context.timers.addSlot({ argument in
            Unmanaged<Engine>.fromOpaque(argument!).takeUnretainedValue().watchdogFired()
        }, argument: Unmanaged.passUnretained(self).toOpaque())
        for connection in connections { connection.takeWork() }
        context.timers.arm(watchdogSlot, afterNs: watchdogPeriodNs)
    }

    private init(settings: WebhookSettings, log: Log, parts: Parts) {
        self.current = settings
        self.rules = CurrentRules(settings.rules)
        self.log = log
        queue = parts.queue
        spool = parts.spool
        context = parts.context
        connections = parts.connections
        // A tenth of the attempt's time, 10 to 100 ms: how late a deadline may be enforced.
        watchdogPeriodNs = UInt64(min(100, max(10, settings.cancelTimeoutMs / 10))) * 1_000_000
    }

    /// The queue, the spool (started), the endpoint and the connections;
    /// on a failure, what was made is released.
    private static func assemble(settings: WebhookSettings, log: Log, observer: DeliveryObserver?) throws(EngineError) -> Parts {
        let laneCount = settings.ordering == .perClient ? settings.poolSize : 1
        let spill = settings.spool.map { SpillLimits(durability: $0.durability, laneCount: laneCount, keepsDeadLetters: $0.deadLetters > 0) }
        let signal = settings.spool.map { _ in SpoolSignal() }
        let queue = DeliveryQueue<Connection>(laneCount: laneCount, limits: settings.queue, batch: BatchLimits(settings.batch, pipeline: settings.pipeline),
                                              spill: spill, spoolSignal: signal, idTag: UInt64.random(in: 0...UInt64.max))
        var spool: Spool<DeliveryQueue<Connection>>?
        if let spoolSettings = settings.spool, let signal {
            spool = try Spool(settings: spoolSettings, overflow: settings.queue.overflow, queue: queue, signal: signal, log: log)
        }
        let setup = try DeliverySetup(settings: settings, generation: 1)
        if let tls = settings.tls, tls.verifyPeer, EndpointURL.isAddress(tls.serverName), cnng_tls_ip_names_active() == 0 {
            // Without the check of iPAddress names (tls_ip_names.c), mbedtls 2.28 compares the address with DNS names only.
            log.log(.warning, "tls: \(settings.url) names an IP address, and this libnng cannot check a certificate's IP addresses "
                + "(it is the host's, or not nng 1.5's mbedtls engine): every handshake will fail. Set tls.server_name to a DNS name "
                + "the certificate holds, or verify_peer = false")
        }
        let timers = try TimerThread()
        let context = DeliveryContext(queue: queue, setup: setup, timers: timers, log: log, observer: observer)
        var connections: [Connection] = []
        do {
            for i in 0..<settings.poolSize {
                connections.append(try Connection(lane: settings.ordering == .perClient ? i : 0, context: context))
            }
            try spool?.start()
        } catch {
            release(connections, context, log: log)
            throw error
        }
        return Parts(queue: queue, spool: spool, context: context, connections: connections)
    }

    /// Filters, copies and queues an event. Never blocks on the network.
    public func submit(_ event: Event) -> SubmitResult {
        guard rules.withTable({ $0.matches(event) }) else { return queue.closed ? .shuttingDown : .filtered }
        return enqueue(event)
    }

    /// Whether a rule wants an event of `kind` with this topic. (A method,
    /// so the rule table is read in place, not copied, on the broker's thread.)
    @inline(__always)
    public func matches(_ kind: EventKind, topic: UnsafeRawBufferPointer) -> Bool {
        rules.withTable { $0.matches(kind, topic: topic) }
    }

    /// Queues an event the caller has already matched against `rules`.
    public func enqueue(_ event: Event) -> SubmitResult {
        event.withRawEvent { enqueue($0) }
    }

    /// Copies and queues an event the caller has already matched against
    /// `rules`, straight from the caller's memory (the broker's thread).
    public func enqueue(_ event: borrowing RawEvent) -> SubmitResult {
        let now = Clock.monotonicNanoseconds()
        let timestampMs = event.header.timestampMs != 0 ? event.header.timestampMs : wallClock.milliseconds(monotonicNs: now)
        let lane = queue.laneCount == 1 ? 0 : Self.lane(for: event.bytes(.clientID), count: queue.laneCount)
        switch queue.submit(event, timestampMs: timestampMs, lane: lane, nowNs: now) {
        case .queued(let idle):
            idle?.wake()
            return .queued
        case .dropped:
            return .dropped
        case .shuttingDown:
            return .shuttingDown
        }
    }

    public func stats() -> EngineStats {
        var stats = queue.snapshot()
        spool?.addStats(to: &stats)
        return stats
    }

    /// The counters with the endpoint's health and the waiting events' ages
    /// (`PrometheusText` renders them).
    public func metrics() -> EngineMetrics {
        var metrics = EngineMetrics()
        metrics.stats = stats()
        (metrics.endpointState, metrics.outages, metrics.disables) = context.monitor.snapshot()
        (metrics.circuitState, metrics.circuitOpened) = context.circuit.snapshot()
        let now = Clock.monotonicNanoseconds()
        let stats = metrics.stats
        if stats.lastDeliveredAtNs != 0 { metrics.sinceLastDeliveredNs = now &- min(now, stats.lastDeliveredAtNs) }
        if stats.oldestQueuedAtNs != 0 { metrics.oldestQueuedAgeNs = now &- min(now, stats.oldestQueuedAtNs) }
        if stats.spoolOldestTimestampMs != 0 {
            let wall = Clock.wallMilliseconds()
            metrics.spoolOldestAgeMs = wall &- min(wall, stats.spoolOldestTimestampMs)
        }
        return metrics
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
            if let reason = Self.needsRestart(from: current, to: next) {
                throw EngineError("\(reason) takes a restart; the running config stays")
            }
            if queue.closed { throw EngineError("shutting down") }
            let setup = try DeliverySetup(settings: next, generation: context.setup.generation + 1)
            let changes = Self.changes(from: current, to: next)
            rules.replace(with: next.rules)
            queue.apply(limits: next.queue, batch: BatchLimits(next.batch, pipeline: next.pipeline))
            context.install(setup)
            current = next
            // What `webhookctl dead replay` marked goes out again.
            spool?.requestReplay()
            return changes
        }
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
        if old.headers != new.headers { changed.append("headers") }
        if old.tls != new.tls { changed.append("tls") }
        if old.rules.rules != new.rules.rules { changed.append("rules") }
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
        return changed.isEmpty ? "nothing changed" : changed.joined(separator: ", ")
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
        queue.close()
        // Nothing waits once shutdown began: batches gathering company go
        // now, and the spool hands what it holds to the drain.
        for connection in connections { connection.shutdownBegan() }
        spool?.drainBegan()
        let settings = self.settings
        let deadline = Clock.monotonicNanoseconds() + UInt64(settings.drainTimeoutMs) * 1_000_000
        let drained = queue.waitUntilDrained(deadlineNs: deadline)
        let abandoned = queue.stop()
        Self.release(connections, context, log: log)
        // With a spool, what is left (a connection's and the queue's) is
        // saved for the next start rather than dropped.
        let saved = spool?.close() ?? 0
        let final = stats()
        if !drained {
            log.log(.warning, "shutdown: drain_timeout (\(settings.drainTimeoutMs) ms) passed; \(final.droppedShutdown) event(s) dropped (\(abandoned) still queued)")
        }
        if let spool = settings.spool, final.spooled > 0 {
            log.log(.info, "shutdown: \(final.spooled) event(s) kept in the spool (\(spool.directory)) for the next start (\(saved) saved from memory)")
        }
        // The books at the end, for the broker's log (a host cannot ask once the handle is gone).
        log.log(.info, "stopped: matched \(final.matched), delivered \(final.delivered), failed \(final.failed), "
            + "dropped \(final.dropped) (queue full \(final.droppedQueueFull), shutdown \(final.droppedShutdown), spool \(final.droppedSpool)), "
            + "retried \(final.retried), connections opened \(final.connectionsOpened)")
    }

    deinit {
        shutdown()
    }

    // MARK: Internals

    /// Stops the connections and frees every nng handle the engine made:
    /// the one way out, for a failed start and for shutdown. Each nng free
    /// that can hang in nng 1.5.2 is bounded (see ConnectionCloser, Endpoint).
    private static func release(_ connections: [Connection], _ context: DeliveryContext, log: Log) {
        context.timers.stop()  // no backoff, batch wait or watchdog runs from here on
        for connection in connections { connection.stop() }
        if !context.closer.waitForAll(limitMs: 2000) {
            log.log(.warning, "nng_stream_free did not return within 2000 ms; abandoning the connection")
        }
        Endpoint.close(context.endpoints, dialers: connections.map { $0.dialer } + context.graveyard.all(), limitMs: 2000, log: log)
    }

    private func watchdogFired() {
        guard !queue.isStopping else { return }
        let now = Clock.monotonicNanoseconds()
        wallClock.refresh()
        for connection in connections { connection.checkDeadline(nowNs: now) }
        for dialer in context.graveyard.expired(nowNs: now) { nng_stream_dialer_free(dialer) }
        context.timers.arm(watchdogSlot, afterNs: watchdogPeriodNs)
    }

    /// One client always lands on the same lane (the spool keeps the hash,
    /// so a restart with another lane count still does).
    static func lane(for clientID: UnsafeRawBufferPointer?, count: Int) -> Int {
        Int(ClientHash.of(clientID) % UInt64(count))
    }
}
