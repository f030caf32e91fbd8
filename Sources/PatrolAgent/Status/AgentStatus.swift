import PatrolCore
import PatrolStore

/// What the running agent publishes about itself in `<runtime_dir>/status.json`, read by
/// `patrol-agent status`. Ages are kept as CLOCK_BOOTTIME stamps, which every process shares,
/// so a wrong wall clock cannot make a fresh fix look old.
public struct AgentStatus: Codable, Sendable, Equatable {
    public struct LastFix: Codable, Sendable, Equatable {
        public var time: String?
        public var mode: Int
        public var lat: Double?
        public var lon: Double?
        public var speed: Double?
        /// CLOCK_BOOTTIME milliseconds when the fix arrived.
        public var receivedAtMonotonicMs: Int64
    }

    public var deviceID: String
    public var pid: Int32
    /// "starting", "running" or "stopped" (written on a clean shutdown).
    public var state: String
    public var startedAtMonotonicMs: Int64
    public var updatedAtMonotonicMs: Int64
    public var statusIntervalSeconds: Double
    public var gpsSource: String
    /// connecting / connected / down
    public var gpsState: String
    public var gpsDownReason: String?
    public var lastFix: LastFix?
    public var clockTrusted: Bool
    public var clock: String
    public var fixesAccepted: Int
    /// Dropped fixes by reason (FixRejection raw values).
    public var fixesDropped: [String: Int]
    public var pointsRecorded: Int
    public var pointsPendingCommit: Int
    /// What the store holds, as the running agent sees it.
    public var store: StoreSummary?
    /// Each button port, button box and tag reader, in configuration order.
    public var inputs: [InputStatus] = []
    /// The last events stored since start, oldest first.
    public var recentEvents: [EventSummary] = []
    /// Edge → committed (fsync'ed) for the last events stored, when any.
    public var eventLatency: LatencySummary?
    /// Each `[[uplink]]` output, in configuration order.
    public var uplinks: [UplinkStatus] = []
    /// When the configuration running was loaded: at the start, or by the last reload applied.
    public var configLoadedAtMonotonicMs: Int64?
    /// Why the last reload (SIGHUP) was refused, and when; nil when none was since the last applied.
    public var reloadRefused: String?
    public var reloadRefusedAtMonotonicMs: Int64?

    /// One output: whether its link works, how far it delivered, what is left, what was refused.
    public struct UplinkStatus: Codable, Sendable, Equatable {
        public var name: String
        public var destination: String
        /// connecting / up / down
        public var state: String
        public var downReason: String?
        public var trackDelivered: Int64?
        public var eventDelivered: Int64?
        public var trackPending: Int64?
        public var eventPending: Int64?
        /// Records the receiver refused for good (kept in the store's dead_letter table).
        public var deadLetters: Int64?
        /// The receiver's last text messages for the crew (a JT/T 808 platform's 0x8300), oldest
        /// first; nil when none came (and in status files of agents before them).
        public var messages: [MessageSummary]?
    }

    /// A text message from a receiver and when it arrived (ISO 8601, UTC).
    public struct MessageSummary: Codable, Sendable, Equatable {
        public var time: String
        public var text: String
    }

    public struct InputStatus: Codable, Sendable, Equatable {
        public var name: String
        /// connecting / connected / down
        public var state: String
        public var downReason: String?
    }

    /// Milliseconds from the moment an event's condition was met to its commit.
    public struct LatencySummary: Codable, Sendable, Equatable {
        public var count: Int
        public var p50Ms: Int64
        public var maxMs: Int64
        public var lastMs: Int64

        /// Nil for no samples.
        init?(_ samples: [Int64]) {
            guard let last = samples.last else { return nil }
            let sorted = samples.sorted()
            count = samples.count
            p50Ms = sorted[sorted.count / 2]
            maxMs = sorted[sorted.count - 1]
            lastMs = last
        }
    }

    public struct StoreSummary: Codable, Sendable, Equatable {
        public var path: String
        public var pointsStored: Int64
        public var firstPoint: String?
        public var lastPoint: String?
        public var eventsStored: Int64
        public var databaseBytes: Int64
        /// Retention deletions by kind, e.g. `track.size.delivered`.
        public var deletions: [String: Int64]
        public var corruptionRecoveries: Int64
        public var emptyStoreRecoveries: Int64
        public var salvagedEvents: Int64
        public var salvagedTrackPoints: Int64
        /// What the last recovery of the store found and did; nil when there was none.
        public var lastRecovery: String?

        public init(_ statistics: StoreStatistics) {
            path = statistics.path
            pointsStored = statistics.pointsStored
            firstPoint = statistics.firstPointTime?.iso8601
            lastPoint = statistics.lastPointTime?.iso8601
            eventsStored = statistics.eventsStored
            databaseBytes = statistics.databaseBytes
            deletions = Dictionary(uniqueKeysWithValues: statistics.deletions.map { ($0.key.description, $0.value) })
            corruptionRecoveries = statistics.corruptionRecoveries
            emptyStoreRecoveries = statistics.emptyStoreRecoveries
            salvagedEvents = statistics.salvagedEvents
            salvagedTrackPoints = statistics.salvagedTrackPoints
            lastRecovery = statistics.lastRecovery
        }
    }
}
