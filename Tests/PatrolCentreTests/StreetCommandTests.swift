import Foundation
import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

/// Streets on the command line, as an administrator runs it: the real `patrol-centre` on a real
/// store. A street's staff member acting with `--by` reaches only their street; reading commands
/// take `--street`.
@Suite struct StreetCommandTests {
    func centre(_ arguments: [String], _ config: String) throws -> (status: Int32?, stdout: String, stderr: String) {
        try BuiltExecutable.centre.run(arguments + ["--config", config], input: "")
    }

    @Test func aStreetsStaffMemberActsOnlyOnTheirStreetAndReadingCommandsTakeAStreet() async throws {
        let harness = try CentreHarness()
        let config = try harness.writeConfig()
        for (device, street) in [("car-a", "north"), ("car-b", "south")] {
            let added = try centre(["devices", "add", device, "--street", street], config)
            #expect(added.status == 0, "\(added.stderr)")
        }
        #expect(try centre(["devices", "add", "car-c", "--street", "two words"], config).stderr.contains("--street two words"))
        let staff = try centre(["staff", "add", "anna", "--street", "north", "--no-password"], config)
        #expect(staff.status == 0 && staff.stdout.contains("anna (operator, street north) added"), "\(staff.stdout) \(staff.stderr)")
        #expect(try await harness.storage.staffMember(name: "anna")?.street == "north")
        for device in ["car-a", "car-b"] {
            _ = try await harness.storage.ingest(UplinkBatch(deviceID: device, events: [Sample.alarm(1, at: harness.now)]), at: harness.now)
        }
        let alarms = try await harness.storage.alarms(openOnly: true)
        let (aAlarm, bAlarm) = (alarms[0].id, alarms[1].id)

        let north = try centre(["alarms", "list", "--street", "north"], config)
        #expect(north.stdout.contains("car-a") && !north.stdout.contains("car-b"), "\(north.stdout)")
        let all = try centre(["alarms", "list"], config)
        #expect(all.stdout.contains("car-a") && all.stdout.contains("car-b"), "the district sees every street")

        // B's alarm answers as an alarm that does not exist, and stays open.
        let foreign = try centre(["alarms", "ack", "\(bAlarm)", "--by", "anna"], config)
        let missing = try centre(["alarms", "ack", "987654", "--by", "anna"], config)
        #expect(foreign.status != 0 && foreign.stderr.contains("there is no alarm \(bAlarm)"), "\(foreign.stderr)")
        #expect(foreign.stderr.replacing("\(bAlarm)", with: "ID") == missing.stderr.replacing("987654", with: "ID"))
        #expect(try await harness.storage.alarm(id: bAlarm)?.isOpen == true)
        let escalateForeign = try centre(["alarms", "escalate", "\(bAlarm)", "--by", "anna", "--note", "help"], config)
        #expect(escalateForeign.status != 0 && escalateForeign.stderr.contains("there is no alarm \(bAlarm)"), "\(escalateForeign.stderr)")

        let escalated = try centre(["alarms", "escalate", "\(aAlarm)", "--by", "anna", "--note", "need the district"], config)
        #expect(escalated.status == 0, "\(escalated.stderr)")
        #expect(try centre(["alarms", "list", "--street", "north"], config).stdout.contains("OPEN, escalated by anna"))
        let acknowledged = try centre(["alarms", "ack", "\(aAlarm)", "--by", "anna"], config)
        #expect(acknowledged.status == 0, "\(acknowledged.stderr)")

        let signOn = try centre(["duty", "sign-on", "--person", "p-1", "--unit", "car-b", "--at", "2026-03-01T08:00:00Z", "--by", "anna"], config)
        #expect(signOn.status != 0 && signOn.stderr.contains("there is no device car-b"), "\(signOn.stderr)")
        #expect(try centre(["duty", "sign-on", "--person", "p-1", "--unit", "car-a", "--at", "2026-03-01T08:00:00Z", "--by", "anna"],
                           config).status == 0)

        let range = ["--from", "2026-03-01", "--to", "2026-03-02"]
        #expect(try centre(["tracks", "export", "--unit", "car-a", "--street", "north"] + range, config).stdout.contains("<gpx"))
        let foreignTrack = try centre(["tracks", "export", "--unit", "car-b", "--street", "north"] + range, config)
        let unknownTrack = try centre(["tracks", "export", "--unit", "car-x"] + range, config)
        #expect(foreignTrack.status != 0 && foreignTrack.stderr.contains("there is no device car-b"), "\(foreignTrack.stderr)")
        #expect(foreignTrack.stderr.replacing("car-b", with: "ID") == unknownTrack.stderr.replacing("car-x", with: "ID"))

        let moved = try centre(["devices", "assign", "car-b", "--street", "north"], config)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(try centre(["devices", "list", "--street", "north"], config).stdout.contains("car-b"))
        #expect(try centre(["alarms", "ack", "\(bAlarm)", "--by", "anna"], config).status == 0, "moved to north: now anna's")
        #expect(try centre(["devices", "assign", "car-x", "--district"], config).stderr.contains("there is no device car-x"))
    }
}
