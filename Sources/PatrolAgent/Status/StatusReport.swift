#if canImport(Glibc)
import Glibc
#endif
import PatrolCore
import PatrolEdgeSupport
import PatrolStore

/// `patrol-agent status`: the running agent's status file joined with what the store holds.
public struct StatusReport: Sendable {
    public var live: AgentStatus?
    /// Whether `live` comes from a process that is still running and updating it.
    public var isRunning: Bool
    public var store: AgentStatus.StoreSummary?
    public var storeError: String?
    public var nowMonotonicMs: Int64

    /// Gathers the report; never throws, since status must work when things are broken.
    public static func gather(config: AgentConfig) -> StatusReport {
        let now = SystemClocks.monotonicMilliseconds()
        let live = try? StatusFile.decode(FileAccess.readText(AgentRunner.statusPath(config)))
        let running = live.map { isRunning($0, now: now) } ?? false
        var store: AgentStatus.StoreSummary?
        var storeError: String?
        if running || live.map(isAlive) == true {
            // A running (or starting) agent holds the database exclusively and publishes its figures.
            store = live?.store
            if store == nil { storeError = "the agent is opening the store" }
        } else if access(config.store.path, F_OK) == 0 {
            do {
                store = AgentStatus.StoreSummary(try AgentStore.open(path: config.store.path, logger: .init(label: "status"), lockWaitSeconds: AgentStore.commandLockWaitSeconds, recovering: false).statistics())
            } catch {
                storeError = "\(error)"
            }
        } else {
            storeError = "no database at \(config.store.path) yet"
        }
        return StatusReport(live: live, isRunning: running, store: store, storeError: storeError, nowMonotonicMs: now)
    }

    /// The running agent's status, or nil when no agent runs with this configuration.
    public static func runningAgent(config: AgentConfig) -> AgentStatus? {
        guard let live = try? StatusFile.decode(FileAccess.readText(AgentRunner.statusPath(config))),
              isRunning(live, now: SystemClocks.monotonicMilliseconds()) else { return nil }
        return live
    }

    /// A crashed agent leaves "running" behind: the process must exist and have updated recently.
    private static func isRunning(_ live: AgentStatus, now: Int64) -> Bool {
        guard live.state == "running", isAlive(live) else { return false }
        return Double(now - live.updatedAtMonotonicMs) <= 3 * live.statusIntervalSeconds * 1000 + 1000
    }

    /// Whether the process that wrote the status still exists (it may be starting or hung).
    private static func isAlive(_ live: AgentStatus) -> Bool {
        live.state != "stopped" && (kill(live.pid, 0) == 0 || errno == EPERM)
    }

    /// Seconds since the last fix arrived, when there was one.
    public var lastFixAgeSeconds: Double? {
        guard let received = live?.lastFix?.receivedAtMonotonicMs else { return nil }
        return Double(nowMonotonicMs - received) / 1000
    }

    /// Seconds from a CLOCK_BOOTTIME stamp of the status file to now.
    private func secondsAgo(_ monotonicMs: Int64?) -> Double? {
        monotonicMs.map { Double(nowMonotonicMs - $0) / 1000 }
    }

    public var json: String {
        var w = JSONObjectWriter()
        w.add("running", isRunning)
        if let live {
            w.add("device", live.deviceID)
            w.add("pid", Int(live.pid))
            w.add("gpsSource", live.gpsSource)
            w.add("gpsState", isRunning ? live.gpsState : "not running")
            if let reason = live.gpsDownReason { w.add("gpsDownReason", reason) }
            if let fix = live.lastFix {
                var f = JSONObjectWriter()
                if let time = fix.time { f.add("time", time) }
                f.add("mode", fix.mode)
                if let lat = fix.lat { f.add("lat", lat, decimals: 7) }
                if let lon = fix.lon { f.add("lon", lon, decimals: 7) }
                if let age = lastFixAgeSeconds { f.add("ageSeconds", age, decimals: 1) }
                w.addRaw("lastFix", f.json)
            }
            w.add("clockTrusted", live.clockTrusted)
            w.add("clock", live.clock)
            w.add("fixesAccepted", live.fixesAccepted)
            w.addRaw("fixesDropped", Self.object(live.fixesDropped.mapValues(Int64.init)))
            w.add("pointsRecorded", live.pointsRecorded)
            w.add("pointsPendingCommit", live.pointsPendingCommit)
            w.addRaw("inputs", Self.array(live.inputs.map { input in
                var i = JSONObjectWriter()
                i.add("name", input.name)
                i.add("state", isRunning ? input.state : "not running")
                if let reason = input.downReason { i.add("downReason", reason) }
                return i.json
            }))
            w.addRaw("uplinks", Self.array(live.uplinks.map { uplink in
                var u = JSONObjectWriter()
                u.add("name", uplink.name)
                u.add("destination", uplink.destination)
                u.add("state", isRunning ? uplink.state : "not running")
                if let reason = uplink.downReason { u.add("downReason", reason) }
                if let value = uplink.trackDelivered { u.add("trackDelivered", value) }
                if let value = uplink.eventDelivered { u.add("eventDelivered", value) }
                if let value = uplink.trackPending { u.add("trackPending", value) }
                if let value = uplink.eventPending { u.add("eventPending", value) }
                if let value = uplink.deadLetters { u.add("deadLetters", value) }
                if let messages = uplink.messages {
                    u.addRaw("messages", Self.array(messages.map { message in
                        var m = JSONObjectWriter()
                        m.add("time", message.time)
                        m.add("text", message.text)
                        return m.json
                    }))
                }
                return u.json
            }))
            if let age = secondsAgo(live.configLoadedAtMonotonicMs) { w.add("configLoadedSecondsAgo", age, decimals: 1) }
            if let reason = live.reloadRefused {
                w.add("reloadRefused", reason)
                if let age = secondsAgo(live.reloadRefusedAtMonotonicMs) { w.add("reloadRefusedSecondsAgo", age, decimals: 1) }
            }
            w.addRaw("recentEvents", (try? EventSummary.json(live.recentEvents)) ?? "[]")
            if let latency = live.eventLatency {
                var l = JSONObjectWriter()
                l.add("count", latency.count)
                l.add("p50Ms", latency.p50Ms)
                l.add("maxMs", latency.maxMs)
                l.add("lastMs", latency.lastMs)
                w.addRaw("eventLatency", l.json)
            }
        }
        if let store {
            var s = JSONObjectWriter()
            s.add("path", store.path)
            s.add("trackPoints", store.pointsStored)
            if let first = store.firstPoint { s.add("firstPoint", first) }
            if let last = store.lastPoint { s.add("lastPoint", last) }
            s.add("events", store.eventsStored)
            s.add("bytes", store.databaseBytes)
            s.addRaw("deletions", Self.object(store.deletions))
            s.add("corruptionRecoveries", store.corruptionRecoveries)
            s.add("emptyStoreRecoveries", store.emptyStoreRecoveries)
            s.add("salvagedEvents", store.salvagedEvents)
            s.add("salvagedTrackPoints", store.salvagedTrackPoints)
            if let recovery = store.lastRecovery { s.add("lastRecovery", recovery) }
            w.addRaw("store", s.json)
        }
        if let storeError { w.add("storeError", storeError) }
        return w.json
    }

    public var text: String {
        var lines: [String] = []
        if let live {
            lines.append("agent \(live.deviceID): " + (isRunning ? "running (pid \(live.pid))" : "not running (last state: \(live.state))"))
            var gps = "GPS: \(live.gpsSource), " + (isRunning ? live.gpsState : "not running")
            if isRunning, let reason = live.gpsDownReason { gps += " (\(reason))" }
            lines.append(gps)
            if let fix = live.lastFix {
                let age = lastFixAgeSeconds.map { ", \(FixedDecimal.format($0, decimals: 1)) s ago" } ?? ""
                let position = fix.lat.flatMap { lat in fix.lon.map { "\(FixedDecimal.format(lat, decimals: 6)), \(FixedDecimal.format($0, decimals: 6))" } } ?? "no position"
                lines.append("last fix: \(fix.time ?? "no time") mode \(fix.mode)D \(position)\(age)")
            } else {
                lines.append("last fix: none yet")
            }
            lines.append("clock: \(live.clock)")
            if let age = secondsAgo(live.configLoadedAtMonotonicMs) {
                var line = "config: loaded \(FixedDecimal.format(age, decimals: 0)) s ago"
                if let reason = live.reloadRefused {
                    let when = secondsAgo(live.reloadRefusedAtMonotonicMs).map { " \(FixedDecimal.format($0, decimals: 0)) s ago" } ?? ""
                    line += "; last reload refused\(when): \(reason)"
                }
                lines.append(line)
            }
            let dropped = live.fixesDropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("fixes: \(live.fixesAccepted) accepted; dropped: \(dropped)")
            lines.append("points: \(live.pointsRecorded) recorded since start, \(live.pointsPendingCommit) waiting for the next commit")
            for input in live.inputs {
                let state = isRunning ? input.state + (input.downReason.map { " (\($0))" } ?? "") : "not running"
                lines.append("input: \(input.name), \(state)")
            }
            for uplink in live.uplinks {
                var line = "uplink: \(uplink.name) → \(uplink.destination), "
                line += isRunning ? uplink.state + (uplink.downReason.map { " (\($0))" } ?? "") : "not running"
                // An output that forwards no track (an alarm receiver) has no track progress.
                if let event = uplink.eventDelivered {
                    line += "; delivered through " + (uplink.trackDelivered.map { "track #\($0), " } ?? "") + "event #\(event)"
                }
                if let event = uplink.eventPending {
                    line += "; backlog " + (uplink.trackDelivered == nil ? "" : "\(uplink.trackPending ?? 0) points, ") + "\(event) events"
                }
                if let dead = uplink.deadLetters { line += "; \(dead) refused for good" }
                lines.append(line)
                for message in uplink.messages ?? [] { lines.append("  message from \(uplink.name) at \(message.time): \(message.text)") }
            }
            if live.recentEvents.isEmpty {
                lines.append("events: none since start")
            } else {
                lines.append("last \(live.recentEvents.count) events since start:")
                lines += live.recentEvents.map { "  " + $0.line }
            }
            if let latency = live.eventLatency {
                lines.append("detection to commit: p50 \(latency.p50Ms) ms, max \(latency.maxMs) ms, last \(latency.lastMs) ms (\(latency.count) events)")
            }
        } else {
            lines.append("agent: no status file (not started yet?)")
        }
        if let store {
            let span = [store.firstPoint, store.lastPoint].compactMap { $0 }.joined(separator: " to ")
            lines.append("store: \(store.path), \(Self.megabytes(store.databaseBytes)) MB, \(store.pointsStored) track points\(span.isEmpty ? "" : " (\(span))"), \(store.eventsStored) events")
            let deletions = store.deletions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("retention deletions: \(deletions.isEmpty ? "none" : deletions); corruption recoveries: \(store.corruptionRecoveries); "
                + "empty store recoveries: \(store.emptyStoreRecoveries); salvaged: \(store.salvagedEvents) events, \(store.salvagedTrackPoints) track points")
            if let recovery = store.lastRecovery { lines.append("store recovered: \(recovery)") }
        }
        if let storeError { lines.append("store: \(storeError)") }
        return lines.joined(separator: "\n")
    }

    private static func megabytes(_ bytes: Int64) -> String {
        FixedDecimal.format(Double(bytes) / 1_048_576, decimals: 2)
    }

    private static func array(_ objects: [String]) -> String {
        "[" + objects.joined(separator: ",") + "]"
    }

    private static func object(_ values: [String: Int64]) -> String {
        var w = JSONObjectWriter()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) { w.add(key, value) }
        return w.json
    }
}
