#if canImport(Glibc)
import Glibc
#endif
import PatrolCore
import PatrolStore

/// `patrol-agent status`: the running agent's status file joined with what the store holds.
public struct StatusReport: Sendable {
    public var live: AgentStatus?
    /// Whether `live` comes from a process that is still running and updating it.
    public var isRunning: Bool
    public var store: StoreStatistics?
    public var storeError: String?
    public var nowMonotonicMs: Int64

    /// Gathers the report; never throws, since status must work when things are broken.
    public static func gather(config: AgentConfig) -> StatusReport {
        let now = SystemClocks.monotonicMilliseconds()
        let live = try? StatusFile.decode(FileAccess.readText(AgentRunner.statusPath(config)))
        var running = false
        if let live, live.state == "running", kill(live.pid, 0) == 0 || errno == EPERM {
            // A crashed agent leaves "running" behind: it must also have updated recently.
            running = Double(now - live.updatedAtMonotonicMs) <= 3 * live.statusIntervalSeconds * 1000 + 1000
        }
        var store: StoreStatistics?
        var storeError: String?
        if access(config.store.path, F_OK) == 0 {
            do {
                store = try AgentStore.open(path: config.store.path, logger: .init(label: "status")).statistics()
            } catch {
                storeError = "\(error)"
            }
        } else {
            storeError = "no database at \(config.store.path) yet"
        }
        return StatusReport(live: live, isRunning: running, store: store, storeError: storeError, nowMonotonicMs: now)
    }

    /// Seconds since the last fix arrived, when there was one.
    public var lastFixAgeSeconds: Double? {
        guard let received = live?.lastFix?.receivedAtMonotonicMs else { return nil }
        return Double(nowMonotonicMs - received) / 1000
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
        }
        if let store {
            var s = JSONObjectWriter()
            s.add("path", store.path)
            s.add("trackPoints", store.trackPoints)
            if let first = store.firstPointTime { s.add("firstPoint", first.iso8601) }
            if let last = store.lastPointTime { s.add("lastPoint", last.iso8601) }
            s.add("events", store.events)
            s.add("undeliveredEvents", store.undeliveredEvents)
            s.add("bytes", store.bytesOnDisk)
            s.addRaw("counters", Self.object(store.counters))
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
            let dropped = live.fixesDropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("fixes: \(live.fixesAccepted) accepted; dropped: \(dropped)")
            lines.append("points: \(live.pointsRecorded) recorded since start, \(live.pointsPendingCommit) waiting for the next commit")
        } else {
            lines.append("agent: no status file (not started yet?)")
        }
        if let store {
            let span = [store.firstPointTime, store.lastPointTime].compactMap { $0?.iso8601 }.joined(separator: " to ")
            lines.append("store: \(store.path), \(Self.megabytes(store.bytesOnDisk)) MB, \(store.trackPoints) track points\(span.isEmpty ? "" : " (\(span))"), \(store.events) events (\(store.undeliveredEvents) undelivered)")
            let counters = store.counters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("store counters: \(counters.isEmpty ? "none" : counters)")
        }
        if let storeError { lines.append("store: \(storeError)") }
        return lines.joined(separator: "\n")
    }

    private static func megabytes(_ bytes: Int64) -> String {
        FixedDecimal.format(Double(bytes) / 1_048_576, decimals: 2)
    }

    private static func object(_ values: [String: Int64]) -> String {
        var w = JSONObjectWriter()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) { w.add(key, value) }
        return w.json
    }
}
