import Foundation
import PatrolCentre
import PatrolCentrePostgres
import PatrolConsole
import PatrolCore
import PatrolSQLite
import PatrolTestSupport
import Testing

/// A street centre's file as the real `SQLiteCentreStorage` wrote it: two boards (one revoked), a
/// JT/T 808 terminal in an emergency episode, staff with a console password, 50,000 track points
/// (three import batches), heartbeats, alarms acknowledged with a note and open, a check-in, a
/// downlink message the board has not confirmed, duty, audit and nonces.
private struct Street {
    let centre: CentreHarness
    var storage: any TerminalStorage { centre.storage }
    var path: String { centre.configuration.databasePath }
    let key: [UInt8]
    let password = "correct horse battery"
    /// The highest downlink id the board `car-12` confirmed at the street.
    let confirmedThrough: Int64

    init() async throws {
        centre = try CentreHarness()
        let now = centre.now
        let storage = centre.storage
        key = try await centre.addDevice("car-12")
        _ = try await centre.addDevice("car-7")
        _ = try await storage.revokeDevice(id: "car-7", at: now.adding(seconds: 60))
        let member = StaffMember(name: "ann", role: .supervisor, passwordHash: try PasswordHash.make(password), createdAt: now)
        _ = try await storage.addStaff(member, tokenHash: Secrets.staffTokenHash("ann's token"))
        _ = try await centre.addStaff("script", role: .operator)

        for (device, first) in [("car-12", UInt64(1)), ("car-7", UInt64(1))] {
            let points = Sample.track(first...first + 24_999, from: now)
            for start in stride(from: 0, to: points.count, by: 5000) {
                _ = try await storage.ingest(UplinkBatch(deviceID: device, trackPoints: Array(points[start..<start + 5000])), at: now)
            }
        }
        let heartbeats = (1...3).map { UplinkHeartbeat(sequence: UInt64($0), time: now.adding(seconds: Double($0) * 60), timeSource: "gnss",
                                                       pendingRecords: UInt64($0)) }
        let checkIn = UplinkEvent(sequence: 7, kind: "check-in", time: now.adding(seconds: 5), timeSource: "gnss", buttonID: "tag-3",
                                  payloadJSON: #"{"tag":"gate"}"#)
        // Alarms 1 to 5 acknowledged and confirmed by the board (downlink ids 1 to 5), 6 acknowledged
        // and waiting for the board, 8 open.
        _ = try await storage.ingest(UplinkBatch(deviceID: "car-12", events: (1...6).map { Sample.alarm($0, at: now) } + [checkIn],
                                                 heartbeats: heartbeats), at: now)
        for alarm in try await storage.alarms(openOnly: true) {
            _ = try await storage.acknowledgeAlarm(id: alarm.id, by: "ann", at: now.adding(seconds: 30))
            try await storage.appendAudit(AuditEntry(time: now.adding(seconds: 30), actor: "ann", action: AuditEntry.Action.alarmAcknowledged,
                                                     subject: AuditEntry.alarmSubject(alarm.id), detail: "called \(alarm.event.sequence)"))
        }
        confirmedThrough = try #require(try await storage.pendingDownlink(device: "car-12").dropLast().last).id
        var confirmed = UplinkBatch(deviceID: "car-12", events: [Sample.alarm(8, at: now.adding(seconds: 40))])
        confirmed.downlinkAcknowledgedThrough = UInt64(confirmedThrough)
        _ = try await storage.ingest(confirmed, at: now.adding(seconds: 40))

        #expect(try await storage.addTerminal(id: "truck-1", phone: "13912345678", at: now))
        try await storage.setTerminalAuthCode([9, 8, 7], phone: "13912345678")
        let sos = TerminalReport(sequence: 3, time: now.adding(seconds: 10), point: Sample.track(3...3, from: now)[0], emergency: true,
                                 detailsJSON: "{}")
        _ = try await storage.ingestTerminalReports([sos], device: "truck-1", at: now.adding(seconds: 10))

        try await storage.addDutyRecord(CentreDutyRecord(person: "p-4", device: "car-12", change: .signOn, time: now, recordedBy: "ann",
                                                         recordedAt: now.adding(seconds: 1)))
        try await storage.appendAudit(AuditEntry(time: now, actor: "ann", action: AuditEntry.Action.signIn, address: "10.0.0.5"))
        // Two signed requests' nonces, one of them expired: nothing in their batches.
        let nothing = UplinkBatch(deviceID: "car-12")
        _ = try await storage.ingest(nothing, usingUp: RequestNonce("fresh", until: now.adding(seconds: 600)), at: now)
        _ = try await storage.ingest(nothing, usingUp: RequestNonce("stale", until: now.adding(seconds: -600)), at: now.adding(seconds: -900))
    }
}

/// `patrol-centre import-sqlite`: a street's SQLite file (made by the real storage) moved into a real
/// PostgreSQL district, read back through the storage protocol on both sides.
@Suite(.serialized, .enabled(if: PostgresServer.isInstalled, "PostgreSQL 15 is not installed (scripts/setup.sh installs postgresql-15)"))
struct ImportSQLiteTests {
    private func importStreet(_ street: Street, into district: CentreHarness, joining streetID: String? = nil) async throws -> [SQLiteImport.TableCount] {
        try await SQLiteImport.run(from: street.path, into: try #require(district.configuration.postgres), joining: streetID,
                                   now: district.now) { _ in }
    }

    @Test func everythingReadsBackTheSameOnTheDistrict() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        // The district has an alarm already, so it numbers the street's alarms differently.
        _ = try await district.storage.ingest(UplinkBatch(deviceID: "car-99", events: [Sample.alarm(1, at: district.now)]), at: district.now)
        let counts = try await importStreet(street, into: district)
        let track = try #require(counts.first { $0.table == "track_points" })
        #expect(track.read == 50_001 && track.added == 50_001)
        #expect(counts.first { $0.table == "nonces" }?.added == 1, "only the nonce that has not expired")

        let (from, to) = (street.storage, district.storage)
        #expect(try await to.devices() == from.devices())
        #expect(try await to.staffMembers() == from.staffMembers())
        #expect(try await to.staffMember(tokenHash: Secrets.staffTokenHash("ann's token"))?.name == "ann")
        let strip = { (alarms: [Alarm]) in alarms.filter { $0.deviceID != "car-99" }.map { alarm in var alarm = alarm; alarm.id = 0; return alarm } }
        #expect(try await strip(to.alarms(openOnly: false)) == strip(from.alarms(openOnly: false)))
        #expect(try await to.alarms(openOnly: false).count == 9)
        let day = district.now.adding(seconds: -86_400)..<district.now.adding(seconds: 86_400)
        for device in ["car-12", "car-7", "truck-1"] {
            var (fromPoints, toPoints) = ([TrackRecord](), [TrackRecord]())
            try await from.forEachTrackPoint(device: device, in: day, pageSize: 4096) { fromPoints.append($0) }
            try await to.forEachTrackPoint(device: device, in: day, pageSize: 4096) { toPoints.append($0) }
            #expect(toPoints == fromPoints && !toPoints.isEmpty, "\(device)")
            #expect(try await to.heartbeatTimes(device: device, in: day) == from.heartbeatTimes(device: device, in: day))
            #expect(try await to.events(device: device, in: day) == from.events(device: device, in: day))
            #expect(try await to.latestTrackPoint(device: device) == from.latestTrackPoint(device: device))
        }
        #expect(try await to.reportedBacklogs() == from.reportedBacklogs())
        #expect(try await to.dutyRecords(in: day) == from.dutyRecords(in: day))
        let stripAudit = { (entries: [AuditEntry]) in entries.map { entry in var entry = entry; entry.id = 0; entry.subject = nil; return entry } }
        #expect(try await stripAudit(to.auditEntries(in: nil, limit: 100)) == stripAudit(from.auditEntries(in: nil, limit: 100)))
        // Each acknowledgement's note stays with its alarm, under the district's id for it.
        func notes(_ storage: any TerminalStorage) async throws -> [String: String] {
            let alarms = try await storage.alarms(openOnly: false)
            let notes = try await storage.acknowledgementNotes(alarmIDs: alarms.map(\.id))
            return Dictionary(alarms.compactMap { alarm in notes[alarm.id].map { ("\(alarm.deviceID) \(alarm.event.sequence)", $0) } },
                              uniquingKeysWith: { first, _ in first })
        }
        let districtNotes = try await notes(to)
        #expect(try await districtNotes == notes(from) && districtNotes.count == 6)
        #expect(try await to.requestSigner(device: "car-12", nonce: "fresh", at: district.now)?.nonceIsUsed == true)
        #expect(try await to.pendingDownlink(device: "car-12") == from.pendingDownlink(device: "car-12"))

        // The terminal: found by its phone with its code, its open episode kept (its flag still set
        // raises no second alarm).
        #expect(try await to.terminalDevice(phone: "13912345678") == "truck-1")
        #expect(try await to.terminalAuthCode(phone: "13912345678") == [9, 8, 7])
        let still = TerminalReport(sequence: 4, time: district.now.adding(seconds: 20), point: nil, emergency: true, detailsJSON: "{}")
        _ = try await to.ingestTerminalReports([still], device: "truck-1", at: district.now.adding(seconds: 20))
        #expect(try await to.alarms(openOnly: false).count == 9)
    }

    /// Also not a downlink message the device confirmed at the district in between.
    @Test func aSecondImportAddsNothing() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        _ = try await importStreet(street, into: district)
        var confirmed = UplinkBatch(deviceID: "car-12")
        confirmed.downlinkAcknowledgedThrough = UInt64(try #require(try await district.storage.pendingDownlink(device: "car-12").last).id)
        #expect(try await district.storage.ingest(confirmed, at: district.now).isEmpty)
        let tables = ["devices", "staff", "terminals", "track_points", "heartbeats", "events", "downlink", "duty_records", "audit", "nonces"]
        let before = try tables.map { try district.committedCount($0) }
        let again = try await importStreet(street, into: district)
        #expect(again.map(\.added) == Array(repeating: 0, count: again.count), "\(again)")
        #expect(again.map(\.table).sorted() == tables.sorted())
        #expect(try tables.map { try district.committedCount($0) } == before)
        #expect(try await district.storage.pendingDownlink(device: "car-12").isEmpty)
    }

    /// The device confirmed downlink ids 1 to 5 at the street and has 6 waiting. At the district it
    /// gets 6 once (or not again, when it had handled it before the move), and an acknowledgement
    /// made at the district gets an id above 5: a device skips ids it has handled.
    @Test(arguments: [false, true])
    func anOpenAlarmStaysAcknowledgeableAndEachDownlinkMessageReachesTheDeviceOnce(handledBeforeTheMove: Bool) async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        _ = try await importStreet(street, into: district)
        let pending = try #require(try await street.storage.pendingDownlink(device: "car-12").first)
        let handled = handledBeforeTheMove ? pending.id : street.confirmedThrough

        /// What the board's uplink does with an answer: acts on ids above the highest it handled.
        var through = handled
        func ingest() async throws -> [UInt64] {
            var batch = UplinkBatch(deviceID: "car-12")
            batch.downlinkAcknowledgedThrough = UInt64(through)
            let delivered = try await district.storage.ingest(batch, at: district.now).filter { $0.id > through }
            through = delivered.last?.id ?? through
            return delivered.map(\.alarmSequence)
        }
        #expect(try await ingest() == (handledBeforeTheMove ? [] : [6]))
        #expect(try await ingest() == [])

        let open = try #require(try await district.storage.alarms(openOnly: true).first { $0.deviceID == "car-12" })
        #expect(open.event.sequence == 8)
        guard case .acknowledged = try await district.storage.acknowledgeAlarm(id: open.id, by: "ann", at: district.now) else {
            Issue.record("the imported open alarm could not be acknowledged")
            return
        }
        #expect(try await ingest() == [8])
        #expect(try await ingest() == [])
    }

    /// A console on a running district instance shows the imported open alarms at once.
    @Test func runningInstancesAreToldOfTheImportedOpenAlarms() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        @Sendable func announced(_ changes: [CentreChange]) -> [String: [UInt64]] {
            var announced: [String: [UInt64]] = [:]
            for case .ingested(let device, let events, _) in changes { announced[device] = events.map(\.sequence) }
            return announced
        }
        let heard = try await changesHeard(at: district, while: { _ = try await importStreet(street, into: district) },
                                           until: { announced($0).count == 2 })
        #expect(heard.map(announced) == ["car-12": [8], "truck-1": [3]])
    }

    /// The street escalated its open alarm after the first import, then acknowledged it: each next
    /// import carries that into the district, and running instances hear of it.
    @Test func whatTheStreetDidToAnImportedAlarmIsCarriedByTheNextImport() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        _ = try await importStreet(street, into: district)
        let atStreet = try #require(try await street.storage.alarms(openOnly: true).first { $0.deviceID == "car-12" })
        let escalation = AlarmEscalation(by: "ann", at: street.centre.now.adding(seconds: 50), note: "needs the district")
        _ = try await street.storage.escalateAlarm(id: atStreet.id, by: escalation.by, note: escalation.note, at: escalation.at)

        @Sendable func escalated(_ changes: [CentreChange]) -> [AlarmEscalation] {
            changes.compactMap { if case .alarmEscalated(let alarm, _) = $0 { alarm.escalation } else { nil } }
        }
        let escalations = try await changesHeard(at: district, while: { _ = try await importStreet(street, into: district) },
                                                 until: { !escalated($0).isEmpty })
        #expect(escalations.map(escalated) == [escalation], "a running instance hears of the escalation")
        let inDistrict = try #require(try await district.storage.alarms(openOnly: true).first { $0.deviceID == "car-12" })
        #expect(inDistrict.event.sequence == atStreet.event.sequence && inDistrict.escalation == escalation)

        _ = try await street.storage.acknowledgeAlarm(id: atStreet.id, by: "ann", at: street.centre.now.adding(seconds: 60))
        @Sendable func acknowledged(_ changes: [CentreChange]) -> [Int64] {
            changes.compactMap { if case .alarmAcknowledged(let alarm, _, _) = $0 { alarm.id } else { nil } }
        }
        let acknowledgements = try await changesHeard(at: district, while: { _ = try await importStreet(street, into: district) },
                                                      until: { !acknowledged($0).isEmpty })
        #expect(acknowledgements.map(acknowledged) == [inDistrict.id], "a running instance hears of the acknowledgement")
        #expect(try await district.storage.alarm(id: inDistrict.id)?.acknowledgedBy == "ann")
        #expect(try await district.storage.pendingDownlink(device: "car-12").map(\.alarmSequence).contains(atStreet.event.sequence),
                "the board is told, as of an acknowledgement at the district")
    }

    /// What a running district instance hears through the database (as from another instance)
    /// while `action` runs, gathered until `done` holds; nil when it does not within 60 s.
    private func changesHeard(at district: CentreHarness, while action: @escaping @Sendable () async throws -> Void,
                              until done: @escaping @Sendable ([CentreChange]) -> Bool) async throws -> [CentreChange]? {
        let instance = try #require(district.storage as? PostgresCentreStorage)
        let other = try await district.secondInstance()
        let feed = CentreChanges()
        let subscription = feed.subscribe()
        let relay = Task { try await instance.relayChanges(to: feed) }
        defer { relay.cancel() }
        return try await withThrowingTaskGroup(of: [CentreChange]?.self) { group in
            group.addTask {
                var changes = subscription.changes.makeAsyncIterator()
                // Listening once another instance's alarm comes through.
                let probe = Task {
                    for sequence in UInt64(1)... where !Task.isCancelled {
                        _ = try await other.ingest(UplinkBatch(deviceID: "probe", events: [Sample.alarm(sequence, at: district.now)]), at: district.now)
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                while case .ingested(device: let device, _, _)? = await changes.next(), device != "probe" {}
                probe.cancel()
                _ = try? await probe.value

                try await action()
                var heard: [CentreChange] = []
                while !done(heard), let change = await changes.next() {
                    if case .ingested(device: "probe", _, _) = change { continue }
                    heard.append(change)
                }
                return heard
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    @Test func aConflictingDeviceOrStaffMemberIsRefusedWithNothingWritten() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        _ = try await district.addDevice("car-12") // another board with the same id: another key
        _ = try await district.addStaff("ann")
        await #expect(throws: SQLiteImportRefusal.self) { try await importStreet(street, into: district) }
        do { _ = try await importStreet(street, into: district) } catch {
            #expect("\(error)".contains("device car-12 is registered in the district with a different key"), "\(error)")
            #expect("\(error)".contains("staff member ann exists in the district with a different token"), "\(error)")
        }
        for table in ["track_points", "events", "heartbeats", "downlink", "audit", "duty_records", "nonces", "terminals"] {
            #expect(try district.committedCount(table) == 0, "\(table)")
        }
        #expect(try district.committedCount("devices") == 1 && district.committedCount("staff") == 1)
    }

    @Test func staffSignInToTheDistrictsConsoleWithTheirStreetPassword() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        _ = try await importStreet(street, into: district)
        try await district.consoleLive { client in
            let session = try await ConsoleSignIn(client, "ann", street.password)
            let alarms = try await session.get(client, "/console/api/alarms?open=true").json["alarms"] as? [[String: Any]]
            #expect(alarms?.count == 2, "car-12's alarm 8 and the terminal's")
            #expect(try await ConsoleSignIn.post(client, "ann", "not the password").status == .unauthorized)
        }
    }

    /// A street's own file assigns its units and staff to no street: `--street` makes them the
    /// street's, so its guards see only their street at the district, while the district's own
    /// staff and units stay the district's.
    @Test func theFilesUnitsAndStaffJoinTheStreetTheyAreImportedInto() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        _ = try await district.addDevice("car-99")
        _ = try await district.addStaff("dora", role: .supervisor)
        _ = try await importStreet(street, into: district, joining: "north")
        let storage = district.storage
        #expect(try await storage.devices().map { "\($0.id) \($0.street ?? "district")" }
                == ["car-12 north", "car-7 north", "car-99 district", "truck-1 north"])
        #expect(try await storage.staffMembers().map { "\($0.name) \($0.street ?? "district")" }
                == ["ann north", "dora district", "script north"])
        #expect(try await storage.alarms(openOnly: false, in: .street("north")).count == 8)
        #expect(try await storage.alarms(openOnly: false, in: .street("south")).isEmpty)
    }

    /// The street centre keeps writing while the import reads: the import sees the file as it was
    /// when it started (one read transaction, WAL) and does not block the writer.
    @Test func theImportReadsOneSnapshotOfAFileBeingWritten() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        let writer = try SQLiteConnection(path: street.path)
        // Committed after the devices were read and before the track is.
        let counts = try await SQLiteImport.run(from: street.path, into: try #require(district.configuration.postgres), joining: nil,
                                                now: district.now) { line in
            if line.hasPrefix("devices:") { try? writer.executeScript("DELETE FROM track_points WHERE device = 'car-7'") }
        }
        #expect(counts.first { $0.table == "track_points" }?.added == 50_001, "the delete committed during the import is not seen")
        #expect(try SQLiteConnection(path: street.path).integer("SELECT count(*) FROM track_points") == 25_001)
        #expect(try SQLiteConnection(path: street.path).integer("PRAGMA user_version") == Int64(SQLiteCentreStorage.schemaVersion))
    }

    /// A file of schema version 4 (before roles, the audit log, terminals and nonces) is read as it
    /// is: its staff become admins without a password, as version 5's migration makes them.
    @Test func aFileOfAnOlderSchemaIsImportedAsItsMigrationWouldReadIt() async throws {
        let street = try await Street()
        try SQLiteConnection(path: street.path).executeScript("""
            DROP TABLE nonces; DROP TABLE terminals; DROP TABLE audit; DROP TABLE staff_sessions; DROP TABLE sign_in_failures;
            ALTER TABLE staff DROP COLUMN role; ALTER TABLE staff DROP COLUMN password; PRAGMA user_version = 4;
            """)
        let district = try await CentreHarness(backend: .postgres)
        let counts = try await importStreet(street, into: district)
        #expect(counts.first { $0.table == "audit" }?.read == 0 && counts.first { $0.table == "terminals" }?.read == 0)
        #expect(try await district.storage.staffMembers().map { "\($0.name) \($0.role) \($0.passwordHash == nil)" }
                == ["ann admin true", "script admin true"])
        #expect(try district.committedCount("track_points") == 50_001)
        #expect(try district.committedCount("duty_records") == 1)
    }

    @Test func aFileOfANewerSchemaOrNotACentresIsRefused() async throws {
        let street = try await Street()
        let district = try await CentreHarness(backend: .postgres)
        try SQLiteConnection(path: street.path).executeScript("PRAGMA user_version = 99")
        do {
            _ = try await importStreet(street, into: district)
            Issue.record("a newer file was imported")
        } catch {
            #expect("\(error)".contains("schema version 99, newer than this centre's \(SQLiteCentreStorage.schemaVersion)"), "\(error)")
        }
        let settings = try #require(district.configuration.postgres)
        await #expect(throws: SQLiteImportRefusal.self) {
            try await SQLiteImport.run(from: street.centre.folder + "/missing.sqlite", into: settings, joining: nil, now: district.now) { _ in }
        }
        #expect(!FileManager.default.fileExists(atPath: street.centre.folder + "/missing.sqlite"), "nothing is created")
        #expect(try district.committedCount("devices") == 0)
    }

    /// The command as an operator runs it: a SQLite configuration is refused with its key; the
    /// district's imports and prints a count per table.
    @Test func theCommandRefusesASQLiteConfigurationAndPrintsACountPerTable() async throws {
        let street = try await Street()
        let refused = try BuiltExecutable.centre.run(["import-sqlite", "--config", try street.centre.writeConfig(), "--from", street.path, "--district"])
        #expect(refused.status != 0 && refused.stderr.contains("storage.backend"), "\(refused.stderr)")
        let district = try await CentreHarness(backend: .postgres)
        let settings = try #require(district.configuration.postgres)
        let config = district.folder + "/district.toml"
        try """
            [storage]
            backend = "postgres"
            url = "postgres://\(settings.user)@\(settings.host):\(settings.port)/\(settings.database)"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let unsaid = try BuiltExecutable.centre.run(["import-sqlite", "--config", config, "--from", street.path])
        #expect(unsaid.status != 0 && unsaid.stderr.contains("give either --street S"), "\(unsaid.stderr)")
        let imported = try BuiltExecutable.centre.run(["import-sqlite", "--config", config, "--from", street.path, "--street", "north"], timeout: 120)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try await district.storage.devices(in: .street("north")).map(\.id) == ["car-12", "car-7", "truck-1"])
        #expect(imported.stdout.contains("track_points: 50001 read, 50001 added"), "\(imported.stdout)")
        #expect(imported.stdout.contains("committed:"), "\(imported.stdout)")
    }
}
