/// Whether the running agent's pipeline is doing its work, judged from what its parts last did.
/// The systemd watchdog is petted only while it is, so a hung agent is restarted, and an idle one
/// is not: nothing waiting is never stuck.
///
/// Stuck means: track points have waited for a commit longer than a few commit windows (commits
/// fail or hang); an event has waited for its commit too long (the journal retries every second,
/// keeping it in memory); an uplink runner has not finished a round for longer than its slowest
/// honest round (a heartbeat, the request timeout and the longest backoff wait). A part that hangs
/// so hard it cannot even be asked stops the pets too: `SupervisionService` asks it first.
public struct PipelineWatch: Sendable {
    public struct Limits: Sendable {
        /// Milliseconds track points may wait for their commit.
        public var trackCommit: Int64
        /// Milliseconds an event may wait for its commit.
        public var eventCommit: Int64
        /// Milliseconds each uplink runner (by output name) may go without finishing a round.
        public var uplinkRound: [String: Int64]

        public init(trackCommit: Int64, eventCommit: Int64, uplinkRound: [String: Int64]) {
            self.trackCommit = trackCommit
            self.eventCommit = eventCommit
            self.uplinkRound = uplinkRound
        }
    }

    /// What the parts reported, in monotonic milliseconds.
    public struct Observation: Sendable {
        public var now: Int64
        public var trackPointsWaiting: Int
        public var lastTrackCommitAt: Int64?
        /// When the oldest event not yet committed was detected; nil when all are stored.
        public var oldestUnstoredEventAt: Int64?
        /// When each uplink runner last finished a round (sent, failed or refused).
        public var uplinkRoundAt: [String: Int64]

        public init(now: Int64, trackPointsWaiting: Int, lastTrackCommitAt: Int64?, oldestUnstoredEventAt: Int64?,
                    uplinkRoundAt: [String: Int64]) {
            self.now = now
            self.trackPointsWaiting = trackPointsWaiting
            self.lastTrackCommitAt = lastTrackCommitAt
            self.oldestUnstoredEventAt = oldestUnstoredEventAt
            self.uplinkRoundAt = uplinkRoundAt
        }
    }

    /// A reload may change them (the uplinks configured).
    public var limits: Limits
    /// The parts have had their chance since then (an uplink that never reported yet).
    public let startedAt: Int64
    /// Since when the track points now waiting have waited, as far as this watch has seen.
    private var trackWaitingSince: Int64?

    public init(limits: Limits, startedAt: Int64) {
        self.limits = limits
        self.startedAt = startedAt
    }

    /// nil while the pipeline is alive, else what is stuck, in words for the log.
    public mutating func judge(_ seen: Observation) -> String? {
        if seen.trackPointsWaiting == 0 {
            trackWaitingSince = nil
        } else {
            // Every commit takes all points waiting: those waiting now came after the last one.
            var since = trackWaitingSince ?? seen.now
            if let commit = seen.lastTrackCommitAt, commit > since { since = commit }
            trackWaitingSince = since
        }
        var stuck: [String] = []
        if let since = trackWaitingSince, seen.now - since > limits.trackCommit {
            stuck.append("\(seen.trackPointsWaiting) track points have waited \(seconds(seen.now - since)) for a commit")
        }
        if let detected = seen.oldestUnstoredEventAt, seen.now - detected > limits.eventCommit {
            stuck.append("an event has waited \(seconds(seen.now - detected)) for its commit")
        }
        for (name, limit) in limits.uplinkRound.sorted(by: { $0.key < $1.key }) {
            let last = seen.uplinkRoundAt[name] ?? startedAt
            if seen.now - last > limit { stuck.append("uplink \(name) has not finished a round for \(seconds(seen.now - last))") }
        }
        return stuck.isEmpty ? nil : stuck.joined(separator: "; ")
    }

    private func seconds(_ milliseconds: Int64) -> String { "\(milliseconds / 1000) s" }
}
