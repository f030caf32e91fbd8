/// The store's schema, as an ordered list of migrations; `PRAGMA user_version` is the number applied.
///
/// Track rows are kept compact because every byte is written twice (WAL, then checkpoint) on an SD
/// card: coordinates as integer 1e-7 degrees (≈ 1 cm), altitude in decimetres, speed in cm/s,
/// heading in centidegrees, HDOP in tenths. SQLite stores small integers in 1–4 bytes.
/// The track table has no index besides its rowid: times are nearly monotonic, an index would add
/// a page write to every commit, and time-range exports scan sequentially anyway.
enum Schema {
    static let migrations: [String] = [
        // 1: tracks, events, per-output progress, dead letters, counters.
        """
        CREATE TABLE track (
            seq INTEGER PRIMARY KEY,
            time_ms INTEGER NOT NULL,
            lat_e7 INTEGER NOT NULL,
            lon_e7 INTEGER NOT NULL,
            mode INTEGER NOT NULL,
            alt_dm INTEGER,
            speed_cms INTEGER,
            track_cdeg INTEGER,
            hdop_d INTEGER,
            sats INTEGER,
            time_source TEXT NOT NULL DEFAULT 'gnss'
        );
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            time_ms INTEGER NOT NULL,
            time_source TEXT NOT NULL,
            position TEXT NOT NULL,
            lat_e7 INTEGER,
            lon_e7 INTEGER,
            fix_age_ms INTEGER,
            input_id TEXT,
            payload TEXT NOT NULL
        );
        CREATE TABLE output_progress (
            output TEXT NOT NULL,
            stream TEXT NOT NULL,
            delivered_seq INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (output, stream)
        ) WITHOUT ROWID;
        CREATE TABLE dead_letters (
            id INTEGER PRIMARY KEY,
            output TEXT NOT NULL,
            stream TEXT NOT NULL,
            seq INTEGER NOT NULL,
            reason TEXT NOT NULL,
            recorded_ms INTEGER NOT NULL
        );
        CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ]
}
