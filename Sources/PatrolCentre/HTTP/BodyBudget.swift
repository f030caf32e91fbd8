import Synchronization

/// How many request-body bytes all connections together may hold in memory at once. A body is
/// read only once its size is reserved here; when the budget is spent the request is refused with
/// 503 and Retry-After, instead of being buffered. Bodies up to `freeBytes` (any batch of alarms)
/// need no reservation, so a flood of large bodies never holds back an alarm; the connection limit
/// bounds those small ones together.
final class BodyBudget: Sendable {
    /// Bodies this small are read without a reservation.
    static let freeBytes = 16 << 10

    let totalBytes: Int
    private let reserved = Mutex(0)

    init(totalBytes: Int) {
        self.totalBytes = totalBytes
    }

    /// Reserves `bytes`; false when they do not fit. Pair a true with `release`.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > Self.freeBytes else { return true }
        return reserved.withLock { reserved in
            guard bytes <= totalBytes - reserved else { return false }
            reserved += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        guard bytes > Self.freeBytes else { return }
        reserved.withLock { $0 -= bytes }
    }
}
