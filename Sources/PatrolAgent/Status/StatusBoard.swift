import PatrolCore
import PatrolEdgeSupport
import PatrolUplink
import Synchronization

/// The live state every part of the running agent reports into, and the status file is made from.
public final class StatusBoard: Sendable {
    private struct State {
        var gpsState: GPSSourceState = .connecting
        var lastFix: Fix?
        var lastFixMonotonicMs: Int64 = 0
        var fixesAccepted = 0
        var fixesDropped: [FixRejection: Int] = [:]
        var pointsRecorded = 0
        var pointsPendingCommit = 0
        var inputs: [(name: String, state: InputState)] = []
        var recentEvents: [EventSummary] = []
        var latencies: [Int64] = []
        var uplinks: [AgentStatus.UplinkStatus] = []
        /// What the supervisor judges liveness from (monotonic ms) and summarises for systemd.
        var lastTrackCommitMs: Int64?
        var uplinkRoundMs: [String: Int64] = [:]
        /// Each output's last `messageLimit` text messages, oldest first.
        var uplinkMessages: [String: [AgentStatus.MessageSummary]] = [:]
        /// Alarms stored since the start that staff have not acknowledged yet, by sequence.
        var openAlarms: Set<Int64> = []
        var gpsSource: String
        var configLoadedMs = SystemClocks.monotonicMilliseconds()
        var reloadRefused: (reason: String, atMs: Int64)?
    }

    /// How many stored events `status` lists, and how many latencies it summarises.
    static let recentEventLimit = 10
    static let latencyLimit = 100
    /// How many text messages from a receiver `status` shows per output.
    static let messageLimit = 5
    /// How many unacknowledged alarms the one-line summary counts at most.
    static let openAlarmLimit = 1000

    private let state: Mutex<State>
    public let deviceID: String
    public let startedAtMonotonicMs = SystemClocks.monotonicMilliseconds()

    public init(deviceID: String, gpsSource: String) {
        self.deviceID = deviceID
        state = Mutex(State(gpsSource: gpsSource))
    }

    /// A reload changed the GPS input: the new source connects afresh.
    public func gpsSourceChanged(_ name: String) {
        state.withLock {
            $0.gpsSource = name
            $0.gpsState = .connecting
        }
    }

    /// A reload applied the configuration file: status shows when, and no refusal any more.
    public func configurationReloaded() {
        let now = SystemClocks.monotonicMilliseconds()
        state.withLock {
            $0.configLoadedMs = now
            $0.reloadRefused = nil
        }
    }

    /// A reload was refused; the configuration loaded before keeps running.
    public func configurationRefused(_ reason: String) {
        let now = SystemClocks.monotonicMilliseconds()
        state.withLock { $0.reloadRefused = (reason, now) }
    }

    public func gpsStateChanged(_ newState: GPSSourceState) {
        state.withLock { $0.gpsState = newState }
    }

    public func fixArrived(_ fix: Fix, verdict: FixRejection?, recorded: Bool) {
        let now = SystemClocks.monotonicMilliseconds()
        state.withLock {
            if fix.mode >= .twoD, fix.time != nil {
                $0.lastFix = fix
                $0.lastFixMonotonicMs = now
            }
            if let verdict { $0.fixesDropped[verdict, default: 0] += 1 } else { $0.fixesAccepted += 1 }
            if recorded { $0.pointsRecorded += 1 }
        }
    }

    /// Lists the configured inputs, so status shows each from the start, before it reports; an
    /// input a reload kept running keeps its state.
    public func inputsConfigured(_ names: [String]) {
        state.withLock { state in
            let known = state.inputs
            state.inputs = names.map { name in (name, known.first { $0.name == name }?.state ?? .connecting) }
        }
    }

    public func inputStateChanged(_ name: String, _ newState: InputState) {
        state.withLock { state in
            if let index = state.inputs.firstIndex(where: { $0.name == name }) { state.inputs[index].state = newState }
        }
    }

    /// An event committed to the store, `latency` ms after its condition was met; no output has it yet.
    public func eventStored(_ summary: EventSummary, latencyMilliseconds latency: Int64) {
        let isAlarm = EventKind(code: summary.kind, detail: summary.detail)?.needsAcknowledgement == true
        state.withLock {
            var summary = summary
            for uplink in $0.uplinks { summary.outputs[uplink.name] = EventSummary.undelivered }
            if isAlarm {
                $0.openAlarms.insert(summary.sequence)
                // Without a centre nothing is ever acknowledged: keep the count bounded.
                if $0.openAlarms.count > Self.openAlarmLimit, let oldest = $0.openAlarms.min() { $0.openAlarms.remove(oldest) }
            }
            $0.recentEvents = Array(($0.recentEvents + [summary]).suffix(Self.recentEventLimit))
            $0.latencies = Array(($0.latencies + [latency]).suffix(Self.latencyLimit))
        }
    }

    /// Lists the configured outputs, so status shows each from the start; an output a reload kept
    /// running keeps its state.
    public func uplinksConfigured(_ outputs: [(name: String, destination: String)]) {
        state.withLock { state in
            let known = state.uplinks
            state.uplinks = outputs.map { output in
                known.first { $0.name == output.name && $0.destination == output.destination }
                    ?? AgentStatus.UplinkStatus(name: output.name, destination: output.destination, state: "connecting")
            }
        }
    }

    /// Keeps a receiver's text message (the last `messageLimit` of each output) for `status`.
    public func uplinkMessage(_ message: UplinkMessage, output: String) {
        let summary = AgentStatus.MessageSummary(time: message.receivedAt.iso8601, text: message.text)
        state.withLock { state in
            state.uplinkMessages[output, default: []].append(summary)
            state.uplinkMessages[output] = Array(state.uplinkMessages[output]!.suffix(Self.messageLimit))
            if let index = state.uplinks.firstIndex(where: { $0.name == output }) { state.uplinks[index].messages = state.uplinkMessages[output] }
        }
    }

    public func uplinkChanged(_ status: UplinkOutputStatus) {
        let entry = AgentStatus.UplinkStatus(
            name: status.name, destination: status.destination,
            state: status.isUp.map { $0 ? "up" : "down" } ?? "connecting", downReason: status.downReason,
            trackDelivered: status.backlog?.trackDelivered, eventDelivered: status.backlog?.eventDelivered,
            trackPending: status.backlog?.trackPending, eventPending: status.backlog?.eventPending,
            deadLetters: status.backlog?.deadLetters)
        let now = SystemClocks.monotonicMilliseconds()
        state.withLock { state in
            var entry = entry
            entry.messages = state.uplinkMessages[status.name]
            if let index = state.uplinks.firstIndex(where: { $0.name == status.name }) { state.uplinks[index] = entry }
            state.uplinkRoundMs[status.name] = now
        }
    }

    /// `output` delivered the event.
    func eventDelivered(_ sequence: Int64, output: String) {
        eventProgressed(sequence, to: EventSummary.delivered, output: output)
    }

    /// Staff acknowledged the alarm through `output`.
    func eventAcknowledged(_ sequence: Int64, output: String) {
        eventProgressed(sequence, to: EventSummary.acknowledged, output: output)
    }

    private func eventProgressed(_ sequence: Int64, to delivery: String, output: String) {
        state.withLock { state in
            if delivery == EventSummary.acknowledged { state.openAlarms.remove(sequence) }
            for index in state.recentEvents.indices where state.recentEvents[index].sequence == sequence {
                state.recentEvents[index].record(delivery, output: output)
            }
        }
    }

    /// Track points reached the store.
    public func trackCommitted() {
        let now = SystemClocks.monotonicMilliseconds()
        state.withLock { $0.lastTrackCommitMs = now }
    }

    /// When track was last committed and each uplink last finished a round (monotonic ms).
    public func pipelineProgress() -> (lastTrackCommit: Int64?, uplinkRounds: [String: Int64]) {
        state.withLock { ($0.lastTrackCommitMs, $0.uplinkRoundMs) }
    }

    /// One line for `systemctl status`: "fix 2 s old, backlog 0 events + 120 points, 1 open alarm".
    /// Open alarms are those stored since the agent started that staff have not acknowledged.
    public func summaryLine() -> String {
        let s = state.withLock { $0 }
        let now = SystemClocks.monotonicMilliseconds()
        let fix = s.lastFix == nil ? "no fix yet" : "fix \((now - s.lastFixMonotonicMs) / 1000) s old"
        let backlog: String
        if s.uplinks.isEmpty {
            backlog = "no uplink"
        } else if s.uplinks.allSatisfy({ $0.eventPending == nil }) {
            backlog = "backlog not known yet"
        } else {
            let events = s.uplinks.compactMap(\.eventPending).max() ?? 0
            let points = s.uplinks.compactMap(\.trackPending).max() ?? 0
            backlog = "backlog \(events) events + \(points) points"
        }
        let alarms = s.openAlarms.count == 1 ? "1 open alarm" : "\(s.openAlarms.count) open alarms"
        return [fix, backlog, alarms].joined(separator: ", ")
    }

    public func pendingCommit(_ count: Int) {
        state.withLock { $0.pointsPendingCommit = count }
    }

    /// GNSS time now, extrapolated from the last fix with the monotonic clock.
    public func gnssTimeNow() -> UTCTime? {
        let (fix, at) = state.withLock { ($0.lastFix, $0.lastFixMonotonicMs) }
        guard let time = fix?.time else { return nil }
        return time.adding(milliseconds: SystemClocks.monotonicMilliseconds() - at)
    }

    public func snapshot(running: Bool, interval: Double) -> AgentStatus {
        snapshot(phase: running ? "running" : "stopped", interval: interval)
    }

    /// - Parameter phase: "starting", "running" or "stopped".
    public func snapshot(phase: String, interval: Double) -> AgentStatus {
        let s = state.withLock { $0 }
        let trust = ClockTrust.evaluate(systemTime: SystemClocks.systemTime(), gnssTimeNow: gnssTimeNow(),
                                        ntpSynchronized: SystemClocks.kernelClockSynchronized())
        var status = AgentStatus(
            deviceID: deviceID, pid: getpid(), state: phase,
            startedAtMonotonicMs: startedAtMonotonicMs, updatedAtMonotonicMs: SystemClocks.monotonicMilliseconds(),
            statusIntervalSeconds: interval, gpsSource: s.gpsSource, gpsState: s.gpsState.label, gpsDownReason: s.gpsState.downReason,
            lastFix: s.lastFix.map {
                AgentStatus.LastFix(time: $0.time?.iso8601, mode: $0.mode.rawValue, lat: $0.latitude, lon: $0.longitude,
                                    speed: $0.speed, receivedAtMonotonicMs: s.lastFixMonotonicMs)
            },
            clockTrusted: trust.isTrusted, clock: trust.summary,
            fixesAccepted: s.fixesAccepted,
            fixesDropped: Dictionary(uniqueKeysWithValues: FixRejection.allCases.map { ($0.rawValue, s.fixesDropped[$0] ?? 0) }),
            pointsRecorded: s.pointsRecorded, pointsPendingCommit: s.pointsPendingCommit, store: nil)
        status.inputs = s.inputs.map {
            AgentStatus.InputStatus(name: $0.name, state: $0.state.label, downReason: $0.state.downReason)
        }
        status.recentEvents = s.recentEvents
        status.eventLatency = AgentStatus.LatencySummary(s.latencies)
        status.uplinks = s.uplinks
        status.configLoadedAtMonotonicMs = s.configLoadedMs
        status.reloadRefused = s.reloadRefused?.reason
        status.reloadRefusedAtMonotonicMs = s.reloadRefused?.atMs
        return status
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension GPSSourceState {
    /// The logged reason while down.
    var downReason: String? {
        if case .down(let reason) = self { reason } else { nil }
    }
}
