import ArgumentParser
import Foundation
import PatrolCentre

struct AlarmsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alarms", abstract: "List, acknowledge and escalate alarms.",
        subcommands: [List.self, Ack.self, Escalate.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alarms, newest last.")
        @Flag(help: "Only alarms nobody has acknowledged.") var open = false
        @Flag(help: "Print the same JSON as GET /v1/alarms.") var json = false
        @OptionGroup var street: StreetOption
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let (_, storage) = try await options.openStorage()
            let alarms = try await storage.alarms(openOnly: open, in: street.scope).map(AlarmView.init)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(AlarmList(alarms: alarms)), as: UTF8.self))
                return
            }
            print("id\tdevice\tsequence\ttime\tstate")
            for alarm in alarms {
                let state = alarm.acknowledgedBy.map { "acknowledged by \($0)" } ?? alarm.escalatedBy.map { "OPEN, escalated by \($0)" } ?? "OPEN"
                print("\(alarm.id)\t\(alarm.device)\t\(alarm.sequence)\t\(alarm.time)\t\(state)")
            }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an alarm; its board is told at its next upload.")
        @Argument(help: "The alarm's id (first column of `alarms`).") var id: Int64
        @Option(help: "Who acknowledges it (a street's staff member may acknowledge only their street's alarms).") var by: String
        @Option(help: "What was done about it, for the audit log.") var note: String?
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let (_, storage) = try await options.openStorage()
            // Another process: serve's change feed does not hear of it; its downlink reaches the device.
            switch try await storage.acknowledge(alarm: id, by: by, scope: try await storage.scope(ofStaff: by), note: note,
                                                 at: CentreClock.system.now(), changes: nil) {
            case .acknowledged:
                print("alarm \(id) acknowledged by \(by)")
            case .alreadyAcknowledged(let alarm):
                throw CommandFailure("alarm \(id) was already acknowledged by \(alarm.acknowledgedBy ?? "?")")
            case .notFound: throw CommandFailure("there is no alarm \(id)")
            }
        }
    }

    struct Escalate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand an open alarm of your street to the district desk, with a note saying why (street staff only).")
        @Argument(help: "The alarm's id (first column of `alarms`).") var id: Int64
        @Option(help: "The street staff member escalating it.") var by: String
        @Option(help: "Why the district desk is needed.") var note: String
        @OptionGroup var options: ConfigOption

        func validate() throws {
            guard !note.isEmpty, note.count <= 1000 else { throw ValidationError("--note must say why, in 1 to 1000 characters") }
        }

        func run() async throws {
            let (_, storage) = try await options.openStorage()
            guard let member = try await storage.staffMember(name: by) else {
                throw CommandFailure("there is no staff member \(by); escalation is done by a street's staff (`staff add --street`)")
            }
            let result: AlarmEscalationResult
            do {
                result = try await storage.escalate(alarm: id, by: member, note: note, at: CentreClock.system.now(), changes: nil)
            } catch let error as CentreError {
                throw CommandFailure(error.message)
            }
            switch result {
            case .escalated: print("alarm \(id) escalated to the district desk by \(by)")
            case .alreadyEscalated(let alarm): throw CommandFailure("alarm \(id) was already escalated by \(alarm.escalation?.by ?? "?")")
            case .alreadyAcknowledged(let alarm): throw CommandFailure("alarm \(id) was already acknowledged by \(alarm.acknowledgedBy ?? "?")")
            case .notFound: throw CommandFailure("there is no alarm \(id)")
            }
        }
    }
}
