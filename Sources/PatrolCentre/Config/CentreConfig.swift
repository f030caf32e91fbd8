import Foundation
import NIOCore
import PatrolCore

/// The centre's settings, read from a TOML file. Every problem (unknown key, wrong type, value out
/// of range) is reported with its line, all at once. Secrets are not in here: device keys and staff
/// tokens live in the database, TLS keys in their own files.
public struct CentreConfig: Sendable, Equatable {
    /// Address to listen on; plain HTTP is refused unless it is a loopback address.
    public var address = "127.0.0.1"
    /// 0 lets the system pick a free port (tests).
    public var port = 8443
    /// PEM certificate chain and private key; both or neither.
    public var tlsCertificatePath: String?
    public var tlsPrivateKeyPath: String?
    /// PEM CA certificates: when set, only clients with a certificate chained to one of them get
    /// through the TLS handshake. An extra layer under the device signatures (which still decide
    /// who may write what): scanners and stolen keys without the board's certificate get nowhere.
    public var tlsClientCAPath: String?
    /// The SQLite database (created 0600: it holds every device's HMAC key).
    public var databasePath = "centre.db"
    /// PostgreSQL instead of the SQLite file: `[storage] backend = "postgres"`.
    public var postgres: PostgresSettings?
    /// A device with no record for this long is listed as silent.
    public var silentAfterSeconds = 60
    /// Request bodies above this are refused with 413 before being read further.
    public var maxBodyBytes = 16 << 20
    /// How far a device's request time may be from the centre's before it is refused (and told the time).
    public var clockSkewSeconds = 300
    /// Request bodies all connections together may hold in memory; beyond it, 503 instead of buffering.
    public var maxBufferedBodyBytes = 64 << 20
    /// Connections held at once; nil: the open-file limit less `reservedFiles` (see `connectionLimits`).
    public var maxConnections: Int?
    /// From connecting, or the end of the last answer, to the end of the request's headers.
    public var headerTimeoutSeconds = 10
    /// From the end of a request's headers to the end of its body.
    public var bodyTimeoutSeconds = 60
    /// The web console's `[console]` table.
    public var console = ConsoleSettings()
    /// The JT/T 808 listener, when `[jt808]` is configured.
    public var jt808: JT808ListenerSettings?
    /// Where the keys were read, for problems found later (a PEM file unusable at start).
    var origin = ConfigOrigin()

    public init(databasePath: String) {
        self.databasePath = databasePath
    }

    public var usesTLS: Bool { tlsCertificatePath != nil }

    /// The database the configuration names.
    public var storageBackend: StorageBackend { postgres.map(StorageBackend.postgres) ?? .sqlite(path: databasePath) }

    /// Reads `path`; relative file paths in it are taken from the config file's folder, so a
    /// config and its database can be moved together.
    public static func load(path: String) throws -> CentreConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, problems: [ConfigProblem(line: 1, key: "-", message: "cannot read the file: \(error.localizedDescription)")])
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, file: path, relativeTo: folder)
    }

    public static func parse(_ text: String, file: String, relativeTo folder: String) throws(ConfigError) -> CentreConfig {
        let table: TOMLTable
        do { table = try TOMLParser.parse(text) } catch {
            throw ConfigError(file: file, problems: [ConfigProblem(line: error.line, key: "-", message: error.message)])
        }
        func resolved(_ path: String) -> String { path.hasPrefix("/") ? path : folder + "/" + path }
        let reader = ConfigReader(table)
        var config = CentreConfig(databasePath: "")
        let server = reader.table("server")
        config.address = server.string("address", default: config.address)
        config.port = server.integer("port", default: config.port, in: 0...65_535)
        let tls = reader.table("tls")
        config.tlsCertificatePath = tls.string("certificate").map(resolved)
        config.tlsPrivateKeyPath = tls.string("private_key").map(resolved)
        config.tlsClientCAPath = tls.string("client_ca").map(resolved)
        if (config.tlsCertificatePath == nil) != (config.tlsPrivateKeyPath == nil) {
            tls.problem(config.tlsCertificatePath == nil ? "private_key" : "certificate",
                        "set both certificate and private_key, or neither")
        }
        if config.tlsClientCAPath != nil, config.tlsCertificatePath == nil {
            tls.problem("client_ca", "client certificates are part of TLS: set certificate and private_key too")
        }
        config.origin = ConfigOrigin(file: file, lines: Dictionary(uniqueKeysWithValues: ["certificate", "private_key", "client_ca"].map {
            ("tls.\($0)", tls.line(of: $0))
        }))
        if config.tlsCertificatePath == nil, !isLoopback(config.address) {
            server.problem("address", "plain HTTP is only allowed on a loopback address; configure [tls] certificate and private_key to listen on \(config.address)")
        }
        let storage = reader.table("storage")
        if storage.choice("backend", ["sqlite", "postgres"], default: "sqlite") == "postgres" {
            config.postgres = PostgresSettings.read(storage, file: file, resolved: resolved)
        } else {
            config.databasePath = resolved(storage.string("database", default: "centre.db"))
        }
        config.silentAfterSeconds = reader.table("devices").integer("silent_after_seconds", default: 60, in: 1...86_400)
        let limits = reader.table("limits")
        config.maxBodyBytes = limits.integer("max_body_bytes", default: config.maxBodyBytes, in: 1024...(256 << 20))
        config.clockSkewSeconds = limits.integer("clock_skew_seconds", default: config.clockSkewSeconds, in: 1...86_400)
        config.maxBufferedBodyBytes = limits.integer("max_buffered_body_bytes", default: config.maxBufferedBodyBytes, in: 1024...(16 << 30))
        if config.maxBufferedBodyBytes < config.maxBodyBytes {
            limits.problem("max_buffered_body_bytes", "must be at least max_body_bytes (\(config.maxBodyBytes)), or no body of that size could be read")
        }
        config.maxConnections = limits.has("max_connections") ? limits.integer("max_connections", default: 0, in: 1...1_000_000) : nil
        config.headerTimeoutSeconds = limits.integer("header_timeout_seconds", default: config.headerTimeoutSeconds, in: 1...300)
        config.bodyTimeoutSeconds = limits.integer("body_timeout_seconds", default: config.bodyTimeoutSeconds, in: 1...3600)
        config.origin.lines["limits.max_connections"] = limits.line(of: "max_connections")
        config.console = ConsoleSettings.read(reader.table("console"), resolved: resolved)
        config.jt808 = JT808ListenerSettings.read(reader, defaultAddress: config.address)
        try reader.finish(file: file)
        return config
    }

    /// True for 127.0.0.0/8, ::1 and localhost: the only places plain HTTP may be served.
    public static func isLoopback(_ address: String) -> Bool {
        address == "localhost" || address == "::1" || address.hasPrefix("127.")
    }
}

/// Where a configuration was read: problems found after reading, when a file a key names is used,
/// are reported as `centre.toml:12: tls.client_ca: …`, like those found while reading.
struct ConfigOrigin: Sendable, Equatable {
    /// The configuration file; a configuration built in code has none.
    var file = "the configuration"
    /// The line of each dotted key.
    var lines: [String: Int] = [:]

    func problem(_ key: String, _ message: String) -> ConfigProblem {
        ConfigProblem(line: lines[key] ?? 1, key: key, message: message)
    }
}

extension CentreConfig {
    /// Files the server needs besides its connections: the database and its WAL and shared-memory
    /// files, the listening socket, standard streams, and the event loops' epoll and event descriptors.
    static let reservedFiles = 64

    /// The connection limits for a process that may open `openFileLimit` files (`RLIMIT_NOFILE`,
    /// read when `serve` starts): `max_connections`, or all files but `reservedFiles`. A configured
    /// limit that leaves no room for those files is reported against its key and line: at the
    /// open-file limit the server could not accept a device's connection, nor open its database.
    func connectionLimits(openFileLimit: Int) throws(ConfigError) -> ConnectionLimits {
        let available = openFileLimit - Self.reservedFiles
        let maxConnections: Int
        if let configured = self.maxConnections {
            guard configured <= available else {
                throw ConfigError(file: origin.file, problems: [origin.problem("limits.max_connections",
                    "\(configured) does not fit the open-file limit of \(openFileLimit) less \(Self.reservedFiles) for the database "
                    + "and the server; set at most \(max(available, 0)), or raise the limit (LimitNOFILE= in the systemd unit)")])
            }
            maxConnections = configured
        } else {
            guard available >= 16 else {
                throw ConfigError(file: origin.file, problems: [origin.problem("limits.max_connections",
                    "the open-file limit of \(openFileLimit) leaves no room for connections; raise it (LimitNOFILE= in the systemd unit)")])
            }
            maxConnections = available
        }
        return ConnectionLimits(maxConnections: maxConnections, headerTimeout: .seconds(Int64(headerTimeoutSeconds)),
                                bodyTimeout: .seconds(Int64(bodyTimeoutSeconds)))
    }
}
