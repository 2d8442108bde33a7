// swift-tools-version:6.2
import PackageDescription

// The benchmarks of Flint: a separate package so that the server's own build and tests never compile them.
// Build in release: `swift build -c release`, then run `.build/release/flint-bench --help`.
let package = Package(
    name: "FlintBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flint-bench", targets: ["flint-bench"])
    ],
    dependencies: [
        .package(name: "Flint", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .executableTarget(
            name: "flint-bench",
            dependencies: [
                .product(name: "FlintServer", package: "Flint"),
                .product(name: "FlintCore", package: "Flint"),
                .product(name: "FlintRules", package: "Flint"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ]
        )
    ]
)
