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
    }

    /// How many stored events `status` lists, and how many latencies it summarises.
    static let recentEventLimit = 10
    static let latencyLimit = 100

    private let state = Mutex(State())
    public let deviceID: String
    public let gpsSource: String
    public let startedAtMonotonicMs = SystemClocks.monotonicMilliseconds()

    public init(deviceID: String, gpsSource: String) {
        self.deviceID = deviceID
        self.gpsSource = gpsSource
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

    /// Lists the configured inputs, so status shows each from the start, before it reports.
    public func inputsConfigured(_ names: [String]) {
        state.withLock { $0.inputs = names.map { ($0, .connecting) } }
    }

    public func inputStateChanged(_ name: String, _ newState: InputState) {
        state.withLock { state in
            if let index = state.inputs.firstIndex(where: { $0.name == name }) { state.inputs[index].state = newState }
        }
    }

    /// An event committed to the store, `latency` ms after its condition was met; no output has it yet.
    public func eventStored(_ summary: EventSummary, latencyMilliseconds latency: Int64) {
        state.withLock {
            var summary = summary
            for uplink in $0.uplinks { summary.outputs[uplink.name] = EventSummary.undelivered }
            $0.recentEvents = Array(($0.recentEvents + [summary]).suffix(Self.recentEventLimit))
            $0.latencies = Array(($0.latencies + [latency]).suffix(Self.latencyLimit))
        }
    }

    /// Lists the configured outputs, so status shows each from the start.
    public func uplinksConfigured(_ outputs: [(name: String, destination: String)]) {
        state.withLock { $0.uplinks = outputs.map { AgentStatus.UplinkStatus(name: $0.name, destination: $0.destination, state: "connecting") } }
    }

    public func uplinkChanged(_ status: UplinkOutputStatus) {
        let entry = AgentStatus.UplinkStatus(
            name: status.name, destination: status.destination,
            state: status.isUp.map { $0 ? "up" : "down" } ?? "connecting", downReason: status.downReason,
            trackDelivered: status.backlog?.trackDelivered, eventDelivered: status.backlog?.eventDelivered,
            trackPending: status.backlog?.trackPending, eventPending: status.backlog?.eventPending,
            deadLetters: status.backlog?.deadLetters)
        state.withLock { state in
            if let index = state.uplinks.firstIndex(where: { $0.name == status.name }) { state.uplinks[index] = entry }
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
            for index in state.recentEvents.indices where state.recentEvents[index].sequence == sequence {
                state.recentEvents[index].record(delivery, output: output)
            }
        }
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
            statusIntervalSeconds: interval, gpsSource: gpsSource, gpsState: s.gpsState.label, gpsDownReason: s.gpsState.downReason,
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
