import ArgumentParser
import PatrolAgent
import PatrolCore
import PatrolStore
#if canImport(Glibc)
import Glibc
#endif

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List stored alarms, check-ins and faults with their delivery state.",
        discussion: "While the agent runs it holds the store exclusively; then the running agent's recent events (from its status file) are listed instead, and standard error says so.")

    @Option(name: .long, help: "The TOML configuration file.")
    var config: String

    @Option(name: .long, help: "Only events at or after this UTC time (e.g. 2026-05-01 or 2026-05-01T08:00:00Z).")
    var since: String?

    @Flag(name: .long, help: "Print one JSON array.")
    var json = false

    func validate() throws {
        if let since, UTCTime(iso8601: since) == nil {
            throw ValidationError("--since '\(since)' is not a time; write e.g. 2026-05-01 or 2026-05-01T08:00:00Z")
        }
    }

    func run() async throws {
        let config = try loadConfig(config)
        let start = since.flatMap { UTCTime(iso8601: $0) }
        var events: [EventSummary]
        if let agent = StatusReport.runningAgent(config: config) {
            writeStandardError("patrol-agent events: the running agent (pid \(agent.pid)) holds \(config.store.path) exclusively; these are its last \(agent.recentEvents.count) events since it started\n")
            events = agent.recentEvents.filter { isWanted(UTCTime(iso8601: $0.time), since: start) }
        } else if access(config.store.path, F_OK) == 0 {
            events = try storedEvents(AgentStore.open(path: config.store.path, logger: .init(label: "events"), lockWaitSeconds: AgentStore.commandLockWaitSeconds, recovering: false), since: start)
        } else {
            writeStandardError("patrol-agent events: no events stored yet: \(config.store.path) does not exist\n")
            events = []
        }
        if json {
            print(try EventSummary.json(events))
        } else {
            for event in events { print(event.line) }
        }
    }

    /// Every stored event at or after `start`, oldest first, read in pages.
    private func storedEvents(_ store: AgentStore, since start: UTCTime?) throws -> [EventSummary] {
        var events: [EventSummary] = []
        var last: Int64 = 0
        let progress = try store.progressByOutput(.event)
        while true {
            let page: [StoredEvent]
            do {
                page = try store.events(since: last, limit: 1000)
            } catch let unreadable as UnreadableEvent {
                writeStandardError("patrol-agent events: skipping \(unreadable)\n")
                last = unreadable.sequence
                continue
            }
            guard let end = page.last else { return events }
            last = end.sequence
            events += page.filter { isWanted($0.event.time.utc, since: start) }.map { EventSummary($0, progress: progress) }
        }
    }

    private func isWanted(_ time: UTCTime?, since start: UTCTime?) -> Bool {
        guard let start, let time else { return true }
        return time >= start
    }
}
