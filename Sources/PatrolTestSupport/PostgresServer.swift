import Foundation
import Synchronization

/// A real PostgreSQL server for tests: `initdb` into a temporary directory, `postgres` on a free
/// port of 127.0.0.1 with its unix socket in that directory, trust authentication for the one
/// user `patrol`. Stopped and removed by `stop()`, and at the latest when the test process exits.
///
/// `initdb` refuses to run as root, so as root the server runs as `nobody` (through `runuser`),
/// owning its data directory. Starting takes a second or two, so a test process shares one
/// server (`shared()`) and each test takes a fresh database of it (`createDatabase()`).
public final class PostgresServer: Sendable {
    /// Debian's PostgreSQL 15 (`scripts/setup.sh` installs it).
    public static let binaries = "/usr/lib/postgresql/15/bin"

    /// Whether PostgreSQL is installed; tests that need it are skipped with this reason otherwise.
    public static var isInstalled: Bool { access(binaries + "/postgres", X_OK) == 0 }

    public let port: Int
    public let user = "patrol"
    private let folder: TemporaryDirectory
    private let server: ChildProcess
    private let databases = Mutex(0)

    /// Starts a server of its own (a benchmark or a test that stops it); most tests use `shared()`.
    public init(fsync: Bool = false) throws {
        folder = try TemporaryDirectory(prefix: "patrol-postgres")
        let data = folder.file("data")
        if getuid() == 0 {
            guard chown(folder.path, 65_534, 65_534) == 0 else { throw SystemCallError("chown \(folder.path) to nobody") }
        }
        let initdb = try Self.unprivileged("initdb", ["-D", data, "-U", "patrol", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        guard initdb.waitForExitCode(timeout: 60) == 0 else {
            throw PostgresServerError(description: "initdb failed: \(initdb.output)")
        }
        port = try FreePort.allocate()
        server = try Self.unprivileged("postgres", ["-D", data, "-p", String(port), "-k", folder.path,
                                                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=\(fsync ? "on" : "off")",
                                                    "-c", "max_connections=200"])
        guard waitUntil(timeout: 30, { server.output.contains("ready to accept connections") ? true : nil }) != nil else {
            server.signal(SIGKILL)
            throw PostgresServerError(description: "postgres did not start within 30 s: \(server.output)")
        }
    }

    /// Runs one of PostgreSQL's programs, as `nobody` when the test runs as root.
    private static func unprivileged(_ program: String, _ arguments: [String]) throws -> ChildProcess {
        guard getuid() == 0 else { return try ChildProcess(binaries + "/" + program, arguments) }
        return try ChildProcess("runuser", ["-u", "nobody", "--", binaries + "/" + program] + arguments)
    }

    /// Fast shutdown (open sessions are ended), then the directory is removed.
    public func stop() {
        server.signal(SIGINT)
        if server.waitForExit(timeout: 20) == nil { server.signal(SIGKILL) }
        folder.remove()
    }

    private static let sharedServer = Mutex<Result<PostgresServer, PostgresServerError>?>(nil)

    /// The test process's server, started on first use and stopped when the process exits.
    public static func shared() throws -> PostgresServer {
        try sharedServer.withLock { shared in
            if shared == nil {
                do {
                    shared = .success(try PostgresServer())
                    atexit { if case .success(let server)? = PostgresServer.sharedServer.withLock({ $0 }) { server.stop() } }
                } catch {
                    shared = .failure(error as? PostgresServerError ?? PostgresServerError(description: "\(error)"))
                }
            }
            return try shared!.get()
        }
    }

    /// A new, empty database for one test; its connection URL.
    public func createDatabase() throws -> String {
        let name = "test_\(databases.withLock { $0 += 1; return $0 })_\(UUID().uuidString.prefix(8).lowercased())"
        let createdb = try ChildProcess(Self.binaries + "/createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", user, name])
        guard createdb.waitForExitCode(timeout: 30) == 0 else {
            throw PostgresServerError(description: "createdb \(name) failed: \(createdb.output)")
        }
        return url(database: name)
    }

    public func url(database: String) -> String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Runs one SQL command with psql (`-At`: unaligned, tuples only) and returns what it printed.
    public func psql(_ sql: String, database: String) throws -> String {
        let psql = try ChildProcess(Self.binaries + "/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database,
                                                              "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard psql.waitForExitCode(timeout: 60) == 0 else { throw PostgresServerError(description: "psql failed: \(psql.output)") }
        return psql.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct PostgresServerError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(description: String) { self.description = description }
}
