// swift-tools-version:6.0
//
// libswiftwebhook: NanoMQ's WebHook as a shared library with a C ABI.
//
//   CPlatform     the C library as the Swift targets see it (no Glibc: Embedded Swift has none)
//   CBinding      binds a C dependency to its own file at run time, never to a host's copy
//   CNng          the nng (and mbedtls HMAC) calls, bound to Debian's libnng.so.1
//   CThreadPriority  the nice value of the threads that run the engine's callbacks
//   WebhookCore   pure Swift: config, events, rules, JSON bodies, encoders
//                 (no network, no Foundation: keeps the broker plugin small)
//   WebhookEngine delivery: bounded queue, lanes, keep-alive pool on nng, retries, TLS, and the
//                 disk spool (Spool/: its thread and its SQLite store, under the memory queue)
//   SwiftWebhook  the @_cdecl C ABI of include/swiftwebhook.h -> libswiftwebhook.so
//   CWebhookRegistry  the lock-free handle table behind `swiftwebhook *` (C atomics)
//   CSwiftWebhookABI  include/swiftwebhook.h for Swift, and its facts (version string, stats layout)
//   CMbedCrypto   mbedtls' headers, for HMAC-SHA256 (signed webhooks); its calls go through CNng
//   CSpool        the spool's C side: SQLite calls bound to Debian's libsqlite3.so.0, the directory lock
//   CZlib         gzip request bodies: zlib calls bound to Debian's libz.so.1
//
import PackageDescription

// clang writes DWARF 5 by default; valgrind 3.19 (Debian 12), which the tests
// run over the library, gives up on the mix of DWARF 5 C units and DWARF 4
// Swift units in one .so.
let dwarf4: [CSetting] = [.unsafeFlags(["-gdwarf-4"])]

// The engine's hot path (webhook_emit on the broker's thread) touches a few
// class properties per call; the run-time exclusivity check of each cost
// about 5% of the call in perf. Release builds leave it out; debug builds,
// which run the whole test suite, keep it, so an overlapping access still
// fails a test.
let releaseWithoutExclusivityChecks: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "swiftwebhook",
    products: [
        // The operator CLI: webhookctl check CONFIG / webhookctl send CONFIG ...
        .executable(name: "webhookctl", targets: ["webhookctl"]),
        // B8 of the benchmarks (scripts/bench).
        .executable(name: "base62-bench", targets: ["Base62Bench"]),
        // B13 (signing cost).
        .executable(name: "sign-bench", targets: ["SignBench"]),
        .library(name: "WebhookCore", targets: ["WebhookCore"]),
        .library(name: "WebhookEngine", targets: ["WebhookEngine"]),
        // libswiftwebhook.so: the C ABI brokers load (include/swiftwebhook.h).
        .library(name: "swiftwebhook", type: .dynamic, targets: ["SwiftWebhook"]),
    ],
    dependencies: [
        // Only the CLI uses it; libswiftwebhook.so does not link it.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "CBinding", path: "Sources/CBinding", cSettings: dwarf4,
                linkerSettings: [.linkedLibrary("dl")]),
        // The function lists sit beside binding.c; cbinding_table.h includes them.
        .target(name: "CNng", dependencies: ["CBinding"], path: "Sources/CNng", exclude: ["nng_functions.h"],
                cSettings: dwarf4 + [.headerSearchPath(".")]),
        .systemLibrary(name: "CPlatform", path: "Sources/CPlatform"),
        .target(name: "CThreadPriority", path: "Sources/CThreadPriority", cSettings: dwarf4),
        .target(name: "WebhookCore", dependencies: ["CPlatform"], path: "Sources/WebhookCore"),
        // mbedtls' headers for HMAC-SHA256 (signed webhooks); the calls are CNng's.
        .systemLibrary(name: "CMbedCrypto", path: "Sources/CMbedCrypto"),
        .target(name: "WebhookEngine", dependencies: ["WebhookCore", "CNng", "CMbedCrypto", "CSpool", "CZlib", "CThreadPriority"], path: "Sources/WebhookEngine",
                swiftSettings: releaseWithoutExclusivityChecks),
        // The public header as Swift sees it, and the facts of it (version string, stats layout).
        .target(name: "CSwiftWebhookABI", path: "Sources/CSwiftWebhookABI", cSettings: dwarf4),
        // The optional disk spool's C side: SQLite (Debian's libsqlite3), the directory lock.
        .target(name: "CSpool", dependencies: ["CBinding"], path: "Sources/CSpool", exclude: ["sqlite_functions.h"],
                cSettings: dwarf4 + [.headerSearchPath(".")]),
        // gzip request bodies (`compression = gzip`): zlib (Debian's libz.so.1).
        .target(name: "CZlib", dependencies: ["CBinding"], path: "Sources/CZlib", exclude: ["zlib_functions.h"],
                cSettings: dwarf4 + [.headerSearchPath(".")]),
        .target(name: "CWebhookRegistry", path: "Sources/CWebhookRegistry",
                cSettings: dwarf4 + [.headerSearchPath("../../include")]),
        .target(
            name: "SwiftWebhook",
            dependencies: ["WebhookEngine", "WebhookCore", "CSwiftWebhookABI", "CWebhookRegistry"],
            path: "Sources/SwiftWebhook"
        ),
        .executableTarget(
            name: "webhookctl",
            dependencies: ["WebhookEngine", "WebhookCore", "CSwiftWebhookABI",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/webhookctl"
        ),
        .executableTarget(name: "Base62Bench", dependencies: ["WebhookCore"], path: "bench/Base62Bench"),
        .executableTarget(name: "SignBench", dependencies: ["WebhookEngine", "WebhookCore"], path: "bench/SignBench"),
        // What more than one test target uses.
        .target(name: "TestKit", dependencies: ["WebhookCore"], path: "Tests/TestKit"),
        .testTarget(
            name: "WebhookCoreTests",
            dependencies: ["WebhookCore", "TestKit"],
            path: "Tests/WebhookCoreTests",
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "WebhookEngineTests",
            dependencies: ["WebhookEngine", "WebhookCore", "TestKit"],
            path: "Tests/WebhookEngineTests"
        ),
        // webhookctl, run as an operator would (the binary swift test builds beside the tests).
        .testTarget(
            name: "WebhookCtlTests",
            dependencies: ["WebhookEngine", "WebhookCore", "TestKit"],
            path: "Tests/WebhookCtlTests"
        ),
        .testTarget(
            name: "WebhookSpoolTests",
            dependencies: ["WebhookEngine", "TestKit"],
            path: "Tests/WebhookSpoolTests"
        ),
        .testTarget(
            name: "SwiftWebhookTests",
            dependencies: ["SwiftWebhook", "CSwiftWebhookABI", "WebhookCore", "TestKit"],
            path: "Tests/SwiftWebhookTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
