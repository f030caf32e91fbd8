import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PatrolCentre
import PatrolCentrePostgres
import PatrolCore
import PatrolSQLite
import PatrolTestSupport
import Synchronization

/// A real centre for one test: a SQLite file in a fresh temp folder (or a fresh database of the
/// test process's PostgreSQL server), the real router and server on 127.0.0.1 port 0 (`.live`),
/// and a clock the test moves.
final class CentreHarness: Sendable {
    let folder: String
    let configuration: CentreConfig
    let storage: any TerminalStorage
    let backend: StorageKind
    private let millis = Mutex<Int64>(UTCTime(year: 2026, month: 3, day: 1, hour: 8).millisecondsSinceEpoch)

    init(maxBodyBytes: Int = 1 << 20) throws {
        (folder, configuration) = try Self.setUp(maxBodyBytes: maxBodyBytes)
        storage = try SQLiteCentreStorage(path: configuration.databasePath)
        backend = .sqlite
    }

    /// A centre on `backend`: for PostgreSQL, a fresh database of the test process's server, migrated.
    init(backend: StorageKind, maxBodyBytes: Int = 1 << 20) async throws {
        var (folder, configuration) = try Self.setUp(maxBodyBytes: maxBodyBytes)
        switch backend {
        case .sqlite:
            storage = try SQLiteCentreStorage(path: configuration.databasePath)
        case .postgres:
            let settings = PostgresSettings(url: try PostgresServer.shared().createDatabase())!
            configuration.postgres = settings
            storage = try await PostgresCentreStorage(settings: settings, migrate: true)
        }
        self.folder = folder
        self.configuration = configuration
        self.backend = backend
    }

    private static func setUp(maxBodyBytes: Int) throws -> (folder: String, configuration: CentreConfig) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("centre-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configuration = CentreConfig(databasePath: folder + "/centre.db")
        configuration.port = 0
        configuration.maxBodyBytes = maxBodyBytes
        configuration.silentAfterSeconds = 60
        configuration.clockSkewSeconds = 300
        return (folder, configuration)
    }

    /// A second centre instance on the same database (PostgreSQL: a pool of its own; SQLite: a
    /// second connection to the file), as another `patrol-centre serve` would open it.
    func secondInstance() async throws -> any TerminalStorage {
        switch configuration.storageBackend {
        case .sqlite(let path): try SQLiteCentreStorage(path: path)
        case .postgres(let settings): try await PostgresCentreStorage(settings: settings, migrate: false)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    var now: UTCTime { UTCTime(millisecondsSinceEpoch: millis.withLock { $0 }) }
    var clock: CentreClock { CentreClock { [self] in now } }
    func advance(seconds: Int64) { millis.withLock { $0 += seconds * 1000 } }

    func router() -> Router<CentreRequestContext> {
        CentreApplication.router(storage: storage, configuration: configuration, clock: clock, logger: Logger(label: "test-centre"))
    }

    /// Runs `body` against the live server.
    func live<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = try CentreApplication.make(storage: storage, configuration: configuration, clock: clock,
                                             logger: Logger(label: "test-centre"))
        return try await app.test(.live) { client in try await body(client) }
    }

    /// A centre.toml beside the store, for running the real `patrol-centre` commands on it; its path.
    func writeConfig() throws -> String {
        let config = folder + "/centre.toml"
        try "[storage]\ndatabase = \"centre.db\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Registers a device and returns its key.
    func addDevice(_ id: String) async throws -> [UInt8] {
        let key = Secrets.randomBytes()
        _ = try await storage.addDevice(id: id, key: key, at: now)
        return key
    }

    func addStaff(_ name: String, role: StaffRole = .admin) async throws -> String {
        let token = Secrets.newStaffToken()
        _ = try await storage.addStaff(StaffMember(name: name, role: role, passwordHash: nil, createdAt: now),
                                       tokenHash: Secrets.staffTokenHash(token))
        return token
    }

    /// Counts rows through a second connection: what it sees is what was committed.
    func committedCount(_ table: String) throws -> Int64 {
        switch configuration.storageBackend {
        case .sqlite(let path):
            return try SQLiteConnection(path: path).integer("SELECT count(*) FROM \(table)")
        case .postgres(let settings):
            let count = try PostgresServer.shared().psql("SELECT count(*) FROM \(table)", database: settings.database)
            guard let count = Int64(count) else { throw PostgresServerError(description: "psql answered \(count)") }
            return count
        }
    }
}

/// A device's signed request, as the agent will send it.
struct SignedRequest {
    var device: String
    var key: [UInt8]
    var body: [UInt8]
    var time: UTCTime
    var nonce = Hex.encode(Secrets.randomBytes(count: 16))
    var path = "/v1/ingest"
    var contentType = UplinkBatch.contentType

    init(device: String, key: [UInt8], batch: UplinkBatch, time: UTCTime) {
        self.device = device
        self.key = key
        self.body = batch.encoded()
        self.time = time
    }

    var headers: HTTPFields {
        let signature = RequestSignature.signature(key: key, method: "POST", path: path, timestampMilliseconds: time.millisecondsSinceEpoch,
                                                   nonce: nonce, body: body)
        return [
            HTTPField.Name(RequestSignature.deviceHeader)!: device,
            HTTPField.Name(RequestSignature.timestampHeader)!: String(time.millisecondsSinceEpoch),
            HTTPField.Name(RequestSignature.nonceHeader)!: nonce,
            HTTPField.Name(RequestSignature.signatureHeader)!: signature,
            .contentType: contentType,
        ]
    }

    func send(_ client: any TestClientProtocol) async throws -> TestResponse {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }
}

extension TestResponse {
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: body))
    }

    /// The body as a JSON object, for error responses.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
}

enum Sample {
    static func track(_ sequences: ClosedRange<UInt64>, from start: UTCTime) -> [TrackRecord] {
        sequences.map { sequence in
            let offset = Int64(sequence - sequences.lowerBound)
            return TrackRecord(sequence: sequence, timeMilliseconds: start.millisecondsSinceEpoch + offset * 1000,
                                  latitudeE7: 525_200_000 + offset * 120, longitudeE7: 134_050_000 + offset * 90,
                                  altitudeDecimetres: 340, speedCentimetresPerSecond: 1200, trackCentidegrees: 4500,
                                  hdopHundredths: 90, satellitesUsed: 10)
        }
    }

    static func alarm(_ sequence: UInt64, at time: UTCTime) -> UplinkEvent {
        UplinkEvent(sequence: sequence, kind: EventKind.panic(silent: false).code, time: time, timeSource: "gnss",
                    position: UplinkEventPosition(latitudeE7: 525_200_000, longitudeE7: 134_050_000, fixAgeMilliseconds: 900),
                    buttonID: "panic", payloadJSON: #"{"held_ms":1500}"#)
    }
}
