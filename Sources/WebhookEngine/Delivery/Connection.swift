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
    /// This connection's own nng client (see Endpoint for why not shared);
    /// replaced after a cancelled connect.
    private(set) var client: OpaquePointer
    private let context: DeliveryContext
    /// The config this connection delivers with (`client` is its
    /// endpoint's); moved to the context's current one between events.
    private var setup: DeliverySetup
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
    private var requestBody: [UInt8] = []
    private var requestID: String?
    /// The bytes of the attempt being written (rebuilt per attempt: the
    /// timestamp and signature change); kept for its capacity.
    private var requestBytes: [UInt8] = []
    private var signer: Signer?
    /// Retry jitter (not a secret: seeded once, no system call per response).
    private var random = SplitMix64(state: UInt64.random(in: 0...UInt64.max))
    /// Waiting for a batch to fill (`batch.max_delay`), not parked.
    private var gathering = false
    private let response: NngHTTPResponse
    /// Where response bodies are read into and dropped (never kept whole).
    /// Allocated at the first body that needs reading: a pool has 32
    /// connections, most idle, and many endpoints answer 204.
    private var scratchBuffer: UnsafeMutableRawBufferPointer?
    private var scratch: UnsafeMutableRawBufferPointer {
        if let scratchBuffer { return scratchBuffer }
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 1)
        scratchBuffer = fresh
        return fresh
    }
    /// The step of the HTTP exchange in progress.
    private enum Exchange { case writing, readingHead, readingBody }
    private var exchange = Exchange.writing
    private var body = ResponseBody(status: 204, contentLength: nil, transferEncoding: nil, limit: 0)
    private var interimResponses = 0
    /// More 1xx responses than any server sends before its answer.
    private static let maxInterimResponses = 8

    /// The open HTTP connection, nil until connected (opened lazily).
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
        let client = try setup.endpoint.makeClient()
        let response: NngHTTPResponse
        do {
            response = try NngHTTPResponse()
        } catch {
            nng_http_client_free(client)
            throw error
        }
        self.init(lane: lane, context: context, setup: setup, signer: signer.take(), client: client, response: response)
        do {
            aio = try NngAio(callback: { argument in
                Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().operationCompleted()
            }, argument: Unmanaged.passUnretained(self).toOpaque())
            wakeAio = try NngAio(callback: { argument in
                Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().resume()
            }, argument: Unmanaged.passUnretained(self).toOpaque())
        } catch {
            nng_http_client_free(client)
            throw error
        }
        timerSlot = context.timers.addSlot({ argument in
            Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().resume()
        }, argument: Unmanaged.passUnretained(self).toOpaque())
    }

    private init(lane: Int, context: DeliveryContext, setup: DeliverySetup, signer: consuming Signer?, client: OpaquePointer,
                 response: NngHTTPResponse) {
        self.lane = lane
        self.context = context
        self.setup = setup
        machine = DeliveryStateMachine(retry: setup.settings.retry, attemptTimeoutMs: setup.settings.cancelTimeoutMs)
        self.signer = signer
        self.client = client
        self.response = response
    }

    deinit {
        scratchBuffer?.deallocate()
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
    /// connect once (nng 1.5.2 can mishandle a connect's timeout,
    /// nanomsg/nng#2119, so that freeing the client hangs; the client is
    /// replaced); an exchange step at every tick past the deadline, since
    /// the step it cancels may have ended on its own and the next begun.
    func checkDeadline(nowNs: UInt64) {
        stateLock.withLock {
            guard nowNs >= machine.attemptDeadlineNs else { return }
            switch machine.state {
            case .connecting where !connectCancelled:
                connectCancelled = true
                nng_aio_cancel(aio.raw)
            case .exchanging:
                exchangeTimedOut = true
                nng_aio_cancel(aio.raw)
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
        aio.stop()
        if let action = stateLock.withLock({ machine.stop() }) { perform(action) }
        closeConnection()
        // The aios and the response go with the connection (a late wake-up
        // finds a stopped aio, which refuses it).
    }

    // MARK: Callbacks: what nng reports goes to the machine

    private func operationCompleted() {
        cthread_apply_delivery_nice()  // once per nng thread (see thread_priority.c)
        var result = nng_aio_result(aio.raw)
        let (state, cancelledByWatchdog, timedOut) = stateLock.withLock { (machine.state, connectCancelled, exchangeTimedOut) }
        // A step the watchdog cancelled ran out of the attempt's time.
        if timedOut, result == Int32(NNG_ECANCELED.rawValue) { result = Int32(NNG_ETIMEDOUT.rawValue) }
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
                // The cancelled dial lives on inside nng: never dial on
                // this client again (see Endpoint).
                replaceClient()
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
        case .idle:
            takeWork()
        case .backingOff:
            perform(stateLock.withLock { machine.backoffSlept(nowNs: Clock.monotonicNanoseconds(), connectionOpen: conn != nil) })
        case .connecting, .exchanging:
            assertionFailure("a sleep completed while \(state)")
        }
    }

    /// Builds the body once for all attempts: one event's object, or with
    /// `batch` a JSON array of the events' objects, each with its id.
    private func begin(_ events: [QueuedEvent]) {
        if !context.isCurrent(setup) { moveToCurrentSetup() }
        current = events
        if setup.settings.batch.isOn {
            let ids = events.map { context.id($0.id) }
            requestBody = setup.builder.batchBody(for: zip(events, ids).map { ($0.event, $1) })
            requestID = setup.sendsIDs ? "\(ids[0])+\(events.count)" : nil
        } else {
            requestBody = setup.builder.body(for: events[0].event)
            // No id is made when none is sent (NanoMQ's plain requests).
            requestID = setup.sendsIDs ? context.id(events[0].id) : nil
        }
        perform(stateLock.withLock { machine.begin(nowNs: Clock.monotonicNanoseconds(), connectionOpen: conn != nil) })
    }

    private func fail(_ failure: DeliveryStateMachine.Failure) {
        let reused = requestsOnConnection > 0
        if case .transport = failure { closeConnection() }
        let jitter = random.next()
        perform(stateLock.withLock {
            machine.failed(failure, onReusedConnection: reused, nowNs: Clock.monotonicNanoseconds(), jitter: jitter)
        })
    }

    // MARK: Actions: what the machine decides, nng does

    private func perform(_ action: DeliveryStateMachine.Action) {
        let url = setup.settings.url
        switch action {
        case .connect:
            connect()
        case .send:
            send()
        case .reconnect:
            context.queue.countRetry(lane: lane)
            connect()
        case .retry(let delay, let failure):
            context.monitor.attemptFailed(reason: describe(failure))
            context.queue.countRetry(lane: lane)
            context.log.limited(.warning, key: logKey(failure), "\(url): \(describe(failure)); retrying")
            context.timers.arm(timerSlot, afterNs: UInt64(max(0, delay)) * 1_000_000)
        case .delivered:
            context.monitor.attemptAnswered(waiting: context.queue.snapshot().waiting)
            finish(.delivered)
        case .rejected(let status):
            context.monitor.attemptAnswered(waiting: context.queue.snapshot().waiting)
            context.log.limited(.warning, key: "rejected-\(status)",
                                "\(url): HTTP \(status) for \(describeCurrent()); not retried, \(current.count == 1 ? "event" : "events") failed")
            finish(.failed, why: DeadLetterReason(reason: "HTTP \(status)", status: status, attempts: stateLock.withLock { machine.attempt }))
        case .gaveUp(let failure, let attempts, let elapsedMs):
            context.monitor.attemptFailed(reason: describe(failure))
            context.log.limited(.warning, key: "give-up", "\(url): \(describe(failure)); giving up after \(attempts) attempt\(attempts == 1 ? "" : "s") in \(elapsedMs / 1000) s, \(current.count == 1 ? "event" : "\(current.count) events") failed")
            let status = stateLock.withLock { machine.lastStatus } ?? 0
            finish(.failed, why: DeadLetterReason(reason: describe(failure), status: status, attempts: attempts))
        case .droppedAtShutdown:
            finish(.droppedAtShutdown, takeNext: false)
        }
    }

    private func connect() {
        stateLock.withLock { connectCancelled = false }
        nng_http_client_connect(client, aio.raw)
    }

    /// One HTTP exchange, step by step: write the request, read the head
    /// (past any 1xx), read and discard the body so the connection can be
    /// reused. Not `nng_http_conn_transact`, which keeps the whole body in
    /// memory and takes a `100 Continue` for the answer.
    private func send() {
        exchange = .writing
        interimResponses = 0
        stateLock.withLock { exchangeTimedOut = false }
        // Per attempt: webhook-timestamp is the attempt's time.
        let timestamp = Int(Clock.wallMilliseconds() / 1000)
        setup.writer.write(body: requestBody, id: requestID, timestamp: timestamp, signer: signer, into: &requestBytes)
        // `requestBytes` is not touched until the write completes.
        requestBytes.withUnsafeMutableBytes { bytes in
            var iov = nng_iov(iov_buf: bytes.baseAddress, iov_len: bytes.count)
            _ = nng_aio_set_iov(aio.raw, 1, &iov)
        }
        nng_http_conn_write_all(conn, aio.raw)
    }

    private func readHead() {
        exchange = .readingHead
        nng_http_res_reset(response.raw)
        nng_http_conn_read_res(conn, response.raw, aio.raw)
    }

    private func readBody() {
        var iov = nng_iov(iov_buf: scratch.baseAddress, iov_len: body.nextReadSize(buffer: scratch.count))
        _ = nng_aio_set_iov(aio.raw, 1, &iov)
        nng_http_conn_read(conn, aio.raw)
    }

    private func exchangeStepCompleted(_ result: Int32) {
        switch exchange {
        case .writing:
            if result != 0 { return fail(.transport(result)) }
            readHead()
        case .readingHead:
            if result != 0 { return fail(.transport(result)) }
            let status = Int(nng_http_res_get_status(response.raw))
            if (100..<200).contains(status) {
                // 100 Continue, 102, 103: not the answer; it follows.
                interimResponses += 1
                guard interimResponses <= Self.maxInterimResponses else {
                    closeConnection()
                    return fail(.interimOnly(interimResponses))
                }
                return readHead()
            }
            body = ResponseBody(status: status, contentLength: header("Content-Length"),
                                transferEncoding: header("Transfer-Encoding"), limit: setup.settings.maxResponseBodyBytes)
            switch body.initialProgress {
            case .complete: answered(status, reusable: true)
            case .abandon: answered(status, reusable: false)
            case .needMore:
                exchange = .readingBody
                readBody()
            }
        case .readingBody:
            // The status is known: a body that fails or times out only costs the connection.
            let status = Int(nng_http_res_get_status(response.raw))
            guard result == 0 else { return answered(status, reusable: false) }
            let count = min(nng_aio_count(aio.raw), scratch.count)
            switch body.consume(UnsafeRawBufferPointer(rebasing: scratch[0..<count])) {
            case .needMore: readBody()
            case .complete: answered(status, reusable: true)
            case .abandon: answered(status, reusable: false)
            }
        }
    }

    /// The endpoint answered with `status`; `reusable` says whether its body
    /// left the connection fit for the next request.
    private func answered(_ status: Int, reusable: Bool) {
        requestsOnConnection += 1
        let retryAfter = status == 429 || status == 503 ? retryAfterSeconds() : nil
        if !reusable || !headersKeepConnection() { closeConnection() }
        let jitter = random.next()
        perform(stateLock.withLock {
            machine.answered(status: status, retryAfterSeconds: retryAfter, nowNs: Clock.monotonicNanoseconds(), jitter: jitter)
        })
    }

    private func finish(_ outcome: DeliveryOutcome, takeNext: Bool = true, why: DeadLetterReason? = nil) {
        guard !current.isEmpty else { return }
        let done = current
        current = []
        if let observer = context.observer {
            let (status, failure, attempts) = stateLock.withLock { (machine.lastStatus, machine.lastFailure, machine.attempt) }
            let reported: DeliveryReport.Outcome = outcome == .delivered ? .delivered : outcome == .failed ? .failed : .droppedAtShutdown
            let error: String? = switch failure { case .status, nil: nil; case let failure?: describe(failure) }
            let now = Clock.monotonicNanoseconds()
            for event in done {
                observer(DeliveryReport(kind: event.event.kind, outcome: reported, httpStatus: status, error: error,
                                        attempts: attempts, latencyNs: now &- event.acceptedAtNs))
            }
        }
        handle(context.queue.complete(done, outcome, lane: lane, for: self, takeNext: takeNext, why: why))
    }

    private func describeCurrent() -> String {
        guard let first = current.first else { return "an event" }
        return current.count == 1 ? first.event.kind.configName : "a batch of \(current.count) events"
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

    private func header(_ name: String) -> String? {
        nng_http_res_get_header(response.raw, name).map { String(cString: $0) }
    }

    private func adopt(_ newConnection: OpaquePointer?) {
        conn = newConnection
        requestsOnConnection = 0
        context.queue.connectionOpened(lane: lane)
    }

    /// A reload installed a new setup: between events (nothing in flight on
    /// this connection), close the connection to the old endpoint, retire
    /// its client, and take the new endpoint, signer and retry rules. If the
    /// new client cannot be made, this connection stays on the old setup
    /// and tries again at its next event.
    private func moveToCurrentSetup() {
        let next = context.setup
        var signer: Signer?
        do throws(EngineError) {
            if let signing = next.settings.signing { signer = try Signer(keys: signing.keys) }
            let fresh = try next.endpoint.makeClient()
            closeConnection()
            context.graveyard.retire(client)
            client = fresh
        } catch {
            context.log.limited(.error, key: "reload", "reload: a connection stays on the earlier config for now: \(error)")
            return
        }
        self.signer = signer.take()
        let machine = DeliveryStateMachine(retry: next.settings.retry, attemptTimeoutMs: next.settings.cancelTimeoutMs)
        stateLock.withLock { self.machine = machine }
        setup = next
    }

    private func replaceClient() {
        do {
            let fresh = try setup.endpoint.makeClient()
            context.graveyard.retire(client)
            client = fresh
        } catch {
            context.log.limited(.error, key: "client", "\(error)")
        }
    }

    private func closeConnection() {
        guard let open = conn else { return }
        context.closer.close(open)  // never inline: see ConnectionCloser
        conn = nil
        context.queue.connectionClosed(lane: lane)
    }

    /// `Retry-After: <seconds>`, when the answer has one (the machine
    /// decides whether it applies).
    private func retryAfterSeconds() -> Int? {
        guard let header = nng_http_res_get_header(response.raw, "Retry-After"),
              let seconds = Int(String(cString: header).trimmingSpaces()), seconds >= 0
        else { return nil }
        return seconds
    }

    /// Whether the server lets the connection carry the next request: not
    /// after `Connection: close`, nor from HTTP/1.0 without keep-alive.
    /// Compared as C strings: this runs for every response.
    private func headersKeepConnection() -> Bool {
        let connection = nng_http_res_get_header(response.raw, "Connection")
        if let connection, containsIgnoringCase(connection, "close") { return false }
        if let version = nng_http_res_get_version(response.raw), strcmp(version, "HTTP/1.0") == 0,
           !(connection.map { containsIgnoringCase($0, "keep-alive") } ?? false) {
            return false
        }
        return true
    }
}

/// Whether a C string contains `needle` (ASCII, any case). Header values
/// are short; this avoids building Swift Strings for every response.
private func containsIgnoringCase(_ haystack: UnsafePointer<CChar>, _ needle: StaticString) -> Bool {
    let length = strlen(haystack)
    let count = needle.utf8CodeUnitCount
    guard count > 0, length >= count else { return false }
    return haystack.withMemoryRebound(to: UInt8.self, capacity: length) { text in
        let pattern = needle.utf8Start
        outer: for start in 0...(length - count) {
            for k in 0..<count where text[start + k] | 0x20 != pattern[k] | 0x20 {
                continue outer
            }
            return true
        }
        return false
    }
}
