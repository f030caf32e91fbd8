import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

/// Streets within a district, as both backends store them: a device's and a staff member's street,
/// the scoped reads every route makes, and an alarm's escalation to the district desk.
extension StorageConformanceTests {
    @Test(arguments: StorageKind.available)
    func devicesAndStaffBelongToAStreetOrTheDistrictAndCanBeMoved(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        #expect(try await centre.storage.addDevice(id: "car-a", key: [1], street: "north", at: now))
        #expect(try await centre.storage.addDevice(id: "car-b", key: [2], street: "south", at: now))
        #expect(try await centre.storage.addDevice(id: "car-d", key: [3], at: now))
        #expect(try await other.device(id: "car-a")?.street == "north")
        #expect(try await other.devices(in: .street("north")).map(\.id) == ["car-a"])
        #expect(try await other.devices(in: .district).map(\.id) == ["car-a", "car-b", "car-d"], "the district sees every street and its own")
        #expect(try await other.devices(in: .street("east")).isEmpty)

        #expect(try await other.assignDevice(id: "car-b", street: "north"))
        #expect(try await !other.assignDevice(id: "car-99", street: "north"), "no such device")
        #expect(try await centre.storage.devices(in: .street("north")).map(\.id) == ["car-a", "car-b"])
        #expect(try await centre.storage.device(id: "car-b", in: .street("south")) == nil, "moved out of south")
        #expect(try await other.assignDevice(id: "car-b", street: nil))
        #expect(try await centre.storage.device(id: "car-b", in: .street("north")) == nil, "the district's own: district staff only")
        #expect(try await centre.storage.device(id: "car-b", in: .district)?.street == nil)

        let anna = StaffMember(name: "anna", role: .admin, passwordHash: nil, createdAt: now, street: "north")
        #expect(try await centre.storage.addStaff(anna, tokenHash: Secrets.staffTokenHash("token-of-anna")))
        #expect(try await other.staffMember(tokenHash: Secrets.staffTokenHash("token-of-anna")) == anna)
        #expect(try await other.staffMember(name: "anna")?.scope == .street("north"))
        try await other.addSession(idHash: [0xA1], name: "anna", csrfToken: "c", at: now)
        #expect(try await centre.storage.session(idHash: [0xA1])?.staff.scope == .street("north"), "a session carries its staff member's street")
    }

    @Test(arguments: StorageKind.available)
    func aStreetSeesOnlyItsAlarmsAndAnotherStreetsAlarmReadsAsNone(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        _ = try await centre.storage.addDevice(id: "car-a", key: [1], street: "north", at: now)
        _ = try await centre.storage.addDevice(id: "car-b", key: [2], street: "south", at: now)
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-a", events: [Sample.alarm(1, at: now)]), at: now)
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-b", events: [Sample.alarm(1, at: now)]), at: now)
        let all = try await centre.storage.alarms(openOnly: true, in: .district)
        #expect(all.map(\.deviceID) == ["car-a", "car-b"])
        #expect(all.map(\.street) == ["north", "south"])
        #expect(try await centre.storage.alarms(openOnly: false, in: .street("north")).map(\.deviceID) == ["car-a"])
        let southAlarm = try #require(all.last)
        #expect(try await centre.storage.alarm(id: southAlarm.id, in: .street("north")) == nil)
        #expect(try await centre.storage.alarm(id: southAlarm.id, in: .street("south")) == southAlarm)
        #expect(try await centre.storage.acknowledge(alarm: southAlarm.id, by: "anna", scope: .street("north"), note: nil, at: now,
                                                     changes: nil) == .notFound, "as for an alarm that does not exist")
        #expect(try await centre.storage.alarms(openOnly: true, in: .district).count == 2, "and it stays open")
    }

    @Test(arguments: StorageKind.available)
    func anEscalatedAlarmCarriesItsHistoryAndTheDistrictsAcknowledgementReachesTheDevice(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        _ = try await centre.storage.addDevice(id: "car-a", key: [1], street: "north", at: now)
        #expect(try await centre.storage.addTerminal(id: "van-a", phone: "13912345678", at: now))
        #expect(try await centre.storage.assignDevice(id: "van-a", street: "north"))
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-a", events: [Sample.alarm(5, at: now)]), at: now)
        _ = try await centre.storage.ingestTerminalReports([TerminalReport(sequence: 9, time: now, point: nil, emergency: true, detailsJSON: "{}")],
                                                           device: "van-a", at: now)
        let anna = StaffMember(name: "anna", role: .operator, passwordHash: nil, createdAt: now, street: "north")
        let dora = StaffMember(name: "dora", role: .operator, passwordHash: nil, createdAt: now)
        let bert = StaffMember(name: "bert", role: .operator, passwordHash: nil, createdAt: now, street: "south")
        let changes = CentreChanges()
        let heard = changes.subscribe()

        for alarm in try await centre.storage.alarms(openOnly: true, in: .street("north")) {
            #expect(try await centre.storage.escalate(alarm: alarm.id, by: bert, note: "not ours", at: now, changes: changes) == .notFound)
            await #expect(throws: CentreError.self, "the district desk does not escalate to itself") {
                try await centre.storage.escalate(alarm: alarm.id, by: dora, note: "?", at: now, changes: changes)
            }
            let later = now.adding(seconds: 30)
            guard case .escalated(let escalated) = try await centre.storage.escalate(alarm: alarm.id, by: anna, note: "shots heard, need backup",
                                                                                    at: later, changes: changes) else {
                Issue.record("not escalated")
                return
            }
            #expect(escalated.escalation == AlarmEscalation(by: "anna", at: later, note: "shots heard, need backup"))
            guard case .alreadyEscalated = try await other.escalateAlarm(id: alarm.id, by: "anna", note: "again", at: later) else {
                Issue.record("escalated twice")
                return
            }
            #expect(try await other.alarm(id: alarm.id)?.escalation == escalated.escalation, "every instance sees it escalated")
            guard case .acknowledged = try await other.acknowledge(alarm: alarm.id, by: "dora", scope: dora.scope, note: "units sent",
                                                                   at: later.adding(seconds: 60), changes: changes) else {
                Issue.record("the district could not acknowledge")
                return
            }
            guard case .alreadyAcknowledged = try await centre.storage.escalateAlarm(id: alarm.id, by: "anna", note: "late", at: later) else {
                Issue.record("an acknowledged alarm was escalated")
                return
            }
        }
        // The board hears of the district's acknowledgement at its next upload, the terminal from the listener's pending downlink.
        #expect(try await centre.storage.ingest(UplinkBatch(deviceID: "car-a"), at: now).map(\.acknowledgedBy) == ["dora"])
        #expect(try await other.pendingDownlink(device: "van-a").map(\.acknowledgedBy) == ["dora"])
        let audit = try await centre.storage.auditEntries(in: nil, limit: 100)
        #expect(audit.filter { $0.action == AuditEntry.Action.alarmEscalated }.map { "\($0.actor): \($0.detail ?? "")" }
                == ["anna: shots heard, need backup", "anna: shots heard, need backup"])
        // Published before `escalate` and `acknowledge` returned: already buffered, read within a bounded wait.
        let reader = Task {
            var published: [String] = []
            for await change in heard.changes {
                switch change {
                case .alarmEscalated(let alarm, _): published.append("escalated \(alarm.deviceID)")
                case .alarmAcknowledged(let alarm, _, _): published.append("acknowledged \(alarm.deviceID)")
                case .ingested: break
                }
                if published.count == 4 { break }
            }
            return published
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(5))
            reader.cancel()
        }
        #expect(await reader.value == ["escalated car-a", "acknowledged car-a", "escalated van-a", "acknowledged van-a"])
        timeout.cancel()
    }
}
