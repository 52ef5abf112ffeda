// swift-tools-version:6.0
//
// libswiftwebhook: NanoMQ's WebHook as a shared library with a C ABI.
//
//   CNng          system library: Debian's libnng-dev (links `nng`)
//   WebhookCore   pure Swift: config, events, rules, JSON bodies, encoders
//                 (no network, no Foundation: keeps the broker plugin small)
//
import PackageDescription

let package = Package(
    name: "swiftwebhook",
    products: [
        .library(name: "WebhookCore", targets: ["WebhookCore"]),
    ],
    targets: [
        .systemLibrary(name: "CNng", path: "Sources/CNng"),
        .target(name: "WebhookCore", path: "Sources/WebhookCore"),
        .testTarget(
            name: "WebhookCoreTests",
            dependencies: ["WebhookCore"],
            path: "Tests/WebhookCoreTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
