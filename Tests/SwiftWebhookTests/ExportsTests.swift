import CSwiftWebhookABI
import Glibc
import Testing
@testable import SwiftWebhook

/// The C ABI called the way a broker calls it, with the values a C caller
/// can pass: NULLs, stale handles, short buffers, old struct sizes.
@Suite(.serialized) struct ExportsTests {
    static let config = """
        webhook {
          url = "http://127.0.0.1:1/hook"
          drain_timeout = 0s
          events = [ { event = on_message_publish, topic = "a/#" } ]
        }
        """

    init() {
        swiftwebhook_set_log(nil, nil, Int32(SWIFTWEBHOOK_LOG_ERROR.rawValue))
    }

    func start() throws -> OpaquePointer {
        var handle: OpaquePointer?
        var why = [CChar](repeating: 0, count: 256)
        let rv = swiftwebhook_init_text(&handle, Self.config, "test.conf", &why, why.count)
        try #require(rv == SWIFTWEBHOOK_OK.rawValue, "\(String(cString: why))")
        return try #require(handle)
    }

    func publish(_ handle: OpaquePointer?, topic: String) -> Int32 {
        topic.withCString { topic in
            var e = swiftwebhook_event()
            e.size = MemoryLayout<swiftwebhook_event>.size
            e.type = Int32(SWIFTWEBHOOK_MESSAGE_PUBLISH.rawValue)
            e.clientid = UnsafePointer(strdup("c")!)
            e.topic = topic
            defer { free(UnsafeMutableRawPointer(mutating: e.clientid)) }
            return swiftwebhook_emit(handle, &e)
        }
    }

    @Test func aBadConfigNamesTheFileLineAndKey() {
        var handle: OpaquePointer?
        var why = [CChar](repeating: 0, count: 512)
        let rv = swiftwebhook_init_text(&handle, "webhook {\n  url = \"http://h/\"\n  pool_size = many\n}\n", "broker.conf", &why, why.count)
        #expect(rv == SWIFTWEBHOOK_ECONFIG.rawValue && handle == nil)
        let message = String(cString: why)
        #expect(message.contains("broker.conf:3") && message.contains("pool_size"), "\(message)")
    }

    @Test func theErrorBufferIsTruncatedAndTerminatedOrLeftAlone() {
        var handle: OpaquePointer?
        var small = [CChar](repeating: 0x7f, count: 8)
        _ = swiftwebhook_init_text(&handle, "nonsense {", "x.conf", &small, small.count)
        #expect(small[7] == 0 && strlen(small) == 7)
        var untouched = [CChar](repeating: 0x7f, count: 8)
        _ = swiftwebhook_init_text(&handle, "nonsense {", "x.conf", &untouched, 0)
        #expect(untouched.allSatisfy { $0 == 0x7f })
        #expect(swiftwebhook_init_text(&handle, "nonsense {", "x.conf", nil, 100) == SWIFTWEBHOOK_ECONFIG.rawValue)
    }

    @Test func nullsAndForgedHandlesAreRefused() {
        var handle: OpaquePointer?
        #expect(swiftwebhook_init(nil, "x", nil, 0) == SWIFTWEBHOOK_EINVAL.rawValue)
        #expect(swiftwebhook_init(&handle, nil, nil, 0) == SWIFTWEBHOOK_EINVAL.rawValue)
        #expect(swiftwebhook_init_text(&handle, nil, nil, nil, 0) == SWIFTWEBHOOK_EINVAL.rawValue)
        #expect(swiftwebhook_emit(nil, nil) == SWIFTWEBHOOK_EINVAL.rawValue)
        let forged = OpaquePointer(bitPattern: 0xdead_beef)
        #expect(publish(forged, topic: "a/b") == SWIFTWEBHOOK_EINVAL.rawValue)
        #expect(swiftwebhook_wants(forged, 0) == SWIFTWEBHOOK_EINVAL.rawValue)
        var stats = swiftwebhook_stats()
        stats.size = MemoryLayout<swiftwebhook_stats>.size
        #expect(swiftwebhook_get_stats(forged, &stats) == SWIFTWEBHOOK_EINVAL.rawValue)
        swiftwebhook_fini(nil)
        swiftwebhook_fini(forged)
    }

    @Test func aHandleFromInitToFini() throws {
        let handle = try start()
        #expect(swiftwebhook_wants(handle, Int32(SWIFTWEBHOOK_MESSAGE_PUBLISH.rawValue)) == 1)
        #expect(swiftwebhook_wants(handle, Int32(SWIFTWEBHOOK_CLIENT_CONNECTED.rawValue)) == 0)
        #expect(swiftwebhook_wants(handle, -1) == SWIFTWEBHOOK_EINVAL.rawValue)
        #expect(swiftwebhook_wants(handle, 1 << 20) == SWIFTWEBHOOK_EINVAL.rawValue)
        #expect(publish(handle, topic: "a/b") == SWIFTWEBHOOK_OK.rawValue)
        #expect(publish(handle, topic: "other") == SWIFTWEBHOOK_FILTERED.rawValue)

        var stats = swiftwebhook_stats()
        stats.size = MemoryLayout<swiftwebhook_stats>.size
        #expect(swiftwebhook_get_stats(handle, &stats) == SWIFTWEBHOOK_OK.rawValue)
        #expect(stats.matched == 1 && stats.matched == stats.queued + stats.in_flight + stats.failed + stats.delivered)

        swiftwebhook_fini(handle)
        #expect(publish(handle, topic: "a/b") == SWIFTWEBHOOK_ESHUTDOWN.rawValue)
        #expect(swiftwebhook_get_stats(handle, &stats) == SWIFTWEBHOOK_ESHUTDOWN.rawValue)
        swiftwebhook_fini(handle)  // twice is harmless
    }

    /// A broker built against an older, shorter swiftwebhook_stats gets only
    /// the fields it knows; nothing past its `size` is written.
    @Test func statsWriteNoFurtherThanTheCallersStruct() throws {
        let handle = try start()
        defer { swiftwebhook_fini(handle) }
        _ = publish(handle, topic: "a/1")
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xaa, count: 256)
        let oldSize = MemoryLayout<Int>.size + 2 * MemoryLayout<UInt64>.size  // size, matched, queued
        buffer.storeBytes(of: oldSize, as: Int.self)
        #expect(swiftwebhook_get_stats(handle, buffer.assumingMemoryBound(to: swiftwebhook_stats.self)) == SWIFTWEBHOOK_OK.rawValue)
        #expect(buffer.load(fromByteOffset: 8, as: UInt64.self) == 1)  // matched
        #expect((oldSize..<256).allSatisfy { buffer.load(fromByteOffset: $0, as: UInt8.self) == 0xaa })
        for size in [0, MemoryLayout<Int>.size, 65537, Int.max] {
            buffer.storeBytes(of: size, as: Int.self)
            #expect(swiftwebhook_get_stats(handle, buffer.assumingMemoryBound(to: swiftwebhook_stats.self)) == SWIFTWEBHOOK_EINVAL.rawValue)
        }
    }

    @Test func everyCodeHasItsOwnTextAndTheVersionsAgree() {
        let codes: [swiftwebhook_result] = [SWIFTWEBHOOK_OK, SWIFTWEBHOOK_FILTERED, SWIFTWEBHOOK_DROPPED, SWIFTWEBHOOK_EINVAL,
                                            SWIFTWEBHOOK_ESHUTDOWN, SWIFTWEBHOOK_ECONFIG, SWIFTWEBHOOK_ESTART,
                                            SWIFTWEBHOOK_ENOMEM, SWIFTWEBHOOK_EVERSION]
        let texts = codes.map { String(cString: swiftwebhook_strerror($0.rawValue)) }
        #expect(Set(texts).count == codes.count && !texts.contains("unknown code"))
        #expect(String(cString: swiftwebhook_strerror(12345)) == "unknown code")
        #expect(String(cString: swiftwebhook_version())
                == "\(SWIFTWEBHOOK_VERSION_MAJOR).\(SWIFTWEBHOOK_VERSION_MINOR).\(SWIFTWEBHOOK_VERSION_PATCH)")
        #expect(swiftwebhook_abi_version() == SWIFTWEBHOOK_ABI_VERSION)
    }
}
