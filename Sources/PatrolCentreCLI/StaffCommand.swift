import ArgumentParser
import Foundation
import Glibc
import PatrolCentre
import PatrolConsole
import PatrolCore

extension StaffRole: ExpressibleByArgument {}

struct StaffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff", abstract: "Manage staff who use the console and the HTTP API.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: """
            Add a staff member: their console password is read from standard input (asked twice, not shown, on a terminal) \
            and stored as a scrypt hash; their bearer token for scripts is printed once (only its hash is stored).
            """)
        @Argument var name: String
        @Option(help: "operator (alarms, map), supervisor (+ coverage, tracks) or admin (+ devices, staff).")
        var role: StaffRole = .operator
        @Flag(help: "No console password: a bearer token only, for scripts.") var noPassword = false
        @Option(help: "The street they work for: they see and act on its units, alarms and plans only (default: district staff, who see every street).")
        var street: String?
        @OptionGroup var options: ConfigOption

        func run() async throws {
            guard (1...64).contains(name.utf8.count), !name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw ValidationError("the name must be 1 to 64 bytes without spaces")
            }
            if let street, !StaffScope.isValidStreet(street) {
                throw ValidationError("--street \(street): a street id is 1 to \(UplinkLimits.maxDeviceIDBytes) bytes without spaces")
            }
            let passwordHash = noPassword ? nil : try PasswordHash.make(try readPassword())
            let (_, storage) = try await options.openStorage()
            let token = Secrets.newStaffToken()
            let now = CentreClock.system.now()
            guard try await storage.addStaff(StaffMember(name: name, role: role, passwordHash: passwordHash, createdAt: now, street: street),
                                             tokenHash: Secrets.staffTokenHash(token)) else {
                throw CommandFailure("staff member \(name) already exists")
            }
            try await storage.appendAudit(AuditEntry(time: now, actor: Self.operatingSystemUser, action: AuditEntry.Action.staffAdded,
                                                     subject: name, detail: "role \(role.rawValue)" + (street.map { ", street \($0)" } ?? "")))
            print("staff member \(name) (\(role.rawValue)\(street.map { ", street \($0)" } ?? "")) added; their token for scripts (shown only now):")
            print(token)
        }

        /// Who ran a command, for the audit log.
        static var operatingSystemUser: String {
            ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "command line"
        }

        /// The password: one line of standard input, or, on a terminal, typed twice without echo;
        /// at least 8 characters either way.
        private func readPassword() throws -> String {
            let password: String
            if isatty(STDIN_FILENO) == 1 {
                password = try Self.promptWithoutEcho("password for \(name): ")
                guard try Self.promptWithoutEcho("again: ") == password else {
                    throw CommandFailure("the two passwords differ; nothing was added")
                }
            } else {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("give the password on standard input (one line), or --no-password for a token-only account")
                }
                password = line
            }
            guard password.count >= 8 else { throw CommandFailure("use at least 8 characters; nothing was added") }
            return password
        }

        private static func promptWithoutEcho(_ prompt: String) throws -> String {
            // Echo goes off before the prompt shows, so nothing typed after the prompt is ever echoed.
            var saved = termios()
            tcgetattr(STDIN_FILENO, &saved)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
            FileHandle.standardError.write(Data(prompt.utf8))
            defer {
                tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw CommandFailure("no password given; nothing was added") }
            return line
        }
    }
}
