/// Capped exponential backoff with full jitter: after the n-th failure in a row wait a uniformly
/// random time in `0...min(cap, base · 2ⁿ⁻¹)`. The jitter spreads a fleet's reconnects after a
/// centre outage, so hundreds of cars do not retry in the same second.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    public private(set) var failures = 0

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(60)) {
        self.base = base
        self.cap = cap
    }

    /// Counts a failure and returns how long to wait before the next attempt.
    public mutating func failed<Random: RandomNumberGenerator>(using random: inout Random) -> Duration {
        failures += 1
        let ceiling = min(cap, base * (1 << min(failures - 1, 30)))
        let milliseconds = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(Int64.random(in: 0...max(0, milliseconds), using: &random))
    }

    public mutating func succeeded() {
        failures = 0
    }
}
