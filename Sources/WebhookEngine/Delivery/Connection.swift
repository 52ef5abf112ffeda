import CNng
import WebhookCore
#if canImport(Glibc)
import Glibc
#endif

/// What every connection shares: the queue, the endpoint, the settings.
final class DeliveryContext: @unchecked Sendable {
    let queue: DeliveryQueue<Connection>
    let endpoint: Endpoint
    let settings: WebhookSettings
    let builder: BodyBuilder
    let log: Log
    let observer: DeliveryObserver?
    let graveyard = Graveyard()
    let closer = ConnectionCloser()

    init(queue: DeliveryQueue<Connection>, endpoint: Endpoint, settings: WebhookSettings, log: Log, observer: DeliveryObserver?) {
        self.queue = queue
        self.endpoint = endpoint
        self.settings = settings
        self.builder = BodyBuilder(encoding: settings.encoding)
        self.log = log
        self.observer = observer
    }
}

/// One persistent HTTP connection to the endpoint and the event it is
/// delivering. It is a state machine driven by two nng aios: each step
/// starts one asynchronous operation and its callback (on nng's threads)
/// takes the next step. Only one operation is outstanding at a time, so the
/// fields below need no lock; `phase` and the connect deadline are shared
/// with the watchdog and sit behind `stateLock`.
///
/// Why two aios: in nng 1.5.2 an aio once used for `nng_sleep_aio` keeps
/// its "expiry is OK" flag, so a later I/O operation on it that times out
/// is cancelled with result 0, and the HTTP code takes the cut-short
/// exchange for a success. Sleeps (wake-ups, backoff) therefore get their
/// own aio, and connect/transact never share it.
///
///     idle ──wake──▶ waking ──▶ connecting ──▶ transacting ──2xx──▶ (next event or idle)
///                                   │               │
///                                   └──error──▶ backingOff ──▶ connecting / transacting
final class Connection: @unchecked Sendable {
    enum Phase {
        case idle, waking, connecting, transacting, backingOff, stopped
    }

    let lane: Int
    /// This connection's own nng client (see Endpoint for why not shared);
    /// replaced after a cancelled connect.
    private(set) var client: OpaquePointer
    private let context: DeliveryContext
    /// Connect and transact only.
    private var aio: OpaquePointer?
    /// `nng_sleep_aio` only: wake-ups and backoff.
    private var sleepAio: OpaquePointer?
    /// The request for the current event, taken from `requests` or built.
    private var request: OpaquePointer?
    /// Requests kept for reuse, by body length. nng serialises a request's
    /// header block once and keeps it; two requests whose bodies have the
    /// same length have identical header blocks (Content-Length included),
    /// so one can be reused with a new body of that length.
    private var requests: [Int: OpaquePointer] = [:]
    private static let cachedRequests = 8
    private let response: OpaquePointer
    /// Where response bodies are read into and dropped (never kept whole).
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 1)
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
    private var current: QueuedEvent?
    private var attempt = 0
    /// When the current event's first attempt started (retry.max_elapsed counts from it).
    private var firstAttemptNs: UInt64 = 0
    private var staleRetryUsed = false
    private var attemptDeadlineNs: UInt64 = 0
    /// The current event's last answer, for the observer.
    private var lastStatus: Int?
    private var lastError: String?

    private let stateLock = Lock()
    private var phase: Phase = .idle
    private var connectDeadlineNs: UInt64 = 0
    private var connectCancelled = false

    init(lane: Int, context: DeliveryContext) throws {
        self.lane = lane
        self.context = context
        self.client = try context.endpoint.makeClient()
        var response: OpaquePointer?
        let rv = nng_http_res_alloc(&response)
        guard rv == 0, let response else {
            nng_http_client_free(client)
            throw EngineError(nng: rv, "cannot allocate an HTTP response")
        }
        self.response = response
        var aio: OpaquePointer?
        let aioRV = nng_aio_alloc(&aio, { argument in
            Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().operationCompleted()
        }, Unmanaged.passUnretained(self).toOpaque())
        var sleepAio: OpaquePointer?
        let sleepRV = nng_aio_alloc(&sleepAio, { argument in
            Unmanaged<Connection>.fromOpaque(argument!).takeUnretainedValue().sleepCompleted()
        }, Unmanaged.passUnretained(self).toOpaque())
        guard aioRV == 0, sleepRV == 0, let aio, let sleepAio else {
            if let aio { nng_aio_free(aio) }
            if let sleepAio { nng_aio_free(sleepAio) }
            nng_http_res_free(response)
            nng_http_client_free(client)
            throw EngineError(nng: aioRV != 0 ? aioRV : sleepRV, "cannot allocate an nng aio")
        }
        self.aio = aio
        self.sleepAio = sleepAio
    }

    deinit {
        scratch.deallocate()
    }

    // MARK: Entry points from outside nng's callbacks

    /// The queue handed this idle connection an event: pick it up on an nng
    /// thread, not on the broker's thread that called `submit`. The sleep
    /// aio is completed directly (begin + finish: one task dispatch) rather
    /// than with nng_sleep_aio(0), which goes through nng's timer thread at
    /// millisecond resolution and added about a millisecond per wake.
    func wake() {
        stateLock.withLock { phase = .waking }
        if nng_aio_begin(sleepAio) {
            nng_aio_finish(sleepAio, 0)
        }
    }

    /// Parks the connection on its lane, or starts on an event already queued.
    func start() {
        if let next = context.queue.take(lane: lane, for: self) { begin(next) }
    }

    /// Called by the engine's watchdog: a connect past its deadline is
    /// cancelled here rather than by an aio timeout, which nng 1.5.2 can
    /// mishandle (nanomsg/nng#2119) so that freeing the client hangs.
    func checkConnectDeadline(nowNs: UInt64) {
        stateLock.withLock {
            if phase == .connecting, !connectCancelled, nowNs >= connectDeadlineNs {
                connectCancelled = true
                nng_aio_cancel(aio)
            }
        }
    }

    /// Shutdown, after the queue stopped: cancels whatever is outstanding,
    /// waits for the callback, counts an unfinished event as dropped, frees.
    func stop() {
        nng_aio_stop(sleepAio)
        nng_aio_stop(aio)
        if let unfinished = current {
            current = nil
            _ = context.queue.complete(unfinished, .droppedAtShutdown, lane: lane, for: self, takeNext: false)
        }
        closeConnection()
        stateLock.withLock { phase = .stopped }
        nng_aio_free(aio)
        nng_aio_free(sleepAio)
        aio = nil
        sleepAio = nil
        releaseRequest()
        for (_, cached) in requests { nng_http_req_free(cached) }
        requests.removeAll()
        nng_http_res_free(response)
    }

    // MARK: The state machine

    private func operationCompleted() {
        let result = nng_aio_result(aio)
        let (step, cancelledByWatchdog) = stateLock.withLock { (phase, connectCancelled) }
        if context.queue.isStopping {
            if step == .connecting, result == 0 { adopt(OpaquePointer(nng_aio_get_output(aio, 0))) }
            return
        }
        switch step {
        case .connecting:
            if result == 0 {
                adopt(OpaquePointer(nng_aio_get_output(aio, 0)))
                send()
            } else {
                if cancelledByWatchdog {
                    // The cancelled dial lives on inside nng: never dial on
                    // this client again (see Endpoint).
                    replaceClient()
                    attemptFailed("connect timed out after \(context.settings.cancelTimeoutMs) ms", key: "connect")
                } else {
                    attemptFailed("connect failed: \(nngError(result))", key: "connect")
                }
            }
        case .transacting:
            exchangeStepCompleted(result)
        case .waking, .backingOff, .idle, .stopped:
            break
        }
    }

    private func sleepCompleted() {
        if context.queue.isStopping { return }
        let step = stateLock.withLock { phase }
        switch step {
        case .waking:
            stateLock.withLock { phase = .idle }
            start()
        case .backingOff:
            startAttempt()
        case .connecting, .transacting, .idle, .stopped:
            break
        }
    }

    private func begin(_ event: QueuedEvent) {
        current = event
        attempt = 0
        firstAttemptNs = Clock.monotonicNanoseconds()
        staleRetryUsed = false
        lastStatus = nil
        lastError = nil
        do {
            let body = context.builder.body(for: event.event)
            if let cached = requests.removeValue(forKey: body.count) {
                let rv = body.withUnsafeBytes { nng_http_req_copy_data(cached, $0.baseAddress, $0.count) }
                if rv != 0 { nng_http_req_free(cached); throw EngineError(nng: rv, "cannot attach the body") }
                request = cached
            } else {
                request = try context.endpoint.makeRequest(body: body)
            }
        } catch {
            context.log.limited(.error, key: "request", "\(error)")
            finish(.failed)
            return
        }
        startAttempt()
    }

    private func startAttempt() {
        attempt += 1
        attemptDeadlineNs = Clock.monotonicNanoseconds() + UInt64(context.settings.cancelTimeoutMs) * 1_000_000
        guard conn == nil else {
            send()
            return
        }
        stateLock.withLock {
            phase = .connecting
            connectDeadlineNs = attemptDeadlineNs
            connectCancelled = false
        }
        nng_aio_set_timeout(aio, -1)  // the watchdog enforces the deadline
        nng_http_client_connect(client, aio)
    }

    /// One HTTP exchange, step by step: write the request, read the head
    /// (past any 1xx), read and discard the body so the connection can be
    /// reused. Not `nng_http_conn_transact`, which keeps the whole body in
    /// memory and takes a `100 Continue` for the answer.
    private func send() {
        stateLock.withLock { phase = .transacting }
        exchange = .writing
        interimResponses = 0
        armAttemptTimeout()
        nng_http_conn_write_req(conn, request, aio)
    }

    /// Each exchange step's operation uses what is left of the attempt's
    /// `cancel_timeout`, so a server that drips its answer cannot stretch it.
    private func armAttemptTimeout() {
        let now = Clock.monotonicNanoseconds()
        let remainingMs = attemptDeadlineNs > now ? (attemptDeadlineNs - now) / 1_000_000 : 0
        nng_aio_set_timeout(aio, Int32(clamping: max(1, remainingMs)))
    }

    private func readHead() {
        exchange = .readingHead
        nng_http_res_reset(response)
        armAttemptTimeout()
        nng_http_conn_read_res(conn, response, aio)
    }

    private func readBody() {
        var iov = nng_iov(iov_buf: scratch.baseAddress, iov_len: body.nextReadSize(buffer: scratch.count))
        _ = nng_aio_set_iov(aio, 1, &iov)
        armAttemptTimeout()
        nng_http_conn_read(conn, aio)
    }

    private func exchangeStepCompleted(_ result: Int32) {
        switch exchange {
        case .writing:
            if result != 0 { return transportFailed(result) }
            readHead()
        case .readingHead:
            if result != 0 { return transportFailed(result) }
            let status = Int(nng_http_res_get_status(response))
            if (100..<200).contains(status) {
                // 100 Continue, 102, 103: not the answer; it follows.
                interimResponses += 1
                guard interimResponses <= Self.maxInterimResponses else {
                    closeConnection()
                    return attemptFailed("\(interimResponses) interim (1xx) responses and no answer", key: "interim")
                }
                return readHead()
            }
            body = ResponseBody(status: status, contentLength: header("Content-Length"),
                                transferEncoding: header("Transfer-Encoding"), limit: context.settings.maxResponseBodyBytes)
            switch body.initialProgress {
            case .complete: answered(status, reusable: true)
            case .abandon: answered(status, reusable: false)
            case .needMore:
                exchange = .readingBody
                readBody()
            }
        case .readingBody:
            // The status is known: a body that fails or times out only costs the connection.
            let status = Int(nng_http_res_get_status(response))
            guard result == 0 else { return answered(status, reusable: false) }
            let count = min(nng_aio_count(aio), scratch.count)
            switch body.consume(UnsafeRawBufferPointer(rebasing: scratch[0..<count])) {
            case .needMore: readBody()
            case .complete: answered(status, reusable: true)
            case .abandon: answered(status, reusable: false)
            }
        }
    }

    /// Writing the request or reading the head failed: the attempt failed.
    private func transportFailed(_ result: Int32) {
        let reused = requestsOnConnection > 0
        closeConnection()
        // A kept-alive connection the server closed while it sat idle:
        // reconnect at once, without spending an attempt.
        if reused, !staleRetryUsed, result == Int32(NNG_ECLOSED.rawValue) || result == Int32(NNG_ECONNRESET.rawValue)
            || result == Int32(NNG_ECONNSHUT.rawValue) {
            staleRetryUsed = true
            attempt -= 1
            context.queue.countRetry(lane: lane)
            startAttempt()
            return
        }
        let reason = result == Int32(NNG_ETIMEDOUT.rawValue)
            ? "no response within \(context.settings.cancelTimeoutMs) ms" : "request failed: \(nngError(result))"
        attemptFailed(reason, key: "transport")
    }

    /// The endpoint answered with `status`; `reusable` says whether its body
    /// left the connection fit for the next request.
    private func answered(_ status: Int, reusable: Bool) {
        requestsOnConnection += 1
        lastStatus = status
        lastError = nil
        if !reusable || !headersKeepConnection() { closeConnection() }
        switch status {
        case 200..<300:
            finish(.delivered)
        case 408, 429, 500..<600:
            attemptFailed("HTTP \(status)", key: "status-\(status)", retryAfterMs: retryAfterMs(status: status))
        default:
            context.log.limited(.warning, key: "rejected-\(status)",
                                "\(context.settings.url): HTTP \(status) for \(current?.event.kind.configName ?? "an event"); not retried, event failed")
            finish(.failed)
        }
    }

    private func header(_ name: String) -> String? {
        nng_http_res_get_header(response, name).map { String(cString: $0) }
    }

    private func attemptFailed(_ reason: String, key: String, retryAfterMs: Int? = nil) {
        let url = context.settings.url
        if !reason.hasPrefix("HTTP ") { lastError = reason }
        let delay = retryAfterMs ?? backoffMs(afterAttempt: attempt)
        let elapsedMs = Int((Clock.monotonicNanoseconds() &- firstAttemptNs) / 1_000_000)
        guard context.settings.retry.allowsRetry(afterAttempts: attempt, elapsedMs: elapsedMs + delay) else {
            context.log.limited(.warning, key: "give-up", "\(url): \(reason); giving up after \(attempt) attempt\(attempt == 1 ? "" : "s") in \(elapsedMs / 1000) s, event failed")
            finish(.failed)
            return
        }
        context.queue.countRetry(lane: lane)
        context.log.limited(.warning, key: key, "\(url): \(reason); retrying")
        stateLock.withLock { phase = .backingOff }
        nng_sleep_aio(Int32(clamping: delay), sleepAio)
    }

    private func finish(_ outcome: DeliveryOutcome) {
        guard let done = current else { return }
        current = nil
        releaseRequest()
        if let observer = context.observer {
            let reported: DeliveryReport.Outcome = outcome == .delivered ? .delivered : outcome == .failed ? .failed : .droppedAtShutdown
            observer(DeliveryReport(kind: done.event.kind, outcome: reported, httpStatus: lastStatus, error: lastError,
                                    attempts: attempt, latencyNs: Clock.monotonicNanoseconds() &- done.acceptedAtNs))
        }
        stateLock.withLock { phase = .idle }
        if let next = context.queue.complete(done, outcome, lane: lane, for: self, takeNext: true) {
            begin(next)
        }
    }

    // MARK: Helpers

    private func adopt(_ newConnection: OpaquePointer?) {
        conn = newConnection
        requestsOnConnection = 0
        context.queue.connectionOpened(lane: lane)
    }

    private func replaceClient() {
        do {
            let fresh = try context.endpoint.makeClient()
            context.graveyard.retire(client)
            client = fresh
        } catch {
            context.log.limited(.error, key: "client", "\(error)")
        }
    }

    /// Keeps the finished request for a later body of the same length.
    private func releaseRequest() {
        guard let finished = request else { return }
        request = nil
        var length = 0
        var data: UnsafeMutableRawPointer?
        nng_http_req_get_data(finished, &data, &length)
        if requests[length] == nil, requests.count < Self.cachedRequests {
            requests[length] = finished
        } else {
            nng_http_req_free(finished)
        }
    }

    private func closeConnection() {
        guard let open = conn else { return }
        context.closer.close(open)  // never inline: see ConnectionCloser
        conn = nil
        context.queue.connectionClosed(lane: lane)
    }

    /// Exponential backoff with equal jitter: half the step fixed, half random,
    /// so a fleet of brokers does not retry in lockstep.
    private func backoffMs(afterAttempt attempt: Int) -> Int {
        let retry = context.settings.retry
        let exponent = min(attempt - 1, 30)
        let step = min(retry.maxBackoffMs, retry.initialBackoffMs << exponent)
        return step / 2 + Int.random(in: 0...max(0, step - step / 2))
    }

    /// `Retry-After: <seconds>` on 429 and 503, capped at an hour.
    private func retryAfterMs(status: Int) -> Int? {
        guard status == 429 || status == 503,
              let header = nng_http_res_get_header(response, "Retry-After"),
              let seconds = Int(String(cString: header).trimmingSpaces()), seconds >= 0
        else { return nil }
        return context.settings.retry.retryAfterDelayMs(seconds: seconds)
    }

    /// Whether the server lets the connection carry the next request: not
    /// after `Connection: close`, nor from HTTP/1.0 without keep-alive.
    /// Compared as C strings: this runs for every response.
    private func headersKeepConnection() -> Bool {
        let connection = nng_http_res_get_header(response, "Connection")
        if let connection, containsIgnoringCase(connection, "close") { return false }
        if let version = nng_http_res_get_version(response), strcmp(version, "HTTP/1.0") == 0,
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
