// swift-tools-version: 6.1
import PackageDescription

/// The git commit being built, as scripts/package.sh passes it in PATROL_COMMIT; nil otherwise
/// ("unknown commit"). Not `Context.gitInformation`: SwiftPM reuses its evaluation of this file
/// until the file or the environment changes, so a later commit would be built under an older one.
let builtCommit = Context.environment["PATROL_COMMIT"].flatMap { commit in
    !commit.isEmpty && commit.allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" } ? commit : nil
}

/// PatrolLink: a pure core (no I/O), one target per edge (gpsd, serial, store),
/// the agent's service wiring, thin executables, and a test-support target.
let package = Package(
    name: "PatrolLink",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "patrol-agent", targets: ["patrol-agent"]),
        .executable(name: "patrol-centre", targets: ["patrol-centre"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in the graph through Hummingbird; named here for the agent's uplink client.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Already in the graph through Hummingbird; named here for the centre's connection guard.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        // Already in the graph through Hummingbird; named here for DC-09's AES-CBC (_CryptoExtras).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The district centre's PostgreSQL storage: a maintained client with a connection pool.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C libraries from Debian.
        .systemLibrary(name: "CGPS", pkgConfig: "libgps", providers: [.apt(["libgps-dev"])]),
        .systemLibrary(name: "CSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Kernel calls Swift's Glibc module does not import, and the version both binaries print.
        .target(name: "CPlatform", cSettings: builtCommit.map { [.define("PATROL_COMMIT", to: "\"\($0)\"")] } ?? []),

        // Pure core: fixes, time, geodesy, NMEA, track rules, config syntax, encodings. No I/O.
        // zlib is pure computation (deflate for the uplink's wire format), present on every board.
        .target(name: "PatrolCore", dependencies: ["CZlib"]),

        // Edges, and what they share: reconnect supervision, blocking calls off the cooperative pool,
        // the board's clocks, small POSIX file reads and writes.
        .target(name: "PatrolEdgeSupport", dependencies: [
            "PatrolCore", "CPlatform", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "PatrolGPSD", dependencies: [
            "PatrolCore", "PatrolEdgeSupport", "CGPS", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "PatrolSerial", dependencies: [
            "PatrolCore", "PatrolEdgeSupport", "CSerialPort", .product(name: "Logging", package: "swift-log"),
        ]),
        // The SQLite wrapper the agent's store and the centre's storage share.
        .target(name: "PatrolSQLite", dependencies: ["CSQLite"]),
        .target(name: "PatrolStore", dependencies: [
            "PatrolCore", "PatrolEdgeSupport", "PatrolSQLite", "CSQLite", .product(name: "Logging", package: "swift-log"),
        ]),

        // The TLS profile the centre offers and the agent asks for (both build theirs with NIOSSL).
        .target(name: "PatrolTLS", dependencies: [.product(name: "NIOSSL", package: "swift-nio-ssl")]),

        // Store and forward, protocol-neutral: the output protocol, the kinds `[[uplink]]` can name,
        // and the runner that owns order, retries and backoff over any `DeliveryBacklog`.
        .target(name: "PatrolUplink", dependencies: [
            "PatrolCore", .product(name: "Logging", package: "swift-log"),
        ]),
        // One target per output protocol. The PatrolLink centre: SwiftNIO's HTTP/1.1 client and
        // NIOSSL, no Foundation beyond FoundationEssentials' JSON.
        .target(name: "PatrolUplinkCentre", dependencies: [
            "PatrolCore", "PatrolEdgeSupport", "PatrolUplink", "PatrolTLS",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // SIA DC-09 to an alarm receiving centre: frames, AES, event codes (pure), the TCP/UDP link, the output.
        .target(name: "PatrolUplinkDC09", dependencies: [
            "PatrolCore", "PatrolEdgeSupport", "PatrolUplink", .product(name: "Logging", package: "swift-log"),
            .product(name: "_CryptoExtras", package: "swift-crypto"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // A JT/T 808 platform over TCP (the codec is PatrolCore's, shared with the centre).
        .target(name: "PatrolUplinkJT808", dependencies: [
            "PatrolCore", "PatrolEdgeSupport", "PatrolUplink", .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // The agent: configuration, pipeline services, status and export.
        .target(name: "PatrolAgent", dependencies: [
            "PatrolCore", "PatrolEdgeSupport", "PatrolGPSD", "PatrolSerial", "PatrolStore", "PatrolUplink",
            "PatrolUplinkCentre", "PatrolUplinkDC09", "PatrolUplinkJT808", "CPlatform",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "patrol-agent", dependencies: [
            "PatrolAgent", "CPlatform", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/PatrolAgentCLI"),

        // Patrol coverage for centre staff: plan, grid, track traversal, checkpoint and gap
        // accounting, report rendering. Pure: the centre streams points in, text comes out.
        .target(name: "PatrolCoverage", dependencies: ["PatrolCore"]),

        // The street centre: storage, device and staff auth, routes, the app; its thin executable.
        .target(name: "PatrolCentre", dependencies: [
            "PatrolCore", "PatrolSQLite", "PatrolCoverage", "PatrolTLS", "CPlatform",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The centre's web console: staff sign-in, sessions, the JSON API, the live change feed
        // (Server-Sent Events), and the browser's files, embedded in the binary (one file to install).
        .target(name: "PatrolConsole", dependencies: [
            "PatrolCentre", "PatrolCore", "PatrolCoverage",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "_CryptoExtras", package: "swift-crypto"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], resources: [.embedInCode("Assets")]),
        // The centre's JT/T 808 listener for third-party vehicle terminals (SwiftNIO TCP, PatrolCore's codec).
        .target(name: "PatrolCentreJT808", dependencies: [
            "PatrolCentre", "PatrolCore", .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The centre's PostgreSQL storage (one target per storage backend; SQLite's is PatrolCentre's default).
        .target(name: "PatrolCentrePostgres", dependencies: [
            "PatrolCentre", "PatrolCore", "PatrolSQLite", .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "patrol-centre", dependencies: [
            "PatrolCentre", "PatrolCentrePostgres", "PatrolConsole", "PatrolCentreJT808", "CPlatform", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], path: "Sources/PatrolCentreCLI"),

        // Real parts for tests: gpsd under gpsfake, serial line pairs, processes, temp dirs.
        .target(name: "PatrolTestSupport", dependencies: ["PatrolCore", "PatrolCoverage", "PatrolEdgeSupport", .product(name: "Logging", package: "swift-log")]),

        .testTarget(name: "PatrolCoreTests", dependencies: ["PatrolCore", "PatrolTestSupport"]),
        .testTarget(name: "PatrolGPSDTests", dependencies: ["PatrolGPSD", "PatrolTestSupport"]),
        .testTarget(name: "PatrolSerialTests", dependencies: ["PatrolSerial", "PatrolTestSupport"]),
        .testTarget(name: "PatrolStoreTests", dependencies: ["PatrolStore", "PatrolTestSupport"]),
        .testTarget(name: "PatrolAgentTests", dependencies: ["PatrolAgent", "PatrolTestSupport"]),
        .testTarget(name: "PatrolUplinkTests", dependencies: [
            "PatrolUplink", "PatrolUplinkCentre", "PatrolUplinkJT808", "PatrolCentre", "PatrolStore", "PatrolTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "PatrolUplinkDC09Tests", dependencies: ["PatrolUplinkDC09", "PatrolTestSupport"]),
        .testTarget(name: "PatrolCoverageTests", dependencies: ["PatrolCoverage", "PatrolTestSupport"]),
        // scripts/package.sh's Debian packages installed, upgraded, removed and purged in a throwaway root.
        .testTarget(name: "PackagingTests", dependencies: ["PatrolTestSupport"]),
        .testTarget(name: "PatrolCentreJT808Tests", dependencies: ["PatrolCentreJT808", "PatrolCentre", "PatrolTestSupport"]),
        .testTarget(name: "PatrolCentreTests", dependencies: [
            "PatrolCentre", "PatrolCentrePostgres", "PatrolConsole", "PatrolCoverage", "PatrolSQLite", "PatrolTestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
