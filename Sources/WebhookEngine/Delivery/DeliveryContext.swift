import Synchronization
import WebhookCore

/// What every connection shares: the queue, the current `DeliverySetup`
/// (endpoint and settings), event ids, the log, the timers, and the places
/// connections hand nng objects to.
final class DeliveryContext: @unchecked Sendable {
    let queue: DeliveryQueue<Connection>
    /// The setup new events are begun with; `setups` keeps every earlier
    /// one until shutdown (their dialers were made from their endpoints).
    private let setupLock = Lock()
    private var setups: [DeliverySetup]
    /// `setup.generation`, read by each connection before each event
    /// without the lock.
    private let generation: Atomic<UInt64>
    /// The first part of the ids of events this engine accepted: random per
    /// engine, so ids stay unique across restarts (the lane and sequence
    /// restart at 0). Events replayed from the spool keep their own.
    let idTag: UInt64
    private let idTagText: String
    let log: Log
    let observer: DeliveryObserver?
    let graveyard = Graveyard()
    /// Whether the endpoint answers: logged when it goes down and comes back.
    let monitor: EndpointMonitor
    let closer = ConnectionCloser()
    /// Backoffs, batch waits and the engine's watchdog.
    let timers: TimerThread
    /// `rate_limit`: every attempt asks it first.
    let rateGate: RateGate
    /// The circuit breaker: every attempt asks it first and reports its end.
    let circuit: CircuitGate

    init(queue: DeliveryQueue<Connection>, setup: DeliverySetup, timers: TimerThread, log: Log, observer: DeliveryObserver?) {
        self.timers = timers
        self.idTag = queue.idTag
        self.idTagText = String(queue.idTag, radix: 16)
        self.queue = queue
        self.setups = [setup]
        self.generation = Atomic(setup.generation)
        self.log = log
        self.observer = observer
        self.monitor = EndpointMonitor(url: "\(setup.settings.url)", log: log)
        self.rateGate = RateGate(setup.settings.rateLimit)
        self.circuit = CircuitGate(setup.settings, timers: timers, log: log)
    }

    /// The setup new events are begun with.
    var setup: DeliverySetup {
        setupLock.withLock { setups[setups.count - 1] }
    }

    /// Whether `setup` is still the current one (one relaxed load).
    func isCurrent(_ setup: DeliverySetup) -> Bool {
        generation.load(ordering: .relaxed) == setup.generation
    }

    /// A reload: events begun from now on use `setup`.
    func install(_ setup: DeliverySetup) {
        setupLock.withLock {
            setups.append(setup)
            generation.store(setup.generation, ordering: .relaxed)
        }
        monitor.retarget(url: "\(setup.settings.url)")
        rateGate.apply(setup.settings.rateLimit)
        circuit.apply(setup.settings)
    }

    /// Every setup's endpoint, at shutdown (their dialers are freed first).
    var endpoints: [Endpoint] {
        setupLock.withLock { setups.flatMap { $0.allEndpoints } }
    }

    /// An event's id: `<engine tag>-<lane>-<sequence>`, the same on every
    /// retry and replay; a batch's is its first event's and `+<count>`.
    func id(_ id: EventID) -> String {
        "\(id.tag == idTag ? idTagText : String(id.tag, radix: 16))-\(id.lane)-\(id.sequence)"
    }
}
