import Logging
import NIOSSL
import PatrolCentre
import PostgresNIO

/// The centre's tables on PostgreSQL, versioned like the SQLite backend's: step N takes a database
/// from version N to N + 1. `patrol-centre migrate` runs the steps; `serve` only checks the version,
/// so several instances never race to change the schema under each other.
enum PostgresSchema {
    /// Track points: the primary key (device, sequence) stores a resent point once; the index
    /// (device, time_ms, sequence) serves a unit's time range (coverage, track export) as one
    /// index range scan in the order the pages are read. Not partitioned by time: PostgreSQL only
    /// enforces a unique key across partitions when it contains the partition key, and a resent
    /// point may carry another time, so (device, sequence) could no longer be kept unique.
    static let migrations: [String] = [
        """
        CREATE TABLE devices (
            id text PRIMARY KEY, hmac_key bytea NOT NULL, registered_ms bigint NOT NULL,
            revoked_ms bigint, last_seen_ms bigint);
        CREATE TABLE staff (
            name text PRIMARY KEY, token_sha256 bytea NOT NULL UNIQUE, created_ms bigint NOT NULL);
        CREATE TABLE track_points (
            device text NOT NULL, sequence bigint NOT NULL, time_ms bigint NOT NULL,
            lat_e7 bigint NOT NULL, lon_e7 bigint NOT NULL, mode bigint NOT NULL,
            alt_dm bigint, speed_cm_s bigint, track_cdeg bigint, hdop_c bigint, satellites bigint,
            received_ms bigint NOT NULL,
            PRIMARY KEY (device, sequence));
        CREATE INDEX track_points_by_time ON track_points (device, time_ms, sequence);
        CREATE TABLE events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, device text NOT NULL, sequence bigint NOT NULL,
            kind text NOT NULL, time_ms bigint NOT NULL, time_source text NOT NULL,
            lat_e7 bigint, lon_e7 bigint, fix_age_ms bigint, button text, payload text NOT NULL,
            received_ms bigint NOT NULL, acknowledged_by text, acknowledged_ms bigint,
            UNIQUE (device, sequence));
        CREATE INDEX events_by_time ON events (device, time_ms);
        CREATE INDEX open_alarms ON events (kind, acknowledged_ms);
        CREATE TABLE heartbeats (
            device text NOT NULL, sequence bigint NOT NULL, time_ms bigint NOT NULL,
            time_source text NOT NULL, pending_records bigint NOT NULL, received_ms bigint NOT NULL,
            PRIMARY KEY (device, sequence));
        CREATE INDEX heartbeats_by_time ON heartbeats (device, time_ms);
        CREATE TABLE downlink (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, device text NOT NULL, alarm_sequence bigint NOT NULL,
            acknowledged_by text NOT NULL, acknowledged_ms bigint NOT NULL);
        CREATE INDEX downlink_by_device ON downlink (device, id);
        """,
        // Version 2: sign-ons and sign-offs staff record at the centre, read by time for the duty report.
        """
        CREATE TABLE duty_records (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, person text NOT NULL, device text NOT NULL, change text NOT NULL,
            time_ms bigint NOT NULL, recorded_by text NOT NULL, recorded_ms bigint NOT NULL);
        CREATE INDEX duty_records_by_time ON duty_records (time_ms);
        """,
        // Version 3: the nonces of accepted signed requests until they expire, shared by every instance.
        """
        CREATE TABLE nonces (
            device text NOT NULL, nonce text NOT NULL, expires_ms bigint NOT NULL,
            PRIMARY KEY (device, nonce));
        CREATE INDEX nonces_by_expiry ON nonces (expires_ms);
        """,
        // Version 4: the console's staff roles and passwords, sessions, sign-in failures and audit log
        // (as SQLite's version 5: accounts made before roles become admins).
        """
        ALTER TABLE staff ADD COLUMN role text NOT NULL DEFAULT 'admin';
        ALTER TABLE staff ADD COLUMN password text;
        CREATE TABLE staff_sessions (
            id_sha256 bytea PRIMARY KEY, name text NOT NULL REFERENCES staff (name) ON DELETE CASCADE,
            csrf text NOT NULL, created_ms bigint NOT NULL, last_used_ms bigint NOT NULL);
        CREATE TABLE sign_in_failures (
            key text PRIMARY KEY, count bigint NOT NULL, last_ms bigint NOT NULL);
        CREATE TABLE audit (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time_ms bigint NOT NULL, actor text NOT NULL, action text NOT NULL,
            subject text, address text, detail text);
        CREATE INDEX audit_by_time ON audit (time_ms);
        CREATE INDEX audit_by_subject ON audit (action, subject);
        """,
        // Version 5: JT/T 808 terminals by phone, and each terminal's emergency episode (open or not,
        // and the report time of the last change), as SQLite's version 6.
        """
        CREATE TABLE terminals (
            phone text PRIMARY KEY, device text NOT NULL UNIQUE REFERENCES devices (id), auth_code bytea,
            emergency_open boolean NOT NULL DEFAULT false, emergency_changed_ms bigint NOT NULL DEFAULT 0);
        """,
        // Version 6: streets within a district and escalation to the district desk, as SQLite's version 8.
        """
        ALTER TABLE devices ADD COLUMN street text;
        ALTER TABLE staff ADD COLUMN street text;
        ALTER TABLE events ADD COLUMN escalated_by text;
        ALTER TABLE events ADD COLUMN escalated_ms bigint;
        ALTER TABLE events ADD COLUMN escalation_note text;
        CREATE INDEX devices_by_street ON devices (street);
        """,
    ]

    static var latest: Int { migrations.count }

    /// Any number that is the same for every centre instance: migrations hold this advisory lock.
    private static let migrationLock: Int64 = 0x5041_5452_4F4C // "PATROL"

    /// The schema version, 0 for a database the centre has not set up.
    static func version(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query("CREATE TABLE IF NOT EXISTS patrol_schema (version integer NOT NULL)", logger: logger)
        for try await version in try await connection.query("SELECT max(version) FROM patrol_schema", logger: logger).decode(Int?.self) {
            return version ?? 0
        }
        return 0
    }

    /// Runs the missing steps in one transaction, under a lock, so two `migrate`s at once run each step once.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            let current = try await version(connection, logger: logger)
            guard current <= latest else { throw PostgresSchemaError.newer(current, latest) }
            for step in current..<latest {
                for statement in migrations[step].split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) })
                    where !statement.isEmpty {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO patrol_schema (version) VALUES (\(step + 1))", logger: logger)
            }
        }
    }

    /// Throws unless the database is at this centre's version.
    static func check(_ client: PostgresClient) async throws {
        let logger = Logger(label: "patrol-centre.postgres")
        let current = try await client.withConnection { try await version($0, logger: logger) }
        if current < latest { throw PostgresSchemaError.older(current, latest) }
        if current > latest { throw PostgresSchemaError.newer(current, latest) }
    }
}

/// A database whose schema is not the one this centre was built for.
public enum PostgresSchemaError: Error, Equatable, CustomStringConvertible {
    case older(Int, Int)
    case newer(Int, Int)

    public var description: String {
        switch self {
        case .older(let found, let needed):
            "the PostgreSQL database is at schema version \(found), this centre needs \(needed): run `patrol-centre migrate --config FILE` once, then start the centre"
        case .newer(let found, let needed):
            "the PostgreSQL database is at schema version \(found), newer than this centre's \(needed): a newer centre migrated it; run that version (downgrading the schema is not supported)"
        }
    }
}

extension PostgresSettings {
    /// The pool's configuration: TLS verifying the server's certificate against the system's CAs
    /// when `tls = "require"`, none otherwise.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: try password(), database: database,
                                                         tls: requiresTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = 20
        return configuration
    }
}

extension PostgresClient {
    /// `withTransaction`, throwing what the body threw (rolled back) rather than PostgresNIO's
    /// wrapper, so that a refusal reads as its own message.
    func transaction<Result: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> sending Result) async throws -> Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }
}
