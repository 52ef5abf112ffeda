// swift-tools-version:6.0
//
// libswiftwebhook: NanoMQ's WebHook as a shared library with a C ABI.
//
//   CNng          system library: Debian's libnng-dev (links `nng`)
//   WebhookCore   pure Swift: config, events, rules, JSON bodies, encoders
//                 (no network, no Foundation: keeps the broker plugin small)
//   WebhookEngine delivery: bounded queue, lanes, keep-alive pool on nng, retries, TLS
//
import PackageDescription

let package = Package(
    name: "swiftwebhook",
    products: [
        .library(name: "WebhookCore", targets: ["WebhookCore"]),
        .library(name: "WebhookEngine", targets: ["WebhookEngine"]),
    ],
    targets: [
        .systemLibrary(name: "CNng", path: "Sources/CNng"),
        .target(name: "WebhookCore", path: "Sources/WebhookCore"),
        .target(name: "WebhookEngine", dependencies: ["WebhookCore", "CNng"], path: "Sources/WebhookEngine"),
        .testTarget(
            name: "WebhookCoreTests",
            dependencies: ["WebhookCore"],
            path: "Tests/WebhookCoreTests",
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "WebhookEngineTests",
            dependencies: ["WebhookEngine", "WebhookCore"],
            path: "Tests/WebhookEngineTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
