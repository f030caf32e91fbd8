/// Delays between reconnection attempts: doubling from the lower bound up to the upper one.
///
/// A lost gpsd is usually back within a second (a restart), but may be gone for hours (the
/// receiver's car is parked); doubling reconnects quickly after a restart without hammering
/// localhost during a long outage.
struct Backoff {
    let range: ClosedRange<Duration>
    private var current: Duration

    init(_ range: ClosedRange<Duration>) {
        self.range = range
        current = range.lowerBound
    }

    /// The delay before the next attempt; each call doubles the following one, up to the cap.
    mutating func next() -> Duration {
        defer { current = min(current * 2, range.upperBound) }
        return current
    }

    /// Starts again from the lower bound, after a connection has worked.
    mutating func reset() {
        current = range.lowerBound
    }
}
