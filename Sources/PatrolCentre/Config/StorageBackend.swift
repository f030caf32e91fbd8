import Foundation
import PatrolCore

/// Which database holds the centre's data: `[storage] backend`.
public enum StorageBackend: Sendable, Equatable {
    /// One SQLite file (`[storage] database`): a street centre on one server, the default.
    case sqlite(path: String)
    /// A PostgreSQL server several centre instances share: a district.
    case postgres(PostgresSettings)
}

/// Where the PostgreSQL database is and how to log in: `[storage] url = "postgres://user@host:port/db"`
/// or `host`, `port`, `user`, `database`; the password in `password_file`, a file outside the
/// configuration (and the repository), read when the centre connects.
public struct PostgresSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var passwordFile: String?
    /// `tls = "require"`: connect only over TLS, verifying the server's certificate; "disable": plain TCP.
    public var requiresTLS: Bool
    /// Where each key was read, for problems found when connecting (an unreadable password file).
    var origin = ConfigOrigin()

    public init(host: String, port: Int = 5432, user: String, database: String, passwordFile: String? = nil, requiresTLS: Bool = false) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.passwordFile = passwordFile
        self.requiresTLS = requiresTLS
    }

    /// `postgres://user@host:port/database` (or `postgresql://`); nil when it is not of that form.
    /// A password in the URL is refused by the caller: it belongs in `password_file`.
    public init?(url: String) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
              let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty,
              components.password == nil, components.query == nil else { return nil }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { return nil }
        self.init(host: host, port: components.port ?? 5432, user: user, database: database)
    }

    /// The password from `password_file` (its first line), or nil when none is configured.
    public func password() throws(ConfigError) -> String? {
        guard let passwordFile else { return nil }
        let text: String
        do { text = try String(contentsOfFile: passwordFile, encoding: .utf8) } catch {
            throw ConfigError(file: origin.file, problems: [origin.problem("storage.password_file",
                "cannot read \(passwordFile): \(error.localizedDescription); write the database password into that file (mode 0600)")])
        }
        let password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        guard !password.isEmpty else {
            throw ConfigError(file: origin.file, problems: [origin.problem("storage.password_file", "\(passwordFile) is empty; its first line is the password")])
        }
        return password
    }

    /// Reads the PostgreSQL keys of `[storage]`, recording problems in `storage`.
    static func read(_ storage: ConfigReader, file: String, resolved: (String) -> String) -> PostgresSettings? {
        var settings: PostgresSettings?
        let separate = (host: storage.string("host"), port: storage.integer("port", default: 5432, in: 1...65_535),
                        user: storage.string("user"), database: storage.string("database"))
        if let url = storage.string("url") {
            settings = PostgresSettings(url: url)
            if settings == nil {
                storage.problem("url", "expected postgres://USER@HOST[:PORT]/DATABASE, without a password (put it in password_file)")
            }
            for key in ["host", "port", "user", "database"] where storage.has(key) {
                storage.problem(key, "set either url or host, port, user and database, not both")
            }
        } else if let host = separate.host, let user = separate.user, let database = separate.database {
            settings = PostgresSettings(host: host, port: separate.port, user: user, database: database)
        } else {
            storage.problem("backend", "backend = \"postgres\" needs url = \"postgres://USER@HOST:PORT/DATABASE\", or host, user and database")
        }
        let passwordFile = storage.string("password_file").map(resolved)
        let requiresTLS = storage.choice("tls", ["require", "disable"], default: "disable") == "require"
        settings?.passwordFile = passwordFile
        settings?.requiresTLS = requiresTLS
        settings?.origin = ConfigOrigin(file: file, lines: ["storage.password_file": storage.line(of: "password_file")])
        return settings
    }
}
