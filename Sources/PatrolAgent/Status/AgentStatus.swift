import PatrolCore

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
    /// "running" or "stopped" (written on a clean shutdown).
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
}
