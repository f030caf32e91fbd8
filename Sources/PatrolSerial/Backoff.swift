/// Delays between reconnection attempts: doubling from the lower bound up to the upper one.
///
/// A re-plugged receiver is usually back within seconds, but an unplugged one may be gone for
/// hours; doubling reopens quickly after a reseated plug without retrying open(2) every
/// half second all day.
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
