import CNng
import WebhookCore

/// Everything one endpoint is delivered with: its queue and lanes, its part
/// of the spool, its connections, and the context they share (setup,
/// breaker, rate limit, health). Nothing here is shared with another
/// endpoint but the engine's timer thread, so a dead endpoint holds its
/// own events and connections and never delays another's.
final class EndpointDelivery: @unchecked Sendable {
    let name: String
    let queue: DeliveryQueue<Connection>
    let context: DeliveryContext
    let connections: [Connection]
    /// Nil unless `spool { ... }` is configured.
    let spool: Spool<DeliveryQueue<Connection>>?

    /// What can fail is done before the object exists (see Engine.init).
    convenience init(settings: WebhookSettings, timers: TimerThread, log: Log, observer: DeliveryObserver?) throws(EngineError) {
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
        for (url, tls) in [(settings.url, settings.tls), (settings.backupURL ?? settings.url, settings.backupTLS)] {
            guard let tls, tls.verifyPeer, EndpointURL.isAddress(tls.serverName), cnng_tls_ip_names_active() == 0 else { continue }
            // Without the check of iPAddress names (tls_ip_names.c), mbedtls 2.28 compares the address with DNS names only.
            log.log(.warning, "tls: \(url) names an IP address, and this libnng cannot check a certificate's IP addresses "
                + "(it is the host's, or not nng 1.5's mbedtls engine): every handshake will fail. Set tls.server_name to a DNS name "
                + "the certificate holds, or verify_peer = false")
        }
        let context = DeliveryContext(queue: queue, setup: setup, timers: timers, log: log, observer: observer)
        var connections: [Connection] = []
        do {
            for i in 0..<settings.poolSize {
                connections.append(try Connection(lane: settings.ordering == .perClient ? i : 0, context: context))
            }
            try spool?.start()
        } catch {
            Self.release(connections, context, log: log)
            throw error
        }
        self.init(name: settings.endpointName, queue: queue, spool: spool, context: context, connections: connections)
    }

    private init(name: String, queue: DeliveryQueue<Connection>, spool: Spool<DeliveryQueue<Connection>>?, context: DeliveryContext,
                 connections: [Connection]) {
        self.name = name
        self.queue = queue
        self.spool = spool
        self.context = context
        self.connections = connections
    }

    /// Connections take their lanes' first events (or park).
    func start() {
        for connection in connections { connection.takeWork() }
    }

    /// Copies and queues an event (on the broker's thread).
    func enqueue(_ event: borrowing RawEvent, timestampMs: UInt64, nowNs: UInt64) -> Engine.SubmitResult {
        let lane = queue.laneCount == 1 ? 0 : Engine.lane(for: event.bytes(.clientID), count: queue.laneCount)
        switch queue.submit(event, timestampMs: timestampMs, lane: lane, nowNs: nowNs) {
        case .queued(let idle):
            idle?.wake()
            return .queued
        case .dropped:
            return .dropped
        case .shuttingDown:
            return .shuttingDown
        }
    }

    func stats() -> EngineStats {
        var stats = queue.snapshot()
        spool?.addStats(to: &stats)
        let health = context.monitor.snapshot().state
        let circuit = context.circuit.snapshot()
        stats.endpoints = 1
        stats.endpointsDown = health == .down || health == .disabled ? 1 : 0
        stats.circuitsOpen = circuit.state == .closed ? 0 : 1
        stats.circuitOpened = circuit.opened
        stats.onBackup = circuit.onBackup ? 1 : 0
        stats.failovers = circuit.failovers
        return stats
    }

    /// The counters with the endpoint's health and the waiting events' ages.
    func metrics(nowNs now: UInt64) -> EngineMetrics {
        var metrics = EngineMetrics()
        metrics.endpoint = name
        metrics.stats = stats()
        (metrics.endpointState, metrics.outages, metrics.disables) = context.monitor.snapshot()
        (metrics.circuitState, metrics.circuitOpened, metrics.onBackup, metrics.failovers) = context.circuit.snapshot()
        let stats = metrics.stats
        if stats.lastDeliveredAtNs != 0 { metrics.sinceLastDeliveredNs = now &- min(now, stats.lastDeliveredAtNs) }
        if stats.oldestQueuedAtNs != 0 { metrics.oldestQueuedAgeNs = now &- min(now, stats.oldestQueuedAtNs) }
        if stats.spoolOldestTimestampMs != 0 {
            let wall = Clock.wallMilliseconds()
            metrics.spoolOldestAgeMs = wall &- min(wall, stats.spoolOldestTimestampMs)
        }
        return metrics
    }

    /// A reload's settings for this endpoint, made before anything changes
    /// (a TLS file that does not load refuses the whole reload).
    func prepare(_ next: WebhookSettings) throws(EngineError) -> DeliverySetup {
        try DeliverySetup(settings: next, generation: context.setup.generation + 1)
    }

    /// Puts a prepared setup in force: limits for what comes next, the
    /// setup for each event a connection begins from now on.
    func install(_ setup: DeliverySetup) {
        queue.apply(limits: setup.settings.queue, batch: BatchLimits(setup.settings.batch, pipeline: setup.settings.pipeline))
        context.install(setup)
        // What `webhookctl dead replay` marked goes out again.
        spool?.requestReplay()
    }

    // MARK: Shutdown, in the engine's order

    /// Stops accepting; batches gathering company go now, and the spool
    /// hands what it holds to the drain.
    func shutdownBegan() {
        queue.close()
        for connection in connections { connection.shutdownBegan() }
        spool?.drainBegan()
    }

    /// After the drain (the engine's timers are stopped): stops the
    /// connections, frees nng's handles, saves what is left to the spool.
    /// Returns the events still queued and those saved.
    func stop() -> (abandoned: Int, saved: Int) {
        let abandoned = queue.stop()
        Self.release(connections, context, log: context.log)
        let saved = spool?.close() ?? 0
        return (abandoned, saved)
    }

    /// The watchdog's round: deadlines, and dialers whose dial has surely ended.
    func checkDeadlines(nowNs now: UInt64) {
        for connection in connections { connection.checkDeadline(nowNs: now) }
        for dialer in context.graveyard.expired(nowNs: now) { nng_stream_dialer_free(dialer) }
    }

    /// Stops the connections and frees every nng handle the endpoint made:
    /// the one way out, for a failed start and for shutdown. Each nng free
    /// that can hang in nng 1.5.2 is bounded (see ConnectionCloser, Endpoint).
    /// The timers are stopped first (by the engine).
    private static func release(_ connections: [Connection], _ context: DeliveryContext, log: Log) {
        for connection in connections { connection.stop() }
        if !context.closer.waitForAll(limitMs: 2000) {
            log.log(.warning, "nng_stream_free did not return within 2000 ms; abandoning the connection")
        }
        Endpoint.close(context.endpoints, dialers: connections.map { $0.dialer } + context.graveyard.all(), limitMs: 2000, log: log)
    }
}
