import ArgumentParser
import PatrolCentre

struct StaffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff", abstract: "Manage staff who use the HTTP API.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a staff member and print their bearer token once (only its hash is stored).")
        @Argument var name: String
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let (_, storage) = try await options.openStorage()
            let token = Secrets.newStaffToken()
            guard try await storage.addStaff(name: name, tokenHash: Secrets.staffTokenHash(token), at: CentreClock.system.now()) else {
                throw CommandFailure("staff member \(name) already exists")
            }
            print("staff member \(name) added; their token (shown only now):")
            print(token)
        }
    }
}
