import ArgumentParser
import PatrolCentre
import PatrolCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the audit log: sign-ins, failed sign-ins, sign-outs, lockouts, acknowledgements, devices and staff added or revoked.")
    @OptionGroup var options: ConfigOption
    @Option(help: "Start, UTC: 2026-11-26 or 2026-11-26T22:00:00Z (default: the beginning).") var from: String?
    @Option(help: "End (excluded), UTC (default: now).") var to: String?
    @Option(help: "table or json.") var format: String = "table"
    @Option(help: "At most this many entries, oldest first.") var limit: Int = 10_000

    func run() async throws {
        guard format == "table" || format == "json" else { throw ValidationError("--format must be table or json") }
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        let start = try from.map { text in
            guard let time = UTCTime(iso8601: text) else { throw ValidationError("--from '\(text)' is not a date or date-time") }
            return time
        } ?? UTCTime(millisecondsSinceEpoch: 0)
        let end = try to.map { text in
            guard let time = UTCTime(iso8601: text) else { throw ValidationError("--to '\(text)' is not a date or date-time") }
            return time
        } ?? CentreClock.system.now().adding(milliseconds: 1)
        guard start < end else { throw ValidationError("--from must be before --to") }
        let (_, storage) = try await options.openStorage()
        let entries = try await storage.auditEntries(in: start..<end, limit: limit)
        if format == "json" {
            print("[" + entries.map(Self.json).joined(separator: ",\n") + "]")
        } else {
            print("time\tactor\taction\tsubject\taddress\tdetail")
            for entry in entries {
                let columns = [entry.time.iso8601, entry.actor, entry.action, entry.subject ?? "-", entry.address ?? "-", entry.detail ?? "-"]
                // A tab or line break in a name or note must not shift the columns or forge a line.
                print(columns.map { $0.replacing("\t", with: " ").replacing("\n", with: " ") }.joined(separator: "\t"))
            }
        }
    }

    static func json(_ entry: AuditEntry) -> String {
        var object = JSONObjectWriter()
        object.add("id", entry.id)
        object.add("time", entry.time.iso8601)
        object.add("timeMs", entry.time.millisecondsSinceEpoch)
        object.add("actor", entry.actor)
        object.add("action", entry.action)
        if let subject = entry.subject { object.add("subject", subject) }
        if let address = entry.address { object.add("address", address) }
        if let detail = entry.detail { object.add("detail", detail) }
        return object.json
    }
}
