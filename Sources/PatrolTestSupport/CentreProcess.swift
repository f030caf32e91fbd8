import Foundation

/// The real `patrol-centre serve` (built beside the test bundle) on 127.0.0.1, with plain HTTP or
/// TLS, and its SQLite file in `folder`; it can be killed and started again on the same port and
/// database.
public final class CentreProcess: @unchecked Sendable {
    /// How the centre serves TLS: with the server certificate of `certificates`, and, when
    /// `requiresClientCertificates`, only to clients whose certificate chains to their CA (client_ca).
    public struct TLS: Sendable {
        public var certificates: TestCertificates
        public var requiresClientCertificates: Bool

        public init(certificates: TestCertificates, requiresClientCertificates: Bool = false) {
            self.certificates = certificates
            self.requiresClientCertificates = requiresClientCertificates
        }

        var configSection: String {
            """
            [tls]
            certificate = "\(certificates.serverCertificate)"
            private_key = "\(certificates.serverKey)"
            \(requiresClientCertificates ? "client_ca = \"\(certificates.caCertificate)\"" : "")
            """
        }
    }

    public let folder: String
    public let port: Int
    public let configPath: String
    public var databasePath: String { folder + "/centre.db" }
    public private(set) var process: ChildProcess?

    /// The soft and hard open-file limit `serve` runs with (systemd's LimitNOFILE), nil for the test's own.
    public let openFileLimit: Int?

    /// - Parameter settings: more TOML appended to the configuration (e.g. a `[limits]` table).
    public init(folder: String, port: Int? = nil, tls: TLS? = nil, settings: String = "", openFileLimit: Int? = nil) throws {
        self.folder = folder
        self.openFileLimit = openFileLimit
        self.port = try port ?? FreePort.allocate()
        configPath = folder + "/centre.toml"
        try """
        [server]
        address = "127.0.0.1"
        port = \(self.port)
        [storage]
        database = "\(folder)/centre.db"
        \(tls?.configSection ?? "")
        \(settings)
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    deinit { process?.signal(SIGKILL) }

    /// Starts the server and waits until it accepts connections.
    public func start() throws {
        let serve = [BuiltExecutable.centre.path, "serve", "--config", configPath]
        // prlimit sets the limit and execs the centre: the same process, as systemd would start it.
        let process = try openFileLimit.map { try ChildProcess("/usr/bin/prlimit", ["--nofile=\($0):\($0)", "--"] + serve) }
            ?? ChildProcess(serve[0], Array(serve.dropFirst()))
        self.process = process
        guard waitUntil(timeout: 30, { FreePort.isAccepting(port) ? true : nil }) == true else {
            throw SystemCallError("patrol-centre did not start: \(process.output)")
        }
    }

    /// Sends `signal` (SIGKILL: a crash; SIGTERM: a clean stop) and waits for the exit.
    public func stop(_ signal: Int32 = SIGTERM) {
        process?.signal(signal)
        _ = process?.waitForExit(timeout: 15)
        process = nil
    }

    /// Runs a `patrol-centre` command against this centre's configuration.
    public func run(_ arguments: [String]) throws -> (status: Int32?, stdout: String, stderr: String) {
        try BuiltExecutable.centre.run(arguments + ["--config", configPath])
    }

    /// Registers `device` and returns its key as `devices add` prints it (hex).
    public func addDevice(_ device: String) throws -> String {
        let result = try run(["devices", "add", device])
        guard result.status == 0, let key = result.stdout.split(separator: "\n").last.map(String.init), key.count == 64 else {
            throw SystemCallError("devices add \(device) failed: \(result.stdout) \(result.stderr)")
        }
        return key
    }

    /// The rows of `sql` from the database, read with the sqlite3 shell in read-only mode.
    public func query(_ sql: String) throws -> [String] {
        let shell = try ChildProcess("sqlite3", ["-readonly", databasePath, sql])
        guard shell.waitForExitCode(timeout: 30) == 0 else { throw SystemCallError("sqlite3 \(sql): \(shell.output)") }
        return shell.standardOutput.split(separator: "\n").map(String.init)
    }
}
