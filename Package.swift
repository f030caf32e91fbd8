// swift-tools-version: 6.1
import PackageDescription

/// PatrolLink: a pure core (no I/O), one target per edge (gpsd, serial, store),
/// the agent's service wiring, thin executables, and a test-support target.
let package = Package(
    name: "PatrolLink",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "patrol-agent", targets: ["patrol-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian.
        .systemLibrary(name: "CGPS", pkgConfig: "libgps", providers: [.apt(["libgps-dev"])]),
        .systemLibrary(name: "CSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Kernel calls Swift's Glibc module does not import.
        .target(name: "CPlatform"),

        // Pure core: fixes, time, geodesy, NMEA, track rules, config syntax, encodings. No I/O.
        .target(name: "PatrolCore"),

        // Edges.
        .target(name: "PatrolGPSD", dependencies: [
            "PatrolCore", "CGPS", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "PatrolSerial", dependencies: [
            "PatrolCore", "CSerialPort", .product(name: "Logging", package: "swift-log"),
        ]),
        // The SQLite wrapper the agent's store and the centre's storage share.
        .target(name: "PatrolSQLite", dependencies: ["CSQLite"]),
        .target(name: "PatrolStore", dependencies: [
            "PatrolCore", "PatrolSQLite", "CSQLite", .product(name: "Logging", package: "swift-log"),
        ]),

        // The agent: configuration, pipeline services, status and export.
        .target(name: "PatrolAgent", dependencies: [
            "PatrolCore", "PatrolGPSD", "PatrolSerial", "PatrolStore", "CPlatform",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "patrol-agent", dependencies: [
            "PatrolAgent", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/PatrolAgentCLI"),

        // Real parts for tests: gpsd under gpsfake, serial line pairs, processes, temp dirs.
        .target(name: "PatrolTestSupport", dependencies: ["PatrolCore"]),

        .testTarget(name: "PatrolCoreTests", dependencies: ["PatrolCore", "PatrolTestSupport"]),
        .testTarget(name: "PatrolGPSDTests", dependencies: ["PatrolGPSD", "PatrolTestSupport"]),
        .testTarget(name: "PatrolSerialTests", dependencies: ["PatrolSerial", "PatrolTestSupport"]),
        .testTarget(name: "PatrolStoreTests", dependencies: ["PatrolStore", "PatrolTestSupport"]),
        .testTarget(name: "PatrolAgentTests", dependencies: ["PatrolAgent", "PatrolTestSupport"]),
    ]
)
