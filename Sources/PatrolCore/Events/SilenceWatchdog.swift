/// A change reported by a ``SilenceWatchdog``.
public enum SilenceTransition: Sendable, Equatable {
    /// Nothing was heard for longer than the limit; `at` is when the limit ran out.
    case silent(at: Int64)
    /// Heard again after being reported silent.
    case heardAgain(at: Int64)
}

/// Reports once when something that should speak regularly (a button box's heartbeat, the GPS)
/// has been quiet for longer than a limit, and once when it speaks again.
///
/// One fault and one restore per outage, never one per check, so the centre is not flooded while
/// a cable is unplugged. Times are monotonic milliseconds.
public struct SilenceWatchdog: Sendable, Equatable {
    public let limitMilliseconds: Int64
    public private(set) var lastHeardAt: Int64
    public private(set) var isSilent = false

    /// - Parameter startedAt: counts as the first "heard", so a source that never speaks is
    ///   reported one limit after start.
    public init(limitMilliseconds: Int64, startedAt: Int64) {
        self.limitMilliseconds = limitMilliseconds
        self.lastHeardAt = startedAt
    }

    /// When ``check(at:)`` will next have something to report; nil while already reported silent.
    public var nextDeadline: Int64? {
        isSilent ? nil : lastHeardAt + limitMilliseconds
    }

    /// Records a sign of life. Reports the end of an outage; a late check first reports the outage
    /// that ran out before this sign of life, so neither half is lost.
    public mutating func heard(at now: Int64) -> [SilenceTransition] {
        var transitions = check(at: now, excludingEnd: true)
        lastHeardAt = now
        if isSilent {
            isSilent = false
            transitions.append(.heardAgain(at: now))
        }
        return transitions
    }

    /// Reports the outage once the limit has run out.
    public mutating func check(at now: Int64) -> [SilenceTransition] {
        check(at: now, excludingEnd: false)
    }

    private mutating func check(at now: Int64, excludingEnd: Bool) -> [SilenceTransition] {
        guard let deadline = nextDeadline else { return [] }
        guard excludingEnd ? now > deadline : now >= deadline else { return [] }
        isSilent = true
        return [.silent(at: deadline)]
    }
}
