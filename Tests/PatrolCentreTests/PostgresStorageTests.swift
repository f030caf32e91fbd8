import Foundation
import PatrolCentre
import PatrolCentrePostgres
import PatrolCore
import PatrolTestSupport
import Testing

/// `[storage] backend = "postgres"`: reading its keys, and the schema check that keeps several
/// instances from running on a database their version does not match.
@Suite struct PostgresStorageConfigTests {
    @Test func aURLOrSeparateKeysNameTheDatabase() async throws {
        let fromURL = try CentreConfig.parse("""
            [storage]
            backend = "postgres"
            url = "postgres://centre@db.district.example:6432/patrol"
            password_file = "secrets/db-password"
            tls = "require"
            """, file: "centre.toml", relativeTo: "/etc/patrol")
        let settings = try #require(fromURL.postgres)
        #expect(settings.host == "db.district.example" && settings.port == 6432 && settings.user == "centre" && settings.database == "patrol")
        #expect(settings.passwordFile == "/etc/patrol/secrets/db-password")
        #expect(settings.requiresTLS)
        let separate = try CentreConfig.parse("""
            [storage]
            backend = "postgres"
            host = "127.0.0.1"
            user = "centre"
            database = "patrol"
            """, file: "centre.toml", relativeTo: "/etc/patrol")
        #expect(separate.postgres?.host == "127.0.0.1" && separate.postgres?.user == "centre" && separate.postgres?.database == "patrol")
        #expect(separate.postgres?.port == 5432)
        #expect(separate.postgres?.requiresTLS == false)
        #expect(separate.postgres?.passwordFile == nil)
        #expect(try CentreConfig.parse("", file: "centre.toml", relativeTo: "/etc").storageBackend == .sqlite(path: "/etc/centre.db"))
    }

    @Test(arguments: [
        ("url = \"postgres://centre:secret@db/patrol\"", "storage.url", 3),
        ("url = \"mysql://centre@db/patrol\"", "storage.url", 3),
        ("url = \"postgres://centre@db/patrol\"\nhost = \"db\"", "storage.host", 4),
        ("host = \"db\"", "storage.backend", 2),
        ("url = \"postgres://centre@db/patrol\"\ntls = \"maybe\"", "storage.tls", 4),
    ])
    func aDatabaseThatCannotBeReachedAsWrittenIsReportedWithItsLineAndKey(keys: String, key: String, line: Int) {
        do {
            _ = try CentreConfig.parse("[storage]\nbackend = \"postgres\"\n" + keys, file: "centre.toml", relativeTo: "/etc")
            Issue.record("accepted: \(keys)")
        } catch {
            #expect(error.problems.map(\.key) == [key], "\(error)")
            #expect(error.problems.map(\.line) == [line], "\(error)")
        }
    }

    @Test func anUnreadablePasswordFileIsReportedWithItsKeyWhenTheCentreConnects() async throws {
        let config = try CentreConfig.parse("""
            [storage]
            backend = "postgres"
            url = "postgres://centre@127.0.0.1/patrol"
            password_file = "/nonexistent/db-password"
            """, file: "centre.toml", relativeTo: "/etc")
        let settings = try #require(config.postgres)
        #expect(throws: ConfigError.self) { try settings.password() }
        do { _ = try settings.password() } catch {
            #expect("\(error)".hasPrefix("centre.toml:4: storage.password_file: cannot read /nonexistent/db-password"), "\(error)")
        }
    }
}

@Suite(.serialized, .enabled(if: PostgresServer.isInstalled, "PostgreSQL 15 is not installed (scripts/setup.sh installs postgresql-15)"))
struct PostgresSchemaTests {
    @Test func aCentreRefusesADatabaseThatWasNotMigratedAndMigrateSetsItUp() async throws {
        let server = try PostgresServer.shared()
        let settings = try #require(PostgresSettings(url: try server.createDatabase()))
        await #expect(throws: PostgresSchemaError.older(0, PostgresCentreStorage.schemaVersion)) { try await PostgresCentreStorage(settings: settings, migrate: false) }
        _ = try await PostgresCentreStorage(settings: settings, migrate: true)
        _ = try await PostgresCentreStorage(settings: settings, migrate: true) // again: nothing to do
        let storage = try await PostgresCentreStorage(settings: settings, migrate: false)
        #expect(try await storage.devices().isEmpty)
        #expect(try server.psql("SELECT count(*) FROM patrol_schema", database: settings.database) == "\(PostgresCentreStorage.schemaVersion)")
    }

    @Test func aCentreRefusesADatabaseANewerCentreMigrated() async throws {
        let server = try PostgresServer.shared()
        let settings = try #require(PostgresSettings(url: try server.createDatabase()))
        _ = try await PostgresCentreStorage(settings: settings, migrate: true)
        _ = try server.psql("INSERT INTO patrol_schema VALUES (\(PostgresCentreStorage.schemaVersion + 1))", database: settings.database)
        await #expect(throws: PostgresSchemaError.newer(PostgresCentreStorage.schemaVersion + 1, PostgresCentreStorage.schemaVersion)) { try await PostgresCentreStorage(settings: settings, migrate: false) }
        await #expect(throws: PostgresSchemaError.newer(PostgresCentreStorage.schemaVersion + 1, PostgresCentreStorage.schemaVersion)) { try await PostgresCentreStorage(settings: settings, migrate: true) }
    }

    @Test func twoInstancesMigratingAtOnceRunEachStepOnce() async throws {
        let server = try PostgresServer.shared()
        let settings = try #require(PostgresSettings(url: try server.createDatabase()))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { _ = try await PostgresCentreStorage(settings: settings, migrate: true) } }
            try await group.waitForAll()
        }
        #expect(try server.psql("SELECT count(*) FROM patrol_schema", database: settings.database) == "\(PostgresCentreStorage.schemaVersion)")
    }

    @Test func serveRefusesAnUnmigratedDatabaseUntilPatrolCentreMigrateRan() async throws {
        let server = try PostgresServer.shared()
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let config = folder.file("centre.toml")
        try """
            [server]
            port = \(try FreePort.allocate())
            [storage]
            backend = "postgres"
            url = "\(try server.createDatabase())"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try BuiltExecutable.centre.run(["serve", "--config", config])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("schema version 0, this centre needs \(PostgresCentreStorage.schemaVersion): run `patrol-centre migrate --config FILE`"), "\(refused.stderr)")
        let migrated = try BuiltExecutable.centre.run(["migrate", "--config", config])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let added = try BuiltExecutable.centre.run(["devices", "add", "car-12", "--config", config])
        #expect(added.status == 0, "\(added.stderr)")
        let listed = try BuiltExecutable.centre.run(["devices", "list", "--config", config])
        #expect(listed.stdout.contains("car-12"), "\(listed.stdout)")
    }

    /// `devices add --jt808` on a PostgreSQL centre (refused before it stored terminals): the
    /// terminal is stored once and listed.
    @Test func jt808TerminalsAreRegisteredOnPostgreSQL() async throws {
        let server = try PostgresServer.shared()
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let config = folder.file("centre.toml")
        let jt808Port = try FreePort.allocate()
        try """
            [server]
            port = \(try FreePort.allocate())
            [storage]
            backend = "postgres"
            url = "\(try server.createDatabase())"
            [jt808]
            port = \(jt808Port)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try BuiltExecutable.centre.run(["migrate", "--config", config]).status == 0)
        let added = try BuiltExecutable.centre.run(["devices", "add", "car-7", "--jt808", "013912345678", "--config", config])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("registered as device car-7"), "\(added.stdout)")
        let again = try BuiltExecutable.centre.run(["devices", "add", "car-8", "--jt808", "013912345678", "--config", config])
        #expect(again.status != 0 && again.stderr.contains("already registered"), "\(again.stderr)")
        let listed = try BuiltExecutable.centre.run(["devices", "list", "--config", config])
        #expect(listed.stdout.contains("car-7") && !listed.stdout.contains("car-8"), "\(listed.stdout)")
    }
}

/// Two real `patrol-centre serve` processes on one PostgreSQL database, as behind a load balancer.
@Suite(.serialized, .enabled(if: PostgresServer.isInstalled, "PostgreSQL 15 is not installed (scripts/setup.sh installs postgresql-15)"))
struct PostgresInstancesTests {
    /// Two `patrol-centre serve` processes on one new database, migrated and started; `stop()` ends them.
    private struct TwoInstances {
        let url: String
        let folders: [TemporaryDirectory]
        let centres: [CentreProcess]

        init() throws {
            let url = try PostgresServer.shared().createDatabase()
            self.url = url
            folders = try (0..<2).map { _ in try TemporaryDirectory() }
            centres = try folders.map { folder in
                let centre = try CentreProcess(folder: folder.path)
                try """
                    [server]
                    address = "127.0.0.1"
                    port = \(centre.port)
                    [storage]
                    backend = "postgres"
                    url = "\(url)"
                    """.write(toFile: centre.configPath, atomically: true, encoding: .utf8)
                return centre
            }
            #expect(try centres[0].run(["migrate"]).status == 0)
            for centre in centres { try centre.start() }
        }

        func stop() {
            for centre in centres { centre.stop() }
            folders.forEach { $0.remove() }
        }
    }

    @Test func aConsoleAtOneInstanceSeesAlarmsAndMovesThatArrivedAtTheOtherWithinASecond() async throws {
        let two = try TwoInstances()
        defer { two.stop() }
        let instances = two.centres
        let key = try #require(Hex.decode(try instances[0].addDevice("car-12")))
        let added = try instances[0].run(["staff", "add", "ann", "--role", "operator", "--no-password"])
        let token = try #require(added.stdout.split(separator: "\n").last.map(String.init), "\(added.stderr)")
        let feed = try RawHTTPConnection(port: instances[0].port)
        #expect(feed.send("GET /console/api/events HTTP/1.1\r\nHost: centre\r\nAuthorization: Bearer \(token)\r\n\r\n"))
        #expect(await feed.readUntil("\r\n\r\n")?.hasPrefix("HTTP/1.1 200") == true, "the live feed at instance A is open")

        /// Sends a signed batch with panic `sequence` to `centre` and waits for its answer.
        func sendPanic(_ sequence: UInt64, to centre: CentreProcess) async throws -> Bool {
            try await send(UplinkBatch(deviceID: "car-12", events: [Sample.alarm(sequence, at: CentreClock.system.now())]), to: centre)
        }

        /// Sends `batch` signed to `centre` and waits for its answer.
        func send(_ batch: UplinkBatch, to centre: CentreProcess) async throws -> Bool {
            let now = CentreClock.system.now()
            let request = SignedRequest(device: "car-12", key: key, batch: batch, time: now)
            let connection = try RawHTTPConnection(port: centre.port)
            let head = "POST \(request.path) HTTP/1.1\r\nHost: centre\r\nContent-Length: \(request.body.count)\r\n"
                + request.headers.map { "\($0.name.rawName): \($0.value)\r\n" }.joined() + "\r\n"
            guard connection.send(Array(head.utf8) + request.body) else { return false }
            return await connection.readUntil("\r\n\r\n")?.hasPrefix("HTTP/1.1 200") == true
        }

        /// Whether SSE `frame` is the `alarm` event of alarm `id` (the JSON's keys come in any order).
        func isAlarm(_ frame: String, id: Int) -> Bool {
            frame.contains("event: alarm\n") && (frame.contains("\"id\":\(id),") || frame.contains("\"id\":\(id)}"))
        }

        let sent = ContinuousClock.now
        #expect(try await sendPanic(1, to: instances[1]), "instance B accepted the panic")
        #expect(await feed.readUntil("event: alarm\n") != nil, "instance A's console hears of it")
        // Told when it commits, not at a later poll. How soon is a figure, measured under load by
        // Benchmarks/district-load.sh --consoles (README); here a loaded test machine may take longer.
        let elapsed = ContinuousClock.now - sent
        #expect(elapsed < .seconds(5), "within 5 s: \(elapsed)")
        let alarm = try #require(await feed.readUntil("\n\n"))
        #expect(isAlarm("event: alarm\n" + alarm, id: 1) && alarm.contains(#""device":"car-12""#), "\(alarm)")

        // A's own alarm reaches its console once (not again through the database), then B's next one.
        #expect(try await sendPanic(2, to: instances[0]))
        #expect(try await sendPanic(3, to: instances[1]))
        var alarms: [String] = []
        while let frame = await feed.readUntil("\n\n"), !isAlarm(frame, id: 3) {
            if frame.contains("event: alarm\n") { alarms.append(frame) }
        }
        #expect(alarms.count == 1 && isAlarm(alarms[0], id: 2), "\(alarms)")

        // Track alone is told after its commit, with other units' moves: A's map moves the unit B heard from.
        let moved = ContinuousClock.now
        #expect(try await send(UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...5, from: CentreClock.system.now())), to: instances[1]))
        var unit: String?
        while unit == nil, let frame = await feed.readUntil("\n\n") {
            if frame.contains("event: unit\n") && frame.contains(#""fix":{"#) { unit = frame }
        }
        #expect(unit?.contains(#""device":"car-12""#) == true, "A's console hears of B's track")
        #expect(ContinuousClock.now - moved < .seconds(5), "within 5 s: \(ContinuousClock.now - moved)")
    }

    /// PostgreSQL lets one transaction that notifies commit at a time (a database-wide lock held
    /// through the commit's flush to disk), so an ingest that notified in its transaction waited for
    /// every other notifying commit: at a district's thousand ingests a second most of the centres'
    /// connections stood in COMMIT waiting for it. An ingest of track alone notifies after its commit. Here another session's
    /// notifying commit is held (it waits for a synchronous standby that never answers) and a
    /// unit's track is still answered and stored at once.
    @Test func trackIsAnsweredWhileAnotherNotifyingCommitIsHeld() async throws {
        let server = try PostgresServer()  // its own: the test changes the server's configuration
        defer { server.stop() }
        let settings = try #require(PostgresSettings(url: try server.createDatabase()))
        let database = settings.database
        // The centre's sessions do not wait for the standby; the held session below does.
        _ = try server.psql("ALTER DATABASE \(database) SET synchronous_commit = local", database: database)
        _ = try server.psql("ALTER SYSTEM SET synchronous_standby_names = 'absent'", database: database)
        _ = try server.psql("SELECT pg_reload_conf()", database: database)
        let storage = try await PostgresCentreStorage(settings: settings, migrate: true)
        #expect(try await storage.addDevice(id: "car-12", key: Secrets.randomBytes(), at: CentreClock.system.now()))
        let held = try ChildProcess(PostgresServer.binaries + "/psql", [
            "-h", "127.0.0.1", "-p", String(server.port), "-U", server.user, "-d", database,
            "-c", "SET synchronous_commit = on", "-c", "BEGIN", "-c", "CREATE TABLE held (x integer)",
            "-c", "NOTIFY another_channel", "-c", "COMMIT"])
        defer { held.signal(SIGKILL) }
        #expect(waitUntil(timeout: 30) {
            (try? server.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'", database: database)) == "1" ? true : nil
        } == true, "the other session's commit is held: \(held.output)")

        let now = CentreClock.system.now()
        let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = try await storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...5, from: now)), at: now)
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return false
            }
            let first = try await group.next() ?? false
            // Lets a waiting ingest finish (the held commit is already on disk), so the group can end.
            _ = try server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'", database: database)
            group.cancelAll()
            return first
        }
        #expect(answered, "the ingest was answered within 10 s while the other commit was held")
        #expect(try await storage.latestTrackPoint(device: "car-12")?.sequence == 5)
        await storage.close()
    }

    /// Streets across instances: north's console at instance A hears north's panic that arrived at
    /// instance B, never south's; north's escalation (made with the command line, a third process)
    /// and the district's acknowledgement at instance B reach it too.
    @Test func aStreetsConsoleHearsOnlyItsStreetAndItsEscalationsAcrossInstances() async throws {
        let two = try TwoInstances()
        defer { two.stop() }
        let (url, instances) = (two.url, two.centres)
        var keys: [String: [UInt8]] = [:]
        var tokens: [String: String] = [:]
        for (device, street) in [("car-a", "north"), ("car-b", "south")] {
            let added = try instances[0].run(["devices", "add", device, "--street", street])
            keys[device] = try #require(added.stdout.split(separator: "\n").last.flatMap { Hex.decode(String($0)) }, "\(added.stderr)")
        }
        for (name, street) in [("anna", ["--street", "north"]), ("dora", [])] {
            let added = try instances[0].run(["staff", "add", name, "--no-password"] + street)
            tokens[name] = try #require(added.stdout.split(separator: "\n").last.map(String.init), "\(added.stderr)")
        }
        let feed = try RawHTTPConnection(port: instances[0].port)
        #expect(feed.send("GET /console/api/events HTTP/1.1\r\nHost: centre\r\nAuthorization: Bearer \(tokens["anna"]!)\r\n\r\n"))
        #expect(await feed.readUntil("\r\n\r\n")?.hasPrefix("HTTP/1.1 200") == true, "north's live feed at instance A is open")

        /// Sends `request` to `centre` and returns the answer's head and body.
        func send(_ head: String, _ body: [UInt8] = [], to centre: CentreProcess) async throws -> String {
            let connection = try RawHTTPConnection(port: centre.port)
            #expect(connection.send(Array(head.utf8) + body))
            return await connection.readUntil("}") ?? ""
        }
        for device in ["car-b", "car-a"] {
            let now = CentreClock.system.now()
            let request = SignedRequest(device: device, key: keys[device]!, batch: UplinkBatch(deviceID: device, events: [Sample.alarm(1, at: now)]),
                                        time: now)
            let head = "POST \(request.path) HTTP/1.1\r\nHost: centre\r\nContent-Length: \(request.body.count)\r\n"
                + request.headers.map { "\($0.name.rawName): \($0.value)\r\n" }.joined() + "\r\n"
            #expect(try await send(head, request.body, to: instances[1]).hasPrefix("HTTP/1.1 200"), "instance B accepted \(device)'s panic")
        }
        var fed = ""
        while !fed.contains("event: alarm\n") {
            fed += try #require(await feed.readUntil("\n\n"), "north's alarm never reached instance A's feed; so far: \(fed)")
        }
        #expect(fed.contains("car-a") && !fed.contains("car-b"), "\(fed)")

        let id = try #require(try PostgresServer.shared().psql("SELECT id FROM events WHERE device = 'car-a'", database: PostgresSettings(url: url)!.database))
        let escalated = try instances[0].run(["alarms", "escalate", id, "--by", "anna", "--note", "need the district"])
        #expect(escalated.status == 0, "\(escalated.stderr)")
        let ack = try await send("POST /v1/alarms/\(id)/ack HTTP/1.1\r\nHost: centre\r\nAuthorization: Bearer \(tokens["dora"]!)\r\nContent-Length: 0\r\n\r\n",
                           to: instances[1])
        #expect(ack.hasPrefix("HTTP/1.1 200"), "\(ack)")
        while !fed.contains("event: alarm-ack\n") {
            fed += try #require(await feed.readUntil("\n\n"), "the district's acknowledgement never reached north's feed; so far: \(fed)")
        }
        #expect(fed.contains("event: alarm-escalated\n") && fed.contains(#""escalatedBy":"anna""#), "\(fed)")
        #expect(fed.contains(#""acknowledgedBy":"dora""#))
        #expect(!fed.contains("car-b"), "\(fed)")
    }
}
