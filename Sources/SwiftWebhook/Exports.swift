// The C ABI: every `webhook_*` symbol of libswiftwebhook.so, as declared in
// include/swiftwebhook.h. Each function checks its arguments, turns Swift
// errors into return codes, and never lets a Swift error or trap cross
// into the broker.
import CSwiftWebhookABI
import CWebhookRegistry
import WebhookCore
import WebhookEngine
import CPlatform


// MARK: Lifecycle

@_cdecl("webhook_init")
public func swiftwebhook_init(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ path: UnsafePointer<CChar>?,
                              _ errbuf: UnsafeMutablePointer<CChar>?, _ errlen: Int) -> Int32 {
    guard let out, let path else {
        return fail(SWIFTWEBHOOK_EINVAL, "webhook_init: out and path must not be NULL", errbuf, errlen)
    }
    let file = String(cString: path)
    return start(out, errbuf, errlen, path: file) { () throws(ConfigError) in try ConfigLoader().settings(path: file) }
}

@_cdecl("webhook_init_text")
public func swiftwebhook_init_text(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ text: UnsafePointer<CChar>?,
                                   _ name: UnsafePointer<CChar>?, _ errbuf: UnsafeMutablePointer<CChar>?, _ errlen: Int) -> Int32 {
    guard let out, let text else {
        return fail(SWIFTWEBHOOK_EINVAL, "webhook_init_text: out and text must not be NULL", errbuf, errlen)
    }
    let label = name.map { String(cString: $0) } ?? "<text>"
    return start(out, errbuf, errlen, path: nil) { () throws(ConfigError) in try ConfigLoader().settings(text: String(cString: text), name: label) }
}

private func start(_ out: UnsafeMutablePointer<OpaquePointer?>, _ errbuf: UnsafeMutablePointer<CChar>?, _ errlen: Int,
                   path: String?, _ load: () throws(ConfigError) -> WebhookSettings) -> Int32 {
    let settings: WebhookSettings
    do {
        settings = try load()
    } catch {
        return fail(SWIFTWEBHOOK_ECONFIG, "\(error)", errbuf, errlen)
    }
    for warning in settings.warnings { LogRouting.write(.warning, warning) }
    let instance: Instance
    do {
        instance = try Instance(settings: settings, path: path)
    } catch where error.isOutOfMemory {
        return fail(SWIFTWEBHOOK_ENOMEM, "\(error)", errbuf, errlen)
    } catch {
        return fail(SWIFTWEBHOOK_ESTART, "\(error)", errbuf, errlen)
    }
    let retained = Unmanaged.passRetained(instance)
    let handle = swh_registry_add(retained.toOpaque(), instance.wantedMask)
    if handle == 0 {
        instance.engine?.shutdown()
        retained.release()
        return fail(SWIFTWEBHOOK_ENOMEM, "webhook_init: \(SWIFTWEBHOOK_MAX_HANDLES) handles are already alive", errbuf, errlen)
    }
    out.pointee = OpaquePointer(bitPattern: handle)
    if settings.enabled {
        let endpoints = settings.deliveryEndpoints.map { endpoint in
            (settings.hasNamedEndpoints ? "\(endpoint.endpointName): " : "") + "\(endpoint.url) over up to \(endpoint.poolSize) connection(s)"
                + (endpoint.backupURL.map { ", backup \($0)" } ?? "")
        }
        LogRouting.write(.info, "delivering \(settings.rules.rules.count) rule(s) to \(endpoints.joined(separator: "; "))")
    } else {
        LogRouting.write(.info, "webhook is disabled (enable = false); every event is filtered")
    }
    return SWIFTWEBHOOK_OK.rawValue
}

@_cdecl("webhook_fini")
public func swiftwebhook_fini(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let id = handleID(handle)
    guard let raw = swh_registry_close(id) else { return }
    let instance = Unmanaged<Instance>.fromOpaque(raw)
    instance.takeUnretainedValue().engine?.shutdown()
    swh_registry_remove(id)
    instance.release()
}

// MARK: Events

@_cdecl("webhook_emit")
public func swiftwebhook_emit(_ handle: OpaquePointer?, _ event: UnsafePointer<swiftwebhook_event>?) -> Int32 {
    guard let handle, let event, let kind = EventConversion.kind(of: event) else { return SWIFTWEBHOOK_EINVAL.rawValue }
    let id = handleID(handle)

    // Fast path: no rule names this type. One atomic load, no reference taken.
    switch swh_registry_wants(id, UInt32(kind.rawValue)) {
    case 0: return SWIFTWEBHOOK_FILTERED.rawValue
    case 1: break
    case SWH_SLOT_INVALID.rawValue: return SWIFTWEBHOOK_EINVAL.rawValue
    default: return SWIFTWEBHOOK_ESHUTDOWN.rawValue
    }

    return withInstance(id) { instance in
        guard let engine = instance.engine else { return SWIFTWEBHOOK_FILTERED.rawValue }
        return emit(event, kind: kind, to: engine)
    }
}

/// Reads the caller's struct through its pointer (a copy of it was 5% of
/// an emit).
private func emit(_ e: UnsafePointer<swiftwebhook_event>, kind: EventKind, to engine: Engine) -> Int32 {
    do throws(EventConversion.Failure) {
        let topic = try EventConversion.bytes(e.pointee.topic)
        let endpoints = engine.route(kind, topic: EventConversion.matchTopic(kind, topic))
        if endpoints == 0 { return SWIFTWEBHOOK_FILTERED.rawValue }
        switch engine.enqueue(try EventConversion.rawEvent(e, kind: kind, topic: topic), endpoints: endpoints) {
        case .queued: return SWIFTWEBHOOK_OK.rawValue
        case .filtered: return SWIFTWEBHOOK_FILTERED.rawValue
        case .dropped: return SWIFTWEBHOOK_DROPPED.rawValue
        case .shuttingDown: return SWIFTWEBHOOK_ESHUTDOWN.rawValue
        }
    } catch {
        return SWIFTWEBHOOK_EINVAL.rawValue
    }
}

@_cdecl("webhook_wants")
public func swiftwebhook_wants(_ handle: OpaquePointer?, _ type: Int32) -> Int32 {
    guard let handle, type >= 0, type <= Int32(UInt8.max), EventKind(rawValue: UInt8(type)) != nil else { return SWIFTWEBHOOK_EINVAL.rawValue }
    let id = handleID(handle)
    switch swh_registry_wants(id, UInt32(type)) {
    case 0: return 0
    case 1: return 1
    case SWH_SLOT_INVALID.rawValue: return SWIFTWEBHOOK_EINVAL.rawValue
    default: return SWIFTWEBHOOK_ESHUTDOWN.rawValue
    }
}

// MARK: Stats, logging, names

@_cdecl("webhook_get_stats")
public func swiftwebhook_get_stats(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<swiftwebhook_stats>?) -> Int32 {
    guard let handle, let out, fitsStats(out) else { return SWIFTWEBHOOK_EINVAL.rawValue }
    var stats = EngineStats()
    let result = withInstance(handleID(handle)) { instance in
        stats = instance.engine?.stats() ?? EngineStats()
        return SWIFTWEBHOOK_OK.rawValue
    }
    guard result == SWIFTWEBHOOK_OK.rawValue else { return result }
    copyStats(stats, to: out)
    return SWIFTWEBHOOK_OK.rawValue
}

@_cdecl("webhook_get_endpoint_stats")
public func swiftwebhook_get_endpoint_stats(_ handle: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<swiftwebhook_stats>?,
                                            _ name: UnsafeMutablePointer<CChar>?, _ namelen: Int) -> Int32 {
    guard let handle, let out, fitsStats(out), name != nil || namelen == 0 else { return SWIFTWEBHOOK_EINVAL.rawValue }
    var found: (name: String, stats: EngineStats)?
    let result = withInstance(handleID(handle)) { instance in
        found = instance.engine?.stats(endpoint: index)
        return found == nil ? SWIFTWEBHOOK_EINVAL.rawValue : SWIFTWEBHOOK_OK.rawValue
    }
    guard result == SWIFTWEBHOOK_OK.rawValue, let found else { return result }
    copyStats(found.stats, to: out)
    // `namelen` is the caller's size_t, any value: read unsigned; the name is cut to fit, NUL-terminated.
    let room = UInt(bitPattern: namelen)
    if let name, room > 0 {
        let bytes = Array(found.name.utf8.prefix(Int(min(room - 1, 1024))))
        for (i, byte) in bytes.enumerated() { name[i] = CChar(bitPattern: byte) }
        name[bytes.count] = 0
    }
    return SWIFTWEBHOOK_OK.rawValue
}

/// Whether the caller's `size` is one the library fills: past `size` itself, and sane.
private func fitsStats(_ out: UnsafeMutablePointer<swiftwebhook_stats>) -> Bool {
    let callerSize = UnsafeRawPointer(out).load(as: Int.self)
    return callerSize > Int(swh_stats_first_field) && callerSize <= 65536
}

/// Copies the counters into the caller's struct, no further than its
/// `size` reaches (an older caller's is smaller), keeping its size field.
private func copyStats(_ stats: EngineStats, to out: UnsafeMutablePointer<swiftwebhook_stats>) {
    let callerSize = UnsafeRawPointer(out).load(as: Int.self)
    let firstField = Int(swh_stats_first_field)  // where `matched` starts, after `size` (abi_facts.c)
    var filled = swiftwebhook_stats()
    filled.size = MemoryLayout<swiftwebhook_stats>.size
    filled.matched = stats.matched
    filled.queued = stats.queued
    filled.in_flight = stats.inFlight
    filled.delivered = stats.delivered
    filled.failed = stats.failed
    filled.retried = stats.retried
    filled.dropped_queue_full = stats.droppedQueueFull
    filled.dropped_shutdown = stats.droppedShutdown
    filled.connections_open = stats.connectionsOpen
    filled.connections_opened = stats.connectionsOpened
    filled.queued_bytes = stats.queuedBytes
    filled.latency_p50_us = stats.latencyP50Us
    filled.latency_p99_us = stats.latencyP99Us
    filled.spooled = stats.spooled
    filled.spool_replayed = stats.spoolReplayed
    filled.dropped_spool = stats.droppedSpool
    filled.spool_written = stats.spoolWritten
    filled.spool_rows = stats.spoolRows
    filled.spool_bytes = stats.spoolBytes
    filled.endpoints = stats.endpoints
    filled.endpoints_down = stats.endpointsDown
    filled.circuits_open = stats.circuitsOpen
    filled.circuit_opened = stats.circuitOpened
    filled.on_backup = stats.onBackup
    filled.failovers = stats.failovers
    let count = min(callerSize, MemoryLayout<swiftwebhook_stats>.size) - firstField
    withUnsafeBytes(of: &filled) { source in
        UnsafeMutableRawPointer(out).advanced(by: firstField).copyMemory(from: source.baseAddress!.advanced(by: firstField), byteCount: count)
    }
}

@_cdecl("webhook_reload")
public func swiftwebhook_reload(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                                _ errbuf: UnsafeMutablePointer<CChar>?, _ errlen: Int) -> Int32 {
    guard let handle else { return fail(SWIFTWEBHOOK_EINVAL, "webhook_reload: the handle must not be NULL", errbuf, errlen) }
    let id = handleID(handle)
    var message = ""
    let result = withInstance(id) { instance in
        guard let file = path.map({ String(cString: $0) }) ?? instance.path else {
            message = "webhook_reload: this handle was started from text (webhook_init_text): name the file to read"
            return SWIFTWEBHOOK_EINVAL.rawValue
        }
        let settings: WebhookSettings
        do throws(ConfigError) {
            settings = try ConfigLoader().settings(path: file)
        } catch {
            message = "\(error); the running config stays"
            return SWIFTWEBHOOK_ECONFIG.rawValue
        }
        do throws(EngineError) {
            let changes = try instance.reload(settings) { wanted in swh_registry_set_wanted(id, wanted) }
            for warning in settings.warnings { LogRouting.write(.warning, warning) }
            LogRouting.write(.info, "reloaded \(file): \(changes)")
            return SWIFTWEBHOOK_OK.rawValue
        } catch {
            message = "\(file): \(error)"
            return SWIFTWEBHOOK_ECONFIG.rawValue
        }
    }
    switch result {
    case SWIFTWEBHOOK_OK.rawValue:
        if let errbuf, errlen > 0 { errbuf[0] = 0 }
        return result
    case SWIFTWEBHOOK_ESHUTDOWN.rawValue where message.isEmpty:
        return fail(SWIFTWEBHOOK_ESHUTDOWN, "webhook_reload: the handle is shutting down or finalised", errbuf, errlen)
    case SWIFTWEBHOOK_EINVAL.rawValue where message.isEmpty:
        return fail(SWIFTWEBHOOK_EINVAL, "webhook_reload: not a handle", errbuf, errlen)
    default:
        return fail(swiftwebhook_result(rawValue: result), message, errbuf, errlen)
    }
}

@_cdecl("webhook_get_metrics")
public func swiftwebhook_get_metrics(_ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ length: Int,
                                     _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    // size_t arrives as Int: a length past Int.max is negative here, and no
    // buffer is that large.
    guard let handle, length >= 0, buffer != nil || length == 0 else { return SWIFTWEBHOOK_EINVAL.rawValue }
    let id = handleID(handle)
    var text = ""
    let result = withInstance(id) { instance in
        text = PrometheusText.render(instance.engine?.metrics(), version: String(cString: swh_library_version()))
        return SWIFTWEBHOOK_OK.rawValue
    }
    guard result == SWIFTWEBHOOK_OK.rawValue else { return result }
    let size = text.utf8.count + 1
    needed?.pointee = size
    guard let buffer, length >= size else {
        if let buffer, length > 0 { buffer[0] = 0 }
        return SWIFTWEBHOOK_ETOOSMALL.rawValue
    }
    text.withUTF8 { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    }
    buffer[size - 1] = 0
    return SWIFTWEBHOOK_OK.rawValue
}

@_cdecl("webhook_set_log")
public func swiftwebhook_set_log(_ function: swiftwebhook_log_fn?, _ userdata: UnsafeMutableRawPointer?, _ maxLevel: Int32) {
    LogRouting.set(function, userdata, maxLevel: maxLevel)
}

@_cdecl("webhook_strerror")
public func swiftwebhook_strerror(_ code: Int32) -> UnsafePointer<CChar> {
    let text: StaticString
    switch code {
    case SWIFTWEBHOOK_OK.rawValue: text = "success (queued)"
    case SWIFTWEBHOOK_FILTERED.rawValue: text = "filtered out: no rule wants this event"
    case SWIFTWEBHOOK_DROPPED.rawValue: text = "dropped: the queue is full"
    case SWIFTWEBHOOK_EINVAL.rawValue: text = "invalid argument"
    case SWIFTWEBHOOK_ESHUTDOWN.rawValue: text = "shutting down or finalised"
    case SWIFTWEBHOOK_ECONFIG.rawValue: text = "the config cannot be used"
    case SWIFTWEBHOOK_ESTART.rawValue: text = "delivery could not start"
    case SWIFTWEBHOOK_ENOMEM.rawValue: text = "out of memory or handles"
    case SWIFTWEBHOOK_EVERSION.rawValue: text = "incompatible library ABI version"
    case SWIFTWEBHOOK_ETOOSMALL.rawValue: text = "the buffer is too small"
    default: text = "unknown code"
    }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("webhook_version")
public func swiftwebhook_version() -> UnsafePointer<CChar> {
    swh_library_version()  // SWIFTWEBHOOK_VERSION, from the header (abi_facts.c)
}

@_cdecl("webhook_abi_version")
public func swiftwebhook_abi_version() -> Int32 {
    SWIFTWEBHOOK_ABI_VERSION
}

// MARK: Helpers

/// The registry id a `swiftwebhook *` stands for (it is never dereferenced).
@inline(__always)
private func handleID(_ handle: OpaquePointer) -> UInt {
    UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
}

/// Runs `body` with the handle's instance while holding a reference, so a
/// racing webhook_fini waits for it; a gone handle answers ESHUTDOWN.
@inline(__always)
private func withInstance(_ id: UInt, _ body: (Instance) -> Int32) -> Int32 {
    var status: Int32 = 0
    var ticket: UInt32 = 0
    guard let raw = swh_registry_acquire(id, &status, &ticket) else {
        return status == SWH_SLOT_INVALID.rawValue ? SWIFTWEBHOOK_EINVAL.rawValue : SWIFTWEBHOOK_ESHUTDOWN.rawValue
    }
    defer { swh_registry_release(id, ticket) }
    return body(Unmanaged<Instance>.fromOpaque(raw).takeUnretainedValue())
}

/// Reports a failed init: into errbuf when given, else to the log.
private func fail(_ code: swiftwebhook_result, _ message: String, _ errbuf: UnsafeMutablePointer<CChar>?, _ errlen: Int) -> Int32 {
    if let errbuf, errlen > 0 {
        let bytes = Array(message.utf8.prefix(errlen - 1))
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(errbuf).copyMemory(from: source.baseAddress ?? UnsafePointer(bitPattern: 1)!, byteCount: source.count)
        }
        errbuf[bytes.count] = 0
    } else {
        LogRouting.write(.error, message)
    }
    return code.rawValue
}
