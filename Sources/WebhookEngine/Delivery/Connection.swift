import CNng
import CThreadPriority
import WebhookCore
import CPlatform

/// One persistent HTTP connection to the endpoint, delivering one request
/// (an event, or a batch of its lane's events) at a time. The rules of
/// delivery (attempts, retries, backoff, the stale keep-alive retry,
/// deadlines) live in `DeliveryStateMachine`; this class
/// only runs nng for it: each action starts one asynchronous operation, and
/// that operation's callback (on nng's threads) reports back to the machine.
///
/// HTTP is spoken over an nng byte stream (TCP or TLS), not through nng's
/// HTTP layer: each of that layer's operations completes twice, on two of
/// nng's threads, and it was most of a paced event's CPU (docs/engine.md).
/// The request is written whole by `RequestWriter`, the head parsed by
/// `ResponseHead`, the body framed by `ResponseBody`.
/// Only one operation is outstanding at a time, so the fields below need no
/// lock, except the machine, which the watchdog reads: it sits behind
/// `stateLock`.
///
/// Time: no nng timer runs per request. Backoffs and batch waits are slots
/// of the engine's `TimerThread` (nng 1.5.2's sleeps spin its expiry
/// thread: see there), and the attempt's deadline (`cancel_timeout`) is
/// enforced by the engine's watchdog, which cancels a connect or an
/// exchange step that outlives it, as aio timeouts would, without one
/// expiry-list entry per step.
final class Connection: QueueWaiter, @unchecked Sendable {
    let lane: Int
    /// This connection's own stream dialer (see Endpoint for why not
    /// shared); replaced after a cancelled connect.
    private(set) var dialer: OpaquePointer
    private let context: DeliveryContext
    /// The config this connection delivers with (`dialer` is its
    /// endpoint's); moved to the context's current one between events.
    private var setup: DeliverySetup
    /// Which of the setup's URLs `dialer` reaches (`backup_url` after a
    /// failover); moved at the start of an attempt, never during one.
    private var target = Failover.Target.primary
    /// Connect and the exchange only. Set once, right after init (its
    /// callback needs the connection); freed with the connection.
    private var aio: NngAio!
    /// Wake-ups only (completed directly: see `wake`). Like `aio`: its own,
    /// so a wake-up never lands on an I/O operation.
    private var wakeAio: NngAio!
    /// This connection's slot of the engine's timers: backoffs and batch waits.
    private var timerSlot = 0
    /// The events being delivered (one unless batching), their body and
    /// the request's id; empty between requests.
    private var current: [QueuedEvent] = []
    /// The requests for `current`, built once for all attempts: one (an
    /// event, or a batch's array), or with `pipeline` one per event, written
    /// together and answered in order.
    private var requests: [(body: [UInt8], id: String?, gzipped: Bool)] = []
    /// The answers read so far in this attempt, in the requests' order.
    private var answers: [(status: Int, retryAfter: Int?)] = []
    /// The bytes of the attempt being written (rebuilt per attempt: the
    /// timestamp and signature change); kept for its capacity.
    private var requestBytes: [UInt8] = []
    /// How much of `requestBytes` the stream has taken (a send may take part).
    private var written = 0
    private var signer: Signer?
    /// Retry jitter (not a secret: seeded once, no system call per response).
    private var random = SplitMix64(state: UInt64.random(in: 0...UInt64.max))
    /// Waiting for a batch to fill (`batch.max_delay`), not parked.
    private var gathering = false
    /// Holding `current` until the circuit breaker and `rate_limit` let its
    /// first attempt go (idle in the machine, the timer armed).
    private var heldForAttempt = false
    /// Where responses are read into: a head whole (so its size is the
    /// limit on a head), a body piece by piece, dropped (never kept whole).
    /// Allocated at the connection's first exchange: a pool has 32
    /// connections, and those that never send cost nothing.
    private var bufferStorage: UnsafeMutableRawBufferPointer?
    private var buffer: UnsafeMutableRawBufferPointer {
        if let bufferStorage { return bufferStorage }
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferBytes, alignment: 1)
        bufferStorage = fresh
        return fresh
    }
    /// The largest response head read: 16 KiB, twice nng's HTTP layer's
    /// read buffer and the size most servers cap their own heads at.
    static let bufferBytes = 16 << 10
    /// The bytes of the head read so far, at the start of `buffer`.
    private var buffered = 0
    /// The step of the HTTP exchange in progress.
    private enum Exchange { case writing, readingHead, readingBody }
    private var exchange = Exchange.writing
    /// The answer's head, while its body is read.
    private var head = ResponseHead(status: 0)
    private var body = ResponseBody(status: 204, contentLength: nil, transferEncoding: nil, limit: 0)
    private var interimResponses = 0
    /// More 1xx responses than any server sends before its answer.
    private static let maxInterimResponses = 8

    /// The open stream, nil until connected (opened lazily). Set and
    /// cleared under `stateLock`, which the watchdog holds to close it.
    private var conn: OpaquePointer?
    /// Requests answered on `conn`: a failure on a reused connection may
    /// just mean the server closed it while idle.
    private var requestsOnConnection = 0

    private let stateLock = Lock()
    private var machine: DeliveryStateMachine
    /// The watchdog cancelled the connect in progress.
    private var connectCancelled = false
    /// The watchdog cancelled an exchange step: its attempt's time is up.
    private var exchangeTimedOut = false

    /// What can fail before the connection exists happens first (see
    /// Engine.init); the aios, which call back with the connection, after.
    convenience init(lane: Int, context: DeliveryContext) throws(EngineError) {
        let setup = context.setup
        var signer: Signer?
        if let signing = setup.settings.signing { signer = try Signer(keys: signing.keys) }
        let dialer = try setup.endpoint.makeDialer()
        self.init(lane: lane, context: context, setup: setup, signer: signer.take(), dialer: dialer)
        do {
            aio = try NngAio(callback: { argument in
                Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().operationCompleted()
            }, argument: Unmanaged.passUnretained(self).toOpaque())
            wakeAio = try NngAio(callback: { argument in
                Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().resume()
            }, argument: Unmanaged.passUnretained(self).toOpaque())
        } catch {
            nng_stream_dialer_free(dialer)
            throw error
        }
        timerSlot = context.timers.addSlot({ argument in
            Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().resume()
        }, argument: Unmanaged.passUnretained(self).toOpaque())
    }

    private init(lane: Int, context: DeliveryContext, setup: DeliverySetup, signer: consuming Signer?, dialer: OpaquePointer) {
        self.lane = lane
        self.context = context
        self.setup = setup
        machine = DeliveryStateMachine(retry: setup.settings.retry, attemptTimeoutMs: setup.settings.cancelTimeoutMs)
        self.signer = signer
        self.dialer = dialer
    }

    deinit {
        bufferStorage?.deallocate()
    }

    // MARK: Entry points from outside nng's callbacks

    /// The queue handed this parked connection an event: pick it up on an
    /// nng thread, not on the broker's thread that called `submit`. The wake
    /// aio is completed directly (begin + finish: one task dispatch) rather
    /// than with nng_sleep_aio(0), which goes through nng's timer thread at
    /// millisecond resolution and added about a millisecond per wake.
    func wake() {
        if nng_aio_begin(wakeAio.raw) {
            nng_aio_finish(wakeAio.raw, 0)
        }
    }

    /// Takes the next events of the lane, or parks the connection on it.
    func takeWork() {
        let gathered = gathering
        gathering = false
        handle(context.queue.take(lane: lane, for: self, gathered: gathered))
    }

    private func handle(_ take: Take) {
        switch take {
        case .work(let events):
            begin(events)
        case .gather(let afterNs):
            // Idle, not parked: the timer's end takes what is there.
            gathering = true
            context.timers.arm(timerSlot, afterNs: afterNs)
            // Shutdown may have begun between the take and the arming, after
            // `shutdownBegan` looked: the drain never waits for a batch.
            // (The timers' lock orders the two: one of them sees the other.)
            if context.queue.closed { context.timers.fireNow(timerSlot) }
        case .nothing:
            break
        }
    }

    /// Shutdown began (the queue is closed): a batch waiting for company
    /// (`batch.max_delay`) is sent now rather than when its delay ends.
    /// Only an idle connection's timer is a batch's wait (a backoff's is not
    /// cut short); a parked one has none armed, so this does nothing.
    func shutdownBegan() {
        stateLock.withLock {
            if machine.state == .idle { context.timers.fireNow(timerSlot) }
        }
    }

    /// Called by the engine's watchdog: an attempt past its deadline
    /// (`cancel_timeout`) is cancelled here rather than by aio timeouts. A
    /// connect once (its dialer is then replaced: see Endpoint); an
    /// exchange by closing its stream, since
    /// the step it cancels may have ended on its own and the next begun.
    func checkDeadline(nowNs: UInt64) {
        stateLock.withLock {
            guard nowNs >= machine.attemptDeadlineNs else { return }
            switch machine.state {
            case .connecting where !connectCancelled:
                connectCancelled = true
                nng_aio_cancel(aio.raw)
            case .exchanging:
                // Not a cancel: nng 1.5.2's TLS stream cannot cancel a send
                // that waits for the handshake (it aborts its idle TCP send
                // instead, and the send never completes). A timed-out
                // exchange closes the connection anyway; closing fails
                // whatever step is pending, and any step begun after it.
                exchangeTimedOut = true
                if let conn { nng_stream_close(conn) }
            default:
                break
            }
        }
    }

    /// Shutdown, after the queue and the engine's timers stopped: cancels
    /// whatever is outstanding, waits for the callback, counts an
    /// unfinished event as dropped, frees.
    func stop() {
        wakeAio.stop()
        // Closed first: stopping the aio alone would wait for ever on a TLS
        // send stuck in its handshake (see `checkDeadline`).
        stateLock.withLock { if let conn { nng_stream_close(conn) } }
        aio.stop()
        if let action = stateLock.withLock({ machine.stop() }) {
            perform(action)
        } else if heldForAttempt {
            heldForAttempt = false
            finish(.droppedAtShutdown, takeNext: false)  // idle in the machine, but the events are in hand
        }
        closeConnection()
        // The aios go with the connection (a late wake-up finds a stopped
        // aio, which refuses it).
    }

    // MARK: Callbacks: what nng reports goes to the machine

    private func operationCompleted() {
        cthread_apply_delivery_nice()  // once per nng thread (see thread_priority.c)
        var result = nng_aio_result(aio.raw)
        let (state, cancelledByWatchdog, timedOut) = stateLock.withLock { (machine.state, connectCancelled, exchangeTimedOut) }
        // A step the watchdog ended (by closing the stream) ran out of the attempt's time.
        if timedOut, result != 0 { result = Int32(NNG_ETIMEDOUT.rawValue) }
        if context.queue.isStopping {
            if state == .connecting, result == 0 { adopt(OpaquePointer(nng_aio_get_output(aio.raw, 0))) }
            return
        }
        switch state {
        case .connecting where result == 0:
            adopt(OpaquePointer(nng_aio_get_output(aio.raw, 0)))
            perform(stateLock.withLock { machine.connected() })
        case .connecting:
            if cancelledByWatchdog {
                // The cancelled dial may live on inside nng: never dial on
                // this dialer again (see Endpoint).
                replaceDialer()
            }
            fail(cancelledByWatchdog ? .connectTimedOut : .connect(result))
        case .exchanging:
            exchangeStepCompleted(result)
        case .idle, .backingOff:
            assertionFailure("an I/O operation completed while \(state)")
        }
    }

    /// A wake-up or the end of a batch's wait (when idle), or the end of a
    /// backoff: on nng's thread for a wake-up, on the timer thread otherwise.
    private func resume() {
        cthread_apply_delivery_nice()
        if context.queue.isStopping { return }
        let state = stateLock.withLock { machine.state }
        switch state {
        case .idle where heldForAttempt:
            heldForAttempt = false
            startFirstAttempt()
        case .idle:
            takeWork()
        case .backingOff:
            // A retry asks the breaker and the rate limit too; waiting spends no attempt.
            if let waitNs = attemptWait() { return context.timers.arm(timerSlot, afterNs: waitNs) }
            perform(stateLock.withLock { machine.backoffSlept(nowNs: Clock.monotonicNanoseconds(), connectionOpen: conn != nil) })
        case .connecting, .exchanging:
            assertionFailure("a sleep completed while \(state)")
        }
    }

    /// Builds the bodies once for all attempts: one event's object, with
    /// `batch` a JSON array of the events' objects, each with its id, or
    /// with `pipeline` (several events taken, no batch) one per event.
    private func begin(_ events: [QueuedEvent]) {
        var events = events
        // Disabled by a 410 Gone: what comes fails at once, without a
        // request, until a reload (a loop, not a recursion: the queue may
        // hold many events).
        while context.monitor.isDisabled {
            let next = settled(events, .failed, status: 410, error: Self.disabledReason, attempts: 0,
                               why: DeadLetterReason(reason: Self.disabledReason, status: 410, attempts: 0))
            guard case .work(let more) = next else { return handle(next) }
            events = more
        }
        if !context.isCurrent(setup) { moveToCurrentSetup() }
        current = events
        if setup.settings.batch.isOn {
            let ids = events.map { context.id($0.id) }
            requests = [encoded(setup.builder.batchBody(for: zip(events, ids).map { ($0.event, $1) }),
                                id: setup.sendsIDs ? "\(ids[0])+\(events.count)" : nil)]
        } else {
            // No id is made when none is sent (NanoMQ's plain requests).
            requests = events.map { encoded(setup.builder.body(for: $0.event), id: setup.sendsIDs ? context.id($0.id) : nil) }
        }
        startFirstAttempt()
    }

    /// The first attempt, once the breaker and `rate_limit` let it go.
    private func startFirstAttempt() {
        if let waitNs = attemptWait() {
            heldForAttempt = true
            return context.timers.arm(timerSlot, afterNs: waitNs)
        }
        perform(stateLock.withLock { machine.begin(nowNs: Clock.monotonicNanoseconds(), connectionOpen: conn != nil) })
    }

    /// nil when an attempt for `current` may go now: the circuit is closed
    /// (or this is its probe) and `rate_limit` has room (which counts it);
    /// the connection then dials the URL the failover says.
    private func attemptWait() -> UInt64? {
        if let waitNs = context.circuit.check(slot: timerSlot)
            ?? context.rateGate.acquire(events: current.count, bytes: requests.reduce(0) { $0 + $1.body.count }) {
            return waitNs
        }
        let next = context.circuit.target()
        if next != target { retarget(next) }
        return nil
    }

    /// Failed over, or back: the next attempt dials the other URL (the
    /// open connection goes, and the dialer with it).
    private func retarget(_ next: Failover.Target) {
        do {
            let fresh = try setup.endpoint(for: next).makeDialer()
            closeConnection()
            context.graveyard.retire(dialer)
            dialer = fresh
            target = next
        } catch {
            context.log.limited(.error, key: "dialer", "\(setup.url(for: next)): \(error)")
        }
    }

    /// A request's body as it goes on the wire: gzip with `compression =
    /// gzip` (sent as it is, and logged, in the unlikely case zlib cannot
    /// allocate: the request says which it is).
    private func encoded(_ body: [UInt8], id: String?) -> (body: [UInt8], id: String?, gzipped: Bool) {
        guard setup.settings.compression == .gzip else { return (body, id, false) }
        guard let gzipped = Gzip.compress(body) else {
            context.log.limited(.warning, key: "gzip", "zlib could not compress a body (out of memory); sent uncompressed")
            return (body, id, false)
        }
        return (gzipped, id, true)
    }

    private func fail(_ failure: DeliveryStateMachine.Failure) {
        // Pipelined: what was answered stands; the rest is retried.
        if requests.count > 1 { return concludePipeline(failure: failure) }
        let reused = requestsOnConnection > 0
        if case .transport = failure { closeConnection() }
        let jitter = random.next()
        perform(stateLock.withLock {
            machine.failed(failure, onReusedConnection: reused, nowNs: Clock.monotonicNanoseconds(), jitter: jitter)
        })
    }

    // MARK: Actions: what the machine decides, nng does

    private func perform(_ action: DeliveryStateMachine.Action) {
        let url = setup.url(for: target)
        switch action {
        case .connect:
            connect()
        case .send:
            send()
        case .reconnect:
            context.queue.countRetry(lane: lane)
            connect()
        case .retry(let delay, let failure):
            attemptFailed(describe(failure))
            context.queue.countRetry(lane: lane)
            context.log.limited(.warning, key: logKey(failure), "\(url): \(describe(failure)); retrying")
            context.timers.arm(timerSlot, afterNs: UInt64(max(0, delay)) * 1_000_000)
        case .delivered:
            attemptAnswered()
            finish(.delivered)
        case .rejected(let status):
            attemptAnswered()
            if status == 410 { context.monitor.gone() }
            context.log.limited(.warning, key: "rejected-\(status)",
                                "\(url): HTTP \(status) for \(describeCurrent()); not retried, \(current.count == 1 ? "event" : "events") failed")
            finish(.failed, why: DeadLetterReason(reason: "HTTP \(status)", status: status, attempts: stateLock.withLock { machine.attempt }))
        case .gaveUp(let failure, let attempts, let elapsedMs):
            attemptFailed(describe(failure))
            context.log.limited(.warning, key: "give-up", "\(url): \(describe(failure)); giving up after \(attempts) attempt\(attempts == 1 ? "" : "s") in \(elapsedMs / 1000) s, \(current.count == 1 ? "event" : "\(current.count) events") failed")
            let status = stateLock.withLock { machine.lastStatus } ?? 0
            finish(.failed, why: DeadLetterReason(reason: describe(failure), status: status, attempts: attempts))
        case .droppedAtShutdown:
            finish(.droppedAtShutdown, takeNext: false)
        }
    }

    /// An attempt ended without an answer, or with one that is retried: the
    /// endpoint's health and its circuit hear of it.
    private func attemptFailed(_ reason: @autoclosure () -> String) {
        context.monitor.attemptFailed(reason: reason())
        context.circuit.attemptFailed(target: target)
    }

    private func attemptAnswered() {
        context.monitor.attemptAnswered(waiting: context.queue.snapshot().waiting)
        context.circuit.attemptAnswered(target: target)
    }

    private func connect() {
        stateLock.withLock { connectCancelled = false }
        nng_stream_dialer_dial(dialer, aio.raw)
    }

    /// One HTTP exchange, step by step: write the request (in as many sends
    /// as the stream needs), read the head (past any 1xx), read and discard
    /// the body so the connection can be reused.
    private func send() {
        exchange = .writing
        written = 0
        interimResponses = 0
        answers.removeAll(keepingCapacity: true)
        stateLock.withLock { exchangeTimedOut = false }
        // Per attempt: webhook-timestamp is the attempt's time.
        let timestamp = Int(Clock.wallMilliseconds() / 1000)
        requestBytes.removeAll(keepingCapacity: true)
        for request in requests {
            setup.writer(for: target).append(body: request.body, id: request.id, timestamp: timestamp, signer: signer, gzipped: request.gzipped,
                                to: &requestBytes)
        }
        writeRest()
    }

    private func writeRest() {
        // `requestBytes` is not touched until the send completes.
        requestBytes.withUnsafeMutableBytes { bytes in
            var iov = nng_iov(iov_buf: bytes.baseAddress! + written, iov_len: bytes.count - written)
            _ = nng_aio_set_iov(aio.raw, 1, &iov)
        }
        nng_stream_send(conn, aio.raw)
    }

    /// Reads more of the head, after the `buffered` bytes already read.
    private func readHead() {
        exchange = .readingHead
        var iov = nng_iov(iov_buf: buffer.baseAddress! + buffered, iov_len: buffer.count - buffered)
        _ = nng_aio_set_iov(aio.raw, 1, &iov)
        nng_stream_recv(conn, aio.raw)
    }

    private func readBody() {
        exchange = .readingBody
        var iov = nng_iov(iov_buf: buffer.baseAddress, iov_len: body.nextReadSize(buffer: buffer.count))
        _ = nng_aio_set_iov(aio.raw, 1, &iov)
        nng_stream_recv(conn, aio.raw)
    }

    private func exchangeStepCompleted(_ result: Int32) {
        // A stream that reports no error and no bytes has ended: never loop on it.
        let count = result == 0 ? nng_aio_count(aio.raw) : 0
        switch exchange {
        case .writing:
            if result != 0 { return fail(.transport(result)) }
            written += count
            if count == 0 { return fail(.transport(Int32(NNG_ECLOSED.rawValue))) }
            if written < requestBytes.count { return writeRest() }
            buffered = 0
            readHead()
        case .readingHead:
            if result != 0 { return fail(.transport(result)) }
            if count == 0 { return fail(.transport(Int32(NNG_ECLOSED.rawValue))) }
            let searchFrom = buffered - 3
            buffered += count
            headRead(searchFrom: searchFrom)
        case .readingBody:
            // The status is known: a body that fails or times out only costs the connection.
            guard result == 0, count > 0 else { return answered(reusable: false) }
            bodyRead(0..<min(count, buffer.count))
        }
    }

    /// More of a head arrived: wait for its end, parse it, go on with
    /// whatever came after it (a body's start, or the head after a 1xx).
    private func headRead(searchFrom: Int) {
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<buffered])
        guard let length = ResponseHead.end(in: bytes, from: searchFrom) else {
            // A head larger than the buffer is not an answer the engine reads.
            if buffered == buffer.count { return fail(.transport(Int32(NNG_EMSGSIZE.rawValue))) }
            return readHead()
        }
        guard let parsed = ResponseHead(parsing: UnsafeRawBufferPointer(rebasing: bytes[0..<length])) else {
            return fail(.transport(Int32(NNG_EPROTO.rawValue)))
        }
        let rest = buffered - length
        if (100..<200).contains(parsed.status) {
            // 100 Continue, 102, 103: not the answer; it follows.
            interimResponses += 1
            guard interimResponses <= Self.maxInterimResponses else {
                closeConnection()
                return fail(.interimOnly(interimResponses))
            }
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + length, byteCount: rest)
            buffered = rest
            return rest > 0 ? headRead(searchFrom: 0) : readHead()
        }
        head = parsed
        body = ResponseBody(status: parsed.status, contentLength: parsed.contentLength,
                            transferEncoding: parsed.transferEncoding, limit: setup.settings.maxResponseBodyBytes)
        switch body.initialProgress {
        case .complete: answered(reusable: true, after: length..<buffered)
        case .abandon: answered(reusable: false)
        case .needMore:
            if rest == 0 { return readBody() }
            exchange = .readingBody
            bodyRead(length..<buffered)
        }
    }

    /// Body bytes arrived at `bytes` in the buffer.
    private func bodyRead(_ bytes: Range<Int>) {
        let (progress, used) = body.take(UnsafeRawBufferPointer(rebasing: buffer[bytes]))
        switch progress {
        case .needMore: readBody()
        case .complete: answered(reusable: true, after: (bytes.lowerBound + used)..<bytes.upperBound)
        case .abandon: answered(reusable: false)
        }
    }

    /// The endpoint answered (`head`); `reusable` says whether its body
    /// left the connection fit for the next request, `after` where the
    /// bytes read past the answer are in the buffer: the next answer's
    /// when pipelining, otherwise not an answer to anything sent.
    private func answered(reusable: Bool, after rest: Range<Int> = 0..<0) {
        requestsOnConnection += 1
        let status = head.status
        let retryAfter = status == 429 || status == 503 ? head.retryAfterSeconds : nil
        answers.append((status, retryAfter))
        let open = reusable && head.keepsConnection
        if answers.count < requests.count {
            // Pipelined, and more answers due: read on, from what is already here.
            guard open else { return concludePipeline(failure: .transport(Int32(NNG_ECLOSED.rawValue)), closedAfterAnswer: true) }
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + rest.lowerBound, byteCount: rest.count)
            buffered = rest.count
            interimResponses = 0
            return rest.isEmpty ? readHead() : headRead(searchFrom: 0)
        }
        if !open || !rest.isEmpty { closeConnection() }
        if requests.count > 1 { return concludePipeline(failure: nil) }
        let jitter = random.next()
        perform(stateLock.withLock {
            machine.answered(status: status, retryAfterSeconds: retryAfter, nowNs: Clock.monotonicNanoseconds(), jitter: jitter)
        })
    }

    /// The end of a pipelined attempt: every answer read (`failure` nil), or
    /// the connection failed after `answers.count` of them. Each answered
    /// event is settled by its own status; what was refused for a while
    /// (a 5xx, a 429) or never answered goes to the machine as one attempt
    /// that failed, and only those events are sent again. A server that
    /// closed the connection after an answer (`Connection: close`) gets
    /// the rest at once on a new one, as an idle close would.
    private func concludePipeline(failure: DeliveryStateMachine.Failure?, closedAfterAnswer: Bool = false) {
        let answers = self.answers
        self.answers.removeAll(keepingCapacity: true)
        // No answer on a connection that carried earlier ones: maybe closed while idle.
        let reused = closedAfterAnswer || (answers.isEmpty && requestsOnConnection > 0)
        if failure != nil { closeConnection() }
        var delivered: [QueuedEvent] = []
        var rejected: [(event: QueuedEvent, status: Int)] = []
        var again: [Int] = []
        var retryAnswer: (status: Int, retryAfter: Int?)?
        for (i, event) in current.enumerated() {
            guard i < answers.count else { again.append(i); continue }
            switch DeliveryStateMachine.verdict(answers[i].status) {
            case .delivered: delivered.append(event)
            case .rejected: rejected.append((event, answers[i].status))
            case .retry:
                again.append(i)
                retryAnswer = retryAnswer ?? answers[i]
            }
        }
        if !answers.isEmpty { attemptAnswered() }
        let attempts = stateLock.withLock { machine.attempt }
        if again.isEmpty {
            // Nothing left to send: the machine is done with this request.
            let jitter = random.next()
            _ = stateLock.withLock { machine.answered(status: 200, retryAfterSeconds: nil, nowNs: Clock.monotonicNanoseconds(), jitter: jitter) }
            current = []
        }
        for (n, (event, status)) in rejected.enumerated() {
            if status == 410 { context.monitor.gone() }
            context.log.limited(.warning, key: "rejected-\(status)",
                                "\(setup.url(for: target)): HTTP \(status) for \(event.event.kind.configName); not retried, event failed")
            let last = again.isEmpty && delivered.isEmpty && n == rejected.count - 1
            settle([event], .failed, status: status, attempts: attempts, takeNext: last,
                   why: DeadLetterReason(reason: "HTTP \(status)", status: status, attempts: attempts))
        }
        if !delivered.isEmpty { settle(delivered, .delivered, status: 200, attempts: attempts, takeNext: again.isEmpty) }
        guard !again.isEmpty else { return }
        current = again.map { current[$0] }
        requests = again.map { requests[$0] }
        if let failure {
            let jitter = random.next()
            return perform(stateLock.withLock {
                machine.failed(failure, onReusedConnection: reused, nowNs: Clock.monotonicNanoseconds(), jitter: jitter)
            })
        }
        let answer = retryAnswer!
        let jitter = random.next()
        perform(stateLock.withLock {
            machine.answered(status: answer.status, retryAfterSeconds: answer.retryAfter, nowNs: Clock.monotonicNanoseconds(), jitter: jitter)
        })
    }

    /// The request's events are done, as the machine decided.
    private func finish(_ outcome: DeliveryOutcome, takeNext: Bool = true, why: DeadLetterReason? = nil) {
        guard !current.isEmpty else { return }
        let done = current
        current = []
        let (status, failure, attempts) = stateLock.withLock { (machine.lastStatus, machine.lastFailure, machine.attempt) }
        let error: String? = switch failure { case .status, nil: nil; case let failure?: describe(failure) }
        settle(done, outcome, status: status, error: error, attempts: attempts, takeNext: takeNext, why: why)
    }

    static let disabledReason = "not sent: the endpoint answered 410 Gone and is disabled until a reload"

    /// Counts `events` as `outcome`, reports them to the observer (tests,
    /// the CLI) and, with `takeNext`, takes the lane's next events.
    private func settle(_ events: [QueuedEvent], _ outcome: DeliveryOutcome, status: Int?, error: String? = nil, attempts: Int,
                        takeNext: Bool, why: DeadLetterReason? = nil) {
        handle(settled(events, outcome, status: status, error: error, attempts: attempts, takeNext: takeNext, why: why))
    }

    /// `settle` without acting on what the queue hands over next.
    private func settled(_ events: [QueuedEvent], _ outcome: DeliveryOutcome, status: Int?, error: String?, attempts: Int,
                         takeNext: Bool = true, why: DeadLetterReason?) -> Take {
        if let observer = context.observer {
            let reported: DeliveryReport.Outcome = outcome == .delivered ? .delivered : outcome == .failed ? .failed : .droppedAtShutdown
            let now = Clock.monotonicNanoseconds()
            for event in events {
                observer(DeliveryReport(kind: event.event.kind, outcome: reported, httpStatus: status, error: error,
                                        attempts: attempts, latencyNs: now &- event.acceptedAtNs))
            }
        }
        return context.queue.complete(events, outcome, lane: lane, for: self, takeNext: takeNext, why: why)
    }

    private func describeCurrent() -> String {
        guard let first = current.first else { return "an event" }
        if current.count == 1 { return first.event.kind.configName }
        return requests.count == 1 ? "a batch of \(current.count) events" : "\(current.count) pipelined events"
    }

    // MARK: Helpers

    private func describe(_ failure: DeliveryStateMachine.Failure) -> String {
        switch failure {
        case .connect(let code): "connect failed: \(nngError(code))"
        case .connectTimedOut: "connect timed out after \(setup.settings.cancelTimeoutMs) ms"
        case .transport(let code) where code == Int32(NNG_ETIMEDOUT.rawValue): "no response within \(setup.settings.cancelTimeoutMs) ms"
        case .transport(let code): "request failed: \(nngError(code))"
        case .status(let status): "HTTP \(status)"
        case .interimOnly(let count): "\(count) interim (1xx) responses and no answer"
        }
    }

    /// Which rate-limited log line a failure counts against.
    private func logKey(_ failure: DeliveryStateMachine.Failure) -> String {
        switch failure {
        case .connect, .connectTimedOut: "connect"
        case .transport: "transport"
        case .status(let status): "status-\(status)"
        case .interimOnly: "interim"
        }
    }

    private func adopt(_ newConnection: OpaquePointer?) {
        stateLock.withLock { conn = newConnection }
        requestsOnConnection = 0
        context.queue.connectionOpened(lane: lane)
    }

    /// A reload installed a new setup: between events (nothing in flight on
    /// this connection), close the connection to the old endpoint, retire
    /// its dialer, and take the new endpoint, signer and retry rules. If the
    /// new dialer cannot be made, this connection stays on the old setup
    /// and tries again at its next event.
    private func moveToCurrentSetup() {
        let next = context.setup
        var signer: Signer?
        do throws(EngineError) {
            if let signing = next.settings.signing { signer = try Signer(keys: signing.keys) }
            let fresh = try next.endpoint(for: target).makeDialer()
            closeConnection()
            context.graveyard.retire(dialer)
            dialer = fresh
        } catch {
            context.log.limited(.error, key: "reload", "reload: a connection stays on the earlier config for now: \(error)")
            return
        }
        self.signer = signer.take()
        let machine = DeliveryStateMachine(retry: next.settings.retry, attemptTimeoutMs: next.settings.cancelTimeoutMs)
        stateLock.withLock { self.machine = machine }
        setup = next
    }

    private func replaceDialer() {
        do {
            let fresh = try setup.endpoint(for: target).makeDialer()
            context.graveyard.retire(dialer)
            dialer = fresh
        } catch {
            context.log.limited(.error, key: "dialer", "\(error)")
        }
    }

    private func closeConnection() {
        guard let open = conn else { return }
        stateLock.withLock { conn = nil }
        context.closer.close(open)  // never inline: see ConnectionCloser
        context.queue.connectionClosed(lane: lane)
    }
}
