/// A column `patrol-centre import-sqlite` carries from a street's SQLite file into the district's
/// PostgreSQL, named as both schemas name it.
struct ImportedColumn {
    enum Kind {
        case integer, text, blob
        /// SQLite's 0/1 integer, PostgreSQL's boolean.
        case flag

        var postgresType: String {
            switch self {
            case .integer: "bigint"
            case .text: "text"
            case .blob: "bytea"
            case .flag: "boolean"
            }
        }
    }

    var name: String
    var kind: Kind
    var nullable = false
    /// The SQLite schema version that added the column; an older file reads `fallback` instead.
    var since = 1
    /// What an older file reads (SQLite SQL), as that version's migration fills the column.
    var fallback = "NULL"
    /// The street's own row id: staged to translate what refers to it, never written (the district numbers its rows).
    var isStreetID = false
}

/// A table the import carries: its columns, in one list, so a column added to both schemas is one
/// line here (the staging table, the read, the bulk insert and the merge are made from the list).
struct ImportedTable {
    var name: String
    var columns: [ImportedColumn]
    /// The SQLite schema version that created the table; an older file has none of its rows.
    var since = 1
    /// A condition on the rows read (SQLite SQL), e.g. only nonces that have not expired.
    var sourceCondition = ""

    /// The columns written into the district's table.
    var written: [ImportedColumn] { columns.filter { !$0.isStreetID } }
    var writtenNames: String { written.map(\.name).joined(separator: ", ") }
    /// The staging table (a temporary table, or a `WITH` query over one batch) the merge reads.
    var staged: String { "import_" + name }

    /// The SQLite query reading the table as a file of schema `version` has it.
    func sourceQuery(version: Int) -> String {
        let expressions = columns.map { $0.since <= version ? $0.name : "\($0.fallback) AS \($0.name)" }
        return "SELECT " + expressions.joined(separator: ", ") + " FROM " + name + (sourceCondition.isEmpty ? "" : " WHERE " + sourceCondition)
    }
}

extension ImportedTable {
    static let devices = ImportedTable(name: "devices", columns: [
        ImportedColumn(name: "id", kind: .text),
        ImportedColumn(name: "hmac_key", kind: .blob),
        ImportedColumn(name: "registered_ms", kind: .integer),
        ImportedColumn(name: "revoked_ms", kind: .integer, nullable: true),
        ImportedColumn(name: "last_seen_ms", kind: .integer, nullable: true),
        // A street's own file assigns none; `import-sqlite --street S` fills them in (SQLiteImport).
        ImportedColumn(name: "street", kind: .text, nullable: true, since: 8),
    ])

    static let staff = ImportedTable(name: "staff", columns: [
        ImportedColumn(name: "name", kind: .text),
        ImportedColumn(name: "token_sha256", kind: .blob),
        ImportedColumn(name: "created_ms", kind: .integer),
        // As version 5's migration: accounts made before roles were admins.
        ImportedColumn(name: "role", kind: .text, since: 5, fallback: "'admin'"),
        ImportedColumn(name: "password", kind: .text, nullable: true, since: 5),
        ImportedColumn(name: "street", kind: .text, nullable: true, since: 8),
    ])

    static let terminals = ImportedTable(name: "terminals", columns: [
        ImportedColumn(name: "phone", kind: .text),
        ImportedColumn(name: "device", kind: .text),
        ImportedColumn(name: "auth_code", kind: .blob, nullable: true),
        ImportedColumn(name: "emergency_open", kind: .flag),
        ImportedColumn(name: "emergency_changed_ms", kind: .integer),
    ], since: 6)

    static let trackPoints = ImportedTable(name: "track_points", columns: [
        ImportedColumn(name: "device", kind: .text),
        ImportedColumn(name: "sequence", kind: .integer),
        ImportedColumn(name: "time_ms", kind: .integer),
        ImportedColumn(name: "lat_e7", kind: .integer),
        ImportedColumn(name: "lon_e7", kind: .integer),
        ImportedColumn(name: "mode", kind: .integer),
        ImportedColumn(name: "alt_dm", kind: .integer, nullable: true),
        ImportedColumn(name: "speed_cm_s", kind: .integer, nullable: true),
        ImportedColumn(name: "track_cdeg", kind: .integer, nullable: true),
        ImportedColumn(name: "hdop_c", kind: .integer, nullable: true),
        ImportedColumn(name: "satellites", kind: .integer, nullable: true),
        ImportedColumn(name: "received_ms", kind: .integer),
    ])

    static let heartbeats = ImportedTable(name: "heartbeats", columns: [
        ImportedColumn(name: "device", kind: .text),
        ImportedColumn(name: "sequence", kind: .integer),
        ImportedColumn(name: "time_ms", kind: .integer),
        ImportedColumn(name: "time_source", kind: .text),
        ImportedColumn(name: "pending_records", kind: .integer),
        ImportedColumn(name: "received_ms", kind: .integer),
    ])

    static let events = ImportedTable(name: "events", columns: [
        ImportedColumn(name: "id", kind: .integer, isStreetID: true),
        ImportedColumn(name: "device", kind: .text),
        ImportedColumn(name: "sequence", kind: .integer),
        ImportedColumn(name: "kind", kind: .text),
        ImportedColumn(name: "time_ms", kind: .integer),
        ImportedColumn(name: "time_source", kind: .text),
        ImportedColumn(name: "lat_e7", kind: .integer, nullable: true),
        ImportedColumn(name: "lon_e7", kind: .integer, nullable: true),
        ImportedColumn(name: "fix_age_ms", kind: .integer, nullable: true),
        ImportedColumn(name: "button", kind: .text, nullable: true),
        ImportedColumn(name: "payload", kind: .text),
        ImportedColumn(name: "received_ms", kind: .integer),
        ImportedColumn(name: "acknowledged_by", kind: .text, nullable: true),
        ImportedColumn(name: "acknowledged_ms", kind: .integer, nullable: true),
        ImportedColumn(name: "escalated_by", kind: .text, nullable: true, since: 8),
        ImportedColumn(name: "escalated_ms", kind: .integer, nullable: true, since: 8),
        ImportedColumn(name: "escalation_note", kind: .text, nullable: true, since: 8),
    ])

    /// The street's id is kept where the district has it free (see `SQLiteImport.mergeDownlink`).
    static let downlink = ImportedTable(name: "downlink", columns: [
        ImportedColumn(name: "id", kind: .integer, isStreetID: true),
        ImportedColumn(name: "device", kind: .text),
        ImportedColumn(name: "alarm_sequence", kind: .integer),
        ImportedColumn(name: "acknowledged_by", kind: .text),
        ImportedColumn(name: "acknowledged_ms", kind: .integer),
    ])

    static let dutyRecords = ImportedTable(name: "duty_records", columns: [
        ImportedColumn(name: "person", kind: .text),
        ImportedColumn(name: "device", kind: .text),
        ImportedColumn(name: "change", kind: .text),
        ImportedColumn(name: "time_ms", kind: .integer),
        ImportedColumn(name: "recorded_by", kind: .text),
        ImportedColumn(name: "recorded_ms", kind: .integer),
    ], since: 4)

    static let audit = ImportedTable(name: "audit", columns: [
        ImportedColumn(name: "time_ms", kind: .integer),
        ImportedColumn(name: "actor", kind: .text),
        ImportedColumn(name: "action", kind: .text),
        ImportedColumn(name: "subject", kind: .text, nullable: true),
        ImportedColumn(name: "address", kind: .text, nullable: true),
        ImportedColumn(name: "detail", kind: .text, nullable: true),
    ], since: 5)

    /// Only nonces that have not expired at the import (`?1`): what could still be replayed.
    static let nonces = ImportedTable(name: "nonces", columns: [
        ImportedColumn(name: "device", kind: .text),
        ImportedColumn(name: "nonce", kind: .text),
        ImportedColumn(name: "expires_ms", kind: .integer),
    ], since: 7, sourceCondition: "expires_ms > ?1")
}
