import ArgumentParser
import PatrolCentre
import PatrolCore

struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "Register, list, assign to streets and revoke patrol boards.",
        subcommands: [Add.self, List.self, Assign.self, Revoke.self], defaultSubcommand: List.self)

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a board and print its key once (it is stored in the 0600 database, needed to verify signatures).")
        @Argument(help: "The board's id, e.g. car-12.") var id: String
        @Option(name: .customLong("jt808"), help: ArgumentHelp(
            "Register a JT/T 808 terminal with this phone number (as its headers carry it, e.g. 013912345678) instead of a board.",
            valueName: "PHONE")) var jt808Phone: String?
        @Option(help: "The street it belongs to (default: none, the district's own).") var street: String?
        @OptionGroup var options: ConfigOption

        func validate() throws {
            guard Device.isValidID(id) else {
                throw ValidationError("the id must be 1 to \(UplinkLimits.maxDeviceIDBytes) bytes without spaces")
            }
            if let street, !StaffScope.isValidStreet(street) {
                throw ValidationError("--street \(street): a street id is 1 to \(UplinkLimits.maxDeviceIDBytes) bytes without spaces")
            }
            if let jt808Phone, JT808Header.normalisedPhone(jt808Phone, revision: .v2019) == nil
                || JT808TerminalLink.canonicalPhone(jt808Phone) == nil {
                throw ValidationError("--jt808 \(jt808Phone): a terminal phone number is 1 to 20 decimal digits, not all zeros")
            }
        }

        func run() async throws {
            let (_, storage) = try await options.openStorage()
            if let jt808Phone, let phone = JT808TerminalLink.canonicalPhone(jt808Phone) {
                guard try await storage.addTerminal(id: id, phone: phone, at: CentreClock.system.now()) else {
                    throw CommandFailure("device \(id) or terminal \(jt808Phone) is already registered")
                }
                if let street { _ = try await storage.assignDevice(id: id, street: street) }
                print("JT/T 808 terminal \(jt808Phone) registered as device \(id); it gets its authentication code when it registers (0x0100)")
                return
            }
            let key = Secrets.randomBytes()
            let now = CentreClock.system.now()
            guard try await storage.addDevice(id: id, key: key, street: street, at: now) else {
                throw CommandFailure("device \(id) is already registered")
            }
            try await storage.appendAudit(AuditEntry(time: now, actor: StaffCommand.Add.operatingSystemUser,
                                                     action: AuditEntry.Action.deviceAdded, subject: id))
            print("device \(id) registered; its key (shown only now, put it in the board's secret file):")
            print(Hex.encode(key))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List boards with their street, when they were last heard and whether they are silent.")
        @OptionGroup var street: StreetOption
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let (configuration, storage) = try await options.openStorage()
            let now = CentreClock.system.now()
            print("id\tlast seen\tstate\tstreet")
            for device in try await storage.devices(in: street.scope) {
                let state = device.revokedAt != nil ? "revoked"
                    : device.isSilent(at: now, silentAfterSeconds: configuration.silentAfterSeconds) ? "SILENT" : "ok"
                print("\(device.id)\t\(device.lastSeen?.iso8601 ?? "never")\t\(state)\t\(device.street ?? "-")")
            }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a board to a street (--street S) or back to the district itself (--district); its alarms and track go with it.")
        @Argument(help: "The board's id.") var id: String
        @Option(help: "The street it now belongs to.") var street: String?
        @Flag(help: "It belongs to no street: only district staff see it.") var district = false
        @OptionGroup var options: ConfigOption

        func validate() throws {
            guard (street == nil) != !district else { throw ValidationError("give either --street S or --district") }
            if let street, !StaffScope.isValidStreet(street) {
                throw ValidationError("--street \(street): a street id is 1 to \(UplinkLimits.maxDeviceIDBytes) bytes without spaces")
            }
        }

        func run() async throws {
            let (_, storage) = try await options.openStorage()
            guard try await storage.assignDevice(id: id, street: street) else { throw CommandFailure("there is no device \(id)") }
            try await storage.appendAudit(AuditEntry(time: CentreClock.system.now(), actor: StaffCommand.Add.operatingSystemUser,
                                                     action: AuditEntry.Action.deviceAssigned, subject: id,
                                                     detail: street.map { "street \($0)" } ?? "district"))
            print("device \(id) now belongs to \(street.map { "street \($0)" } ?? "the district itself")")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a board: its requests are refused from now on.")
        @Argument var id: String
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let (_, storage) = try await options.openStorage()
            let now = CentreClock.system.now()
            guard try await storage.revokeDevice(id: id, at: now) else {
                throw CommandFailure("there is no device \(id)")
            }
            try await storage.appendAudit(AuditEntry(time: now, actor: StaffCommand.Add.operatingSystemUser,
                                                     action: AuditEntry.Action.deviceRevoked, subject: id))
            print("device \(id) revoked")
        }
    }
}
