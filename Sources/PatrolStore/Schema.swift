/// The store's schema and the settings it is opened with.
///
/// ## Why the track is stored in chunks
/// The product allows at most 2 MB written to storage per hour while every 1 Hz fix is recorded
/// and each commit is fsynced. With WAL every commit appends its changed pages to the WAL and
/// re-dirties at least one 4 KiB page of the file system, so 360 commits an hour (one per 10 s
/// window) cost about 1.7 MB before any data. Every extra page a commit touches costs more, and
/// a B-tree grows a new leaf (plus its parent, the header page and a pointer-map page) every
/// time a page fills. One row per point (~43 bytes) measured 2.5 MB/h; a minimal 4-column row
/// still 2.2 MB/h; an index on time 3.7 MB/h. So one append (one batcher window) is stored as
/// one `track_chunk` row whose points are delta-encoded in a blob (`TrackChunkCodec`, ~12 bytes
/// a point). Point sequence numbers are still exact: the chunk's
/// key is the sequence of its first point, point `i` has `first_seq + i`. Measured with 1 Hz
/// points from a moving car, 10-point batches, real fsync on ext4: ~1.95 MB/h (`/proc/self/io`
/// write_bytes); with every field random (worst case for the delta encoding) ~2.1 MB/h.
///
/// ## Finding time ranges without an index
/// `envelope` is the largest point time in this chunk and every earlier one, so it never
/// decreases along `first_seq`: a binary search over the primary key finds the first chunk that
/// can hold a time, and age-based retention deletes exactly a prefix. Receiver time is nearly
/// monotonic; where it went backwards the meta key `track.last_regression_seq` records it, so a
/// range scan knows when it may stop early (see `AgentStore.forEachTrackPoint`).
///
/// ## Units
/// Track and event positions are integers in 1e-7 degrees (~1 cm), altitude in decimetres,
/// speed in cm/s, track (course) in centi-degrees, HDOP in hundredths, times in milliseconds
/// since the Unix epoch (UTC).
enum Schema {
    /// 512-byte pages: each commit's WAL frame is 536 bytes instead of 4120 with 4 KiB pages,
    /// which measured the lowest bytes written per hour (see above). Only takes effect when the
    /// file is created, so it is set before the first table.
    static let pageSize = 512

    /// Pages in the WAL before SQLite copies them into the database (1 MiB at 512-byte pages,
    /// about two hours of track). A checkpoint rewrites the B-tree's upper pages once however
    /// often they changed in the WAL, so fewer checkpoints write less: over 12 simulated hours
    /// 1000 pages measured 2.02 MB/h, 2000 pages 1.95 MB/h, 3000 no better within the noise.
    static let walAutocheckpointPages = 2000

    /// How long one attempt to open the file waits for another process's lock before the opener's
    /// own deadline decides whether to try again.
    static let openBusyTimeoutMilliseconds: Int32 = 200

    /// How long a statement of an open store waits for a lock (another process that opened the
    /// file between our read and our first write).
    static let busyTimeoutMilliseconds: Int32 = 5000

    /// Settings for every connection, in this order.
    ///
    /// `locking_mode=EXCLUSIVE` comes first, before anything touches the file: then the WAL index
    /// lives in process memory instead of a mmapped `-shm` file. The kernel writes that file back
    /// every ~30 s and every commit dirties it again, adding to the bytes written per hour; and
    /// only one agent may use a store anyway. The price: while the agent runs, another process
    /// (a CLI) cannot open the file; it says so after `AgentStore.commandLockWaitSeconds`.
    ///
    /// `page_size` and `auto_vacuum=INCREMENTAL` only take effect on a new, empty file, so they
    /// precede the first table (and the switch to WAL); on an existing file they change nothing.
    /// Incremental auto-vacuum lets retention give freed pages back to the file system.
    ///
    /// `synchronous=FULL`: in WAL mode NORMAL may lose the last commits on power loss, and a
    /// committed batch must survive the ignition being cut.
    static let connectionPragmas = """
        PRAGMA locking_mode=EXCLUSIVE;
        PRAGMA page_size=\(pageSize);
        PRAGMA auto_vacuum=INCREMENTAL;
        PRAGMA journal_mode=WAL;
        PRAGMA synchronous=FULL;
        PRAGMA wal_autocheckpoint=\(walAutocheckpointPages);
        """

    /// Migrations in order; migration `i` brings the schema to `user_version` `i + 1`.
    /// Never edit a released migration: append a new one.
    static let migrations: [String] = [
        """
        CREATE TABLE track_chunk (
            first_seq INTEGER PRIMARY KEY,  -- sequence of the first point; point i is first_seq + i
            point_count INTEGER NOT NULL,
            envelope INTEGER NOT NULL,      -- max point time (ms) in this and every earlier chunk
            points BLOB NOT NULL            -- TrackChunkCodec
        );
        CREATE TABLE event (
            sequence INTEGER PRIMARY KEY,   -- per-device, never repeats (EventSequenceReservation)
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            time INTEGER NOT NULL,          -- ms since epoch, UTC
            time_source TEXT NOT NULL,
            latitude_e7 INTEGER,
            longitude_e7 INTEGER,
            fix_age_ms INTEGER,
            button_id TEXT,
            payload TEXT NOT NULL           -- a small JSON object
        );
        CREATE TABLE delivery_progress (
            output TEXT NOT NULL,
            stream TEXT NOT NULL,           -- 'track' or 'event'
            last_delivered INTEGER NOT NULL,
            PRIMARY KEY (output, stream)
        ) WITHOUT ROWID;
        CREATE TABLE dead_letter (
            id INTEGER PRIMARY KEY,
            output TEXT NOT NULL,
            stream TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            payload TEXT
        );
        CREATE TABLE counter (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value
        ) WITHOUT ROWID;
        """,
        // Events stay typed: the kind's detail (tag or checkpoint id) and the position's label get
        // columns of their own instead of living only in the JSON payload.
        """
        ALTER TABLE event ADD COLUMN detail TEXT;
        ALTER TABLE event ADD COLUMN fix TEXT;
        """ + typedEventColumnsFromPayload,
        // PLBX 2 presses (Board/button-box-protocol.md): one event of a kind per press, and which
        // presses are finished, so a box's repeats after an agent restart store nothing twice.
        """
        CREATE TABLE press_event (
            box_id TEXT NOT NULL,
            incarnation TEXT NOT NULL,      -- 8 hex digits, chosen by the box's EEPROM
            press INTEGER NOT NULL,         -- the box's press number, never repeated in an incarnation
            kind TEXT NOT NULL,             -- the event's kind
            sequence INTEGER NOT NULL,      -- the event's
            PRIMARY KEY (box_id, incarnation, press, kind)
        ) WITHOUT ROWID;
        CREATE TABLE finished_press (
            box_id TEXT NOT NULL,
            incarnation TEXT NOT NULL,
            press INTEGER NOT NULL,         -- max(press) per (box_id, incarnation) is the last finished
            PRIMARY KEY (box_id, incarnation, press)
        ) WITHOUT ROWID;
        """,
    ]

    /// Fills the typed columns of events that have them only in their JSON payload: rows written
    /// before schema 2, or salvaged with the columns every schema has.
    static let typedEventColumnsFromPayload = """
        UPDATE event SET detail = coalesce(json_extract(payload, '$.tag'), json_extract(payload, '$.checkpoint'),
                                           json_extract(payload, '$.badge')),
                         fix = json_extract(payload, '$.fix')
            WHERE fix IS NULL AND json_valid(payload);
        """
}
