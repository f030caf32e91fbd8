import Foundation
import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

/// `patrol-centre staff add` and `audit` as an administrator runs them: the real executable, the
/// password on standard input (as a provisioning script gives it), a real store.
@Suite struct StaffCommandTests {
    @Test func aShortPasswordFromStandardInputIsRefusedAndNothingIsAdded() async throws {
        let centre = try CentreHarness()
        let config = try centre.writeConfig()
        let short = try BuiltExecutable.centre.run(["staff", "add", "ann", "--role", "operator", "--config", config], input: "1234567\n")
        #expect(short.status != 0 && short.stderr.contains("at least 8 characters"), "\(short.stderr)")
        #expect(try await centre.storage.staffMember(name: "ann") == nil)
    }

    @Test func addedStaffHaveTheirRoleAPasswordAndAnAuditLine() async throws {
        let centre = try CentreHarness()
        let config = try centre.writeConfig()
        let added = try BuiltExecutable.centre.run(["staff", "add", "ann", "--role", "supervisor", "--config", config],
                                                   input: "a long enough password\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("staff member ann (supervisor) added"))
        let member = try #require(try await centre.storage.staffMember(name: "ann"))
        #expect(member.role == .supervisor && member.passwordHash != nil)

        let again = try BuiltExecutable.centre.run(["staff", "add", "ann", "--config", config], input: "another password\n")
        #expect(again.status != 0 && again.stderr.contains("already exists"))

        let audit = try BuiltExecutable.centre.run(["audit", "--config", config, "--format", "json"])
        #expect(audit.status == 0, "\(audit.stderr)")
        let entries = try #require(JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { "\($0["action"] ?? "") \($0["subject"] ?? "") \($0["detail"] ?? "")" } == ["staff-added ann role supervisor"])
    }
}
