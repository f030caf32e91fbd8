import PatrolCore

/// Splits a decoded batch into the records to store and those refused for good (implausible values
/// a resend cannot fix), so one bad point does not hold back a day of good ones.
struct BatchCheck {
    var accepted: UplinkBatch
    /// Refused records as ranges: consecutive sequences of one stream refused for the same reason
    /// are one entry, so a batch of a million bad points is answered in a few bytes.
    private(set) var rejected: [RejectedRange] = []

    init(_ batch: UplinkBatch) {
        accepted = batch
        accepted.trackPoints = batch.trackPoints.filter { keep($0.problem, .track, $0.sequence) }
        accepted.events = batch.events.filter { keep($0.problem, .event, $0.sequence) }
    }

    private mutating func keep(_ problem: String?, _ stream: UplinkStream, _ sequence: UInt64) -> Bool {
        guard let problem else { return true }
        if let last = rejected.last, last.stream == stream, last.reason == problem, last.last != .max, sequence == last.last + 1 {
            rejected[rejected.count - 1].last = sequence
        } else {
            rejected.append(RejectedRange(stream: stream, first: sequence, last: sequence, reason: problem))
        }
        return false
    }

    /// Accepted sequences per stream as inclusive ranges; a 24-hour backlog is one range.
    var acceptedRanges: [String: [[UInt64]]] {
        [UplinkStream.track.rawValue: Self.ranges(accepted.trackPoints.map(\.sequence)),
         UplinkStream.event.rawValue: Self.ranges(accepted.events.map(\.sequence)),
         UplinkStream.heartbeat.rawValue: Self.ranges(accepted.heartbeats.map(\.sequence))]
    }

    static func ranges(_ sequences: [UInt64]) -> [[UInt64]] {
        var ranges: [[UInt64]] = []
        for sequence in sequences.sorted() {
            if let last = ranges.last?[1], sequence <= last &+ 1, sequence >= last {
                ranges[ranges.count - 1][1] = sequence
            } else {
                ranges.append([sequence, sequence])
            }
        }
        return ranges
    }
}
